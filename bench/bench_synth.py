"""Speed of `pcam_xai.data.synth.synth_patches`, against the cheapest ways of getting the same number of patches.

There is no other histology generator to compare with, so the peers are what a test or a benchmark would otherwise
use, measured side by side in this one run, on one core (BLAS limited to one thread, CPU time of this process):

- `numpy random bytes`: `rng.integers(0, 256, (n, 96, 96, 3), uint8)`, the floor (noise, no structure, no labels);
- `h5py read, gzip sample`: reading n real patches from the shared PCam sample (gzip, one chunk per patch), when
  `PCAM_XAI_DATA` is set, cycling over its 4000 training patches.

Prints a markdown table of patches/s and the ratio of each row to `synth_patches`.

    PCAM_XAI_DATA=../shared/data python bench/bench_synth.py --n 20000
"""
from __future__ import annotations
import argparse, os, time, platform
from pathlib import Path
import numpy as np

def cpu_rate(f, n:int, repeat:int=3) -> float:
    "Best patches/s (CPU time of this process) of `f()` producing n patches, over `repeat` runs."
    best = float('inf')
    for _ in range(repeat):
        t = time.process_time(); f(); best = min(best, time.process_time() - t)
    return n / best

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=20000, help='patches per run')
    p.add_argument('--repeat', type=int, default=3)
    a = p.parse_args()
    from threadpoolctl import threadpool_limits
    from pcam_xai.data.synth import synth_patches
    rows = []
    with threadpool_limits(1, user_api='blas'):
        synth_patches(256)  # warm up
        rows.append(('pcam_xai synth_patches (96×96, labels, masks)',
                     cpu_rate(lambda: synth_patches(a.n, seed=1), a.n, a.repeat)))
        rng = np.random.default_rng(0)
        rows.append(('numpy random bytes',
                     cpu_rate(lambda: rng.integers(0, 256, (a.n, 96, 96, 3), dtype=np.uint8), a.n, a.repeat)))
        data = os.environ.get('PCAM_XAI_DATA')
        if data and (Path(data)/'pcam'/'camelyonpatch_level_2_split_train_x.h5').exists():
            import h5py
            def read():
                with h5py.File(Path(data)/'pcam'/'camelyonpatch_level_2_split_train_x.h5') as f:
                    x, N, got = f['x'], f['x'].shape[0], 0
                    while got < a.n:
                        k = min(1000, N, a.n - got); x[:k]; got += k
            rows.append(('h5py read, gzip sample (real PCam patches)', cpu_rate(read, a.n, a.repeat)))
    ref = rows[0][1]
    print(f"n={a.n}, best of {a.repeat}, CPU time, one BLAS thread; {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}, numpy {np.__version__}\n")
    print('| method | patches/s | ratio to synth_patches |\n|---|---|---|')
    for name, r in rows: print(f'| {name} | {r:,.0f} | {r / ref:.2f} |')

if __name__ == '__main__':
    import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from _results import capture, save_results   # the printed table goes to results/bench_synth.json
    capture(); main(); save_results('bench_synth')
