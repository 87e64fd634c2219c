"""Training-loop efficiency: the bare training step beside the loader alone and the full fastai loop, in one run.

    python bench/bench_train_loop.py                          # CUDA if there is one, else the CPU; reference CNN and
                                                              # resnet18, batch 256 and 512, 32,768 training patches
    python bench/bench_train_loop.py --n-train 2048 --steps 3 # a short CPU run (the docs' table)
    python bench/bench_train_loop.py --name bench_train_loop_cuda --min-ratio 0.8   # the GPU check: exit 1 below 0.8

For each model and batch size, on one device, side by side:
- the bare training step on a resident batch (Adam with L2 1e-4, BCE on one logit): fp32, bf16 autocast, bf16 +
  channels-last, and bf16 + channels-last with fastai's `Adam` instead of torch's (the optimizer `make_learner` uses);
- the loader alone: `make_dls` over synthetic PCam-layout h5 files (`pcam_xai.data.synth.write_synth_pcam`, contiguous
  like PCam) with dihedral `batch_tfms` and dataset normalisation, one training epoch, images/s;
- the full loop: `make_dls` + `make_learner(precision='bf16')` + `fit`, the second epoch timed (no progress bar, no
  checkpoint writes), images/s over the training and validation items of the epoch (as in the shared measurements);
- the ratio full loop / bare bf16 + channels-last step (goal on CUDA: at least 0.8).
"""
import argparse, os, platform, tempfile, time
from pathlib import Path
import torch
from fastai.optimizer import Adam as FastaiAdam
from pcam_xai.data.synth import write_synth_pcam
from pcam_xai.data.pcam import PCam
from pcam_xai.data.core import make_dls
from pcam_xai.models import create_model
from pcam_xai.preprocessing import dihedral_tfms
from pcam_xai.training import make_learner

BARE = {'fp32': (False, False, 'torch'), 'bf16': (True, False, 'torch'), 'bf16 + CL': (True, True, 'torch'),
        'bf16 + CL, fastai Adam': (True, True, 'fastai')}

def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()

def device_name(dev) -> str:
    "The GPU's name, or the CPU's model name and core count."
    if dev.type == 'cuda': return torch.cuda.get_device_name(dev)
    try: name = next(l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines()
                     if l.startswith('model name'))
    except (OSError, StopIteration): name = platform.processor() or platform.machine()
    return f"{name}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"

def bare_step(arch, bs, dev, bf16, cl, opt='torch', steps=20, warmup=3, size=96) -> float:
    "Images/s of the training step alone on a batch already on `dev`."
    torch.manual_seed(0)
    model = create_model(arch, n_out=1).to(dev).train()
    x, y = torch.rand(bs, 3, size, size, device=dev), torch.randint(0, 2, (bs,), device=dev).float()
    if cl: model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    o = (torch.optim.Adam(model.parameters(), 1e-3, weight_decay=1e-4) if opt == 'torch'
         else FastaiAdam(list(model.parameters()), lr=1e-3, wd=1e-4, decouple_wd=False))
    def step():
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x).float().reshape(-1), y)
        loss.backward(); o.step(); o.zero_grad()
    for _ in range(warmup): step()
    sync(dev); t = time.perf_counter()
    for _ in range(steps): step()
    sync(dev)
    return steps * bs / (time.perf_counter() - t)

def loaders(root, bs, dev):
    "The loaders `train_and_evaluate` builds for PCam: dihedral augmentation, dataset normalisation."
    return make_dls(PCam(root, 'train'), PCam(root, 'valid'), bs=bs, batch_tfms=dihedral_tfms(), normalize='dataset',
                    device=dev, seed=0)

def loader_alone(root, bs, dev) -> float:
    "Images/s of one training epoch of the loader (read, copy, augment, normalise), the second one timed."
    dls = loaders(root, bs, dev)
    for _ in dls.train: pass
    sync(dev); t, n = time.perf_counter(), 0
    for xb, _ in dls.train: n += len(xb)
    sync(dev)
    return n / (time.perf_counter() - t)

def full_loop(root, arch, bs, dev, precision='bf16') -> float:
    "Images/s (training + validation items) of the second epoch of `make_learner(...).fit`."
    dls = loaders(root, bs, dev)
    learn = make_learner(dls, arch, precision=precision)
    n = len(dls.train) * dls.train.bs + len(dls.valid.dataset)
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, 1e-3); sync(dev); t = time.perf_counter()
        learn.fit(1, 1e-3); sync(dev)
    return n / (time.perf_counter() - t)

def measure(root, arch, bs, dev, steps, warmup, repeats=1) -> dict:
    ("Every configuration of one model and batch size in images/s (the best of `repeats` interleaved rounds: on a "
     "shared machine other jobs only slow a run down), and the loop's ratio to the bare bf16 + CL step.")
    r = {}
    for _ in range(repeats):
        for k, v in BARE.items(): r[k] = max(r.get(k, 0), bare_step(arch, bs, dev, *v, steps=steps, warmup=warmup))
        r['loader'] = max(r.get('loader', 0), loader_alone(root, bs, dev))
        r['loop'] = max(r.get('loop', 0), full_loop(root, arch, bs, dev))
    r['ratio'] = r['loop'] / r['bf16 + CL']
    return r

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--archs', nargs='+', default=['reference_cnn', 'resnet18'])
    ap.add_argument('--bs', nargs='+', type=int, default=[256, 512])
    ap.add_argument('--n-train', type=int, default=32768, help="synthetic training patches (validation: 1/8)")
    ap.add_argument('--steps', type=int, default=20, help="timed bare steps (after --warmup)")
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--repeats', type=int, default=1, help="interleaved rounds; each number is the best round's")
    ap.add_argument('--device', default=None, help="default: cuda if available, else cpu")
    ap.add_argument('--name', default='bench_train_loop', help="results/<name>.json")
    ap.add_argument('--min-ratio', type=float, default=None, help="exit 1 if a loop/bare ratio is below this")
    a = ap.parse_args()
    dev = torch.device(a.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    n_valid = max(a.n_train // 8, 64)
    import fastai
    print(f"Device: {device_name(dev)} ({dev.type}); torch {torch.__version__}, fastai {fastai.__version__}; "
          f"{a.n_train:,} train + {n_valid:,} valid synthetic PCam patches (96×96, uncompressed h5); bare step: "
          f"{a.steps} steps after {a.warmup} warm-up; images/s, best of {a.repeats} interleaved round(s)\n",
          flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as root:
        write_synth_pcam(root, {'train': a.n_train, 'valid': n_valid, 'test': 64}, compression=None)
        print("| model | batch | bare fp32 | bare bf16 | bare bf16 + CL | bare bf16 + CL, fastai Adam | loader alone "
              "| full loop (bf16) | loop / bare bf16 + CL |", flush=True)
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
        for arch in a.archs:
            for bs in a.bs:
                r = measure(root, arch, bs, dev, a.steps, a.warmup, a.repeats)
                rows.append(dict(arch=arch, bs=bs, **{k: round(v, 3) for k, v in r.items()}))
                print(f"| {arch} | {bs} | " + ' | '.join(f"{r[k]:,.0f}" for k in list(BARE) + ['loader', 'loop'])
                      + f" | {r['ratio']:.2f} |", flush=True)
    bad = [r for r in rows if a.min_ratio is not None and r['ratio'] < a.min_ratio]
    return dict(device=device_name(dev), device_type=dev.type, n_train=a.n_train, n_valid=n_valid, repeats=a.repeats,
                rows=rows,
                min_ratio=a.min_ratio, failed=[f"{r['arch']} bs {r['bs']}: {r['ratio']:.2f}" for r in bad]), a.name

if __name__ == '__main__':
    import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from _results import capture, save_results   # the printed table goes to results/<name>.json
    capture(); res, name = main(); save_results(name, **res)
    if res['failed']: print(f"below --min-ratio {res['min_ratio']}: {', '.join(res['failed'])}"); sys.exit(1)
