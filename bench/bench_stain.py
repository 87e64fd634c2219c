"""Stain-normalisation throughput: `pcam_xai.preprocessing` (whole batches) vs torchstain (torch backend, per image).

Both normalisers are fitted on the same target patch, then normalise the same `--n` PCam patches (96×96, uint8, CPU):
ours as one B×3×H×W batch, torchstain one `C×H×W` image at a time (its `normalize` takes a single image), with the same
number of torch threads (1, then the torch default; `--threads`). Runs alternate (ours, torchstain, ours, ...)
`--repeat` times, side by side in this one run; the table reports the best wall-clock patches/s of each and the ratio
ours / torchstain, and the same ratio in CPU time of this process (less sensitive to other load on a shared machine).
torchstain raises on patches without tissue; those are skipped on its side and counted.

    PCAM_XAI_DATA=../shared/data python bench/bench_stain.py --n 256
"""
from __future__ import annotations
import argparse, os, time, platform, warnings
from pathlib import Path
warnings.filterwarnings('ignore', message='.*torch.jit.script', category=FutureWarning)
import numpy as np
import torch

def load_patches(n:int, data:str|None):
    "n PCam test patches (uint8 B×3×96×96) from the shared sample, else synthetic H&E-like ones."
    root = data or os.environ.get('PCAM_XAI_DATA')
    if root:
        import h5py
        from pcam_xai.core import find_data_root
        p = find_data_root(root, dataset='pcam')
        with h5py.File(p/'camelyonpatch_level_2_split_test_x.h5', 'r') as f:
            x = f['x'][:n]
        return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), f'PCam test split (first {len(x)})'
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(0)
    field = lambda k: F.interpolate(torch.rand(n, 1, k, k, generator=g), size=(96, 96), mode='bicubic',
                                    align_corners=False)
    h, e = torch.tensor([0.65, 0.70, 0.29]), torch.tensor([0.07, 0.99, 0.11])
    od = (field(4) > 0.35) * (1.6 * field(12).clamp(0, 1) * h[:, None, None] + field(6).clamp(0, 1) * e[:, None, None])
    return (255 * torch.exp(-od)).round().clamp(0, 255).to(torch.uint8), 'synthetic H&E-like patches'

def timed(f):
    "(wall seconds, CPU seconds of this process) of one call of `f`."
    w, c = time.perf_counter(), time.process_time()
    f()
    return time.perf_counter() - w, time.process_time() - c

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=256, help='patches per run (one batch for ours)')
    p.add_argument('--repeat', type=int, default=3, help='alternating runs of each; the best is reported')
    p.add_argument('--threads', type=int, nargs='+', default=[1, torch.get_num_threads()],
                   help='torch thread counts to measure (default: 1 and the torch default)')
    p.add_argument('--data', default=None, help='data root (default: $PCAM_XAI_DATA; synthetic patches without it)')
    a = p.parse_args()
    import torchstain
    from pcam_xai.preprocessing import MacenkoNormalizer, ReinhardNormalizer
    x, src = load_patches(a.n, a.data)
    target = x[0]
    rows = []
    for threads in dict.fromkeys(a.threads):
        torch.set_num_threads(threads)
        theirs = torchstain.normalizers
        pairs = {'Macenko': (MacenkoNormalizer().fit(target), theirs.MacenkoNormalizer(backend='torch')),
                 'Reinhard': (ReinhardNormalizer().fit(target), theirs.ReinhardNormalizer(backend='torch'))}
        for name, (ours, ts) in pairs.items():
            ts.fit(target)
            skipped = []
            def run_ts():
                skipped.clear()
                for i in range(len(x)):
                    try: ts.normalize(x[i], stains=False) if name == 'Macenko' else ts.normalize(x[i])
                    except Exception: skipped.append(i)
            ours(x[:8]); ts.normalize(x[0])  # warm-up
            o, t = [], []
            for _ in range(a.repeat):
                o.append(timed(lambda: ours(x))); t.append(timed(run_ts))
            (ow, oc), (tw, tc) = min(o), min(t)
            rows.append((name, threads, len(x) / ow, len(x) / tw, tw / ow, tc / oc, len(skipped)))
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    print(f"{len(x)} patches 96×96 uint8 ({src}), target patch 0; torch {torch.__version__}, {os.cpu_count()} CPUs "
          f"({platform.machine()}), load average {load:.2f} at the end, best of {a.repeat}\n")
    print('| normaliser | torch threads | ours, one batch (patches/s) | torchstain, per image (patches/s) '
          '| ratio (wall) | ratio (CPU time) | skipped by torchstain |')
    print('|---|---|---|---|---|---|---|')
    for name, th, ours_r, ts_r, ratio, cratio, sk in rows:
        print(f'| {name} | {th} | {ours_r:,.0f} | {ts_r:,.0f} | {ratio:.1f}× | {cratio:.1f}× | {sk} |')

if __name__ == '__main__':
    import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from _results import capture, save_results   # the printed table goes to results/bench_stain.json
    capture(); main(); save_results('bench_stain')
