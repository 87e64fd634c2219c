"""Throughput of PCam readers: `pcam_xai.data.pcam.PCam` vs torchvision's `datasets.PCAM` and a raw h5py block read.

Generates PCam-layout files (exact official names) of `--n` training patches in a temporary folder, twice: contiguous
and uncompressed like the published PCam files, and gzip-chunked with one chunk per patch like the shared sample. Then
measures patches/s of each reader, side by side in this one run, on a warm page cache:

- raw h5py contiguous block read (`x[i:i+bs]` in file order): the upper bound;
- one process: torchvision `PCAM[i]` (PIL image) vs our `PCam[i]` (uint8 tensor), `read_many` batches and `in_memory`;
- torch `DataLoader` with `--workers` workers, uint8 batches: torchvision + `PILToTensor` vs our `PCam`;
- batched float tensors: torch `DataLoader` over torchvision + `ToTensor` vs fastai `pcam_dls` (normalised), with 0
  and `--workers` workers.

Random (shuffled) order everywhere except the raw read. Prints a markdown table with ratios against the torchvision
peer of each row and against the raw read. The temporary folder is deleted at the end.

    python bench/bench_loader.py --n 20000
"""
from __future__ import annotations
import argparse, os, shutil, sys, tempfile, time, datetime, platform
from pathlib import Path
import numpy as np
import h5py
import torch

def make_patches(n:int, seed:int=0, size:int=96):
    "n synthetic H&E-like patches (pcam_xai.data.synth when available, else random bytes) and labels."
    try:
        from pcam_xai.data.synth import synth_patches
        x, y, _ = synth_patches(n, size=size, seed=seed)
        return x, np.asarray(y), 'pcam_xai.data.synth.synth_patches'
    except ImportError:
        rng = np.random.default_rng(seed)
        return rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8), rng.integers(0, 2, n), 'random bytes'

def write_split(folder:Path, split:str, x, y, gzip:bool):
    "Write one split with the official names; x contiguous (gzip=False) or gzip-chunked one patch per chunk."
    from pcam_xai.data.pcam import pcam_files
    folder.mkdir(parents=True, exist_ok=True)
    xn, yn = pcam_files(split)
    with h5py.File(folder/xn, 'w') as f:
        kw = dict(chunks=(1, *x.shape[1:]), compression='gzip') if gzip else {}
        f.create_dataset('x', data=x, **kw)
    with h5py.File(folder/yn, 'w') as f: f.create_dataset('y', data=np.asarray(y, np.uint8).reshape(-1, 1, 1, 1))

def rate(steps, seconds:float) -> float:
    "Patches/s of an iterator yielding patch counts; the first step is warm-up, then it runs for about `seconds`."
    it = iter(steps)
    next(it, None)
    done, t0 = 0, time.perf_counter()
    for k in it:
        done += k
        if time.perf_counter() - t0 >= seconds: break
    dt = time.perf_counter() - t0
    return done / dt if dt > 0 else float('nan')

def epochs(n:int, seed:int=0):
    "Endless shuffled epochs of indices."
    rng = np.random.default_rng(seed)
    while True: yield from rng.permutation(n).tolist()

def batches(n:int, bs:int, seed:int=0):
    "Endless shuffled index batches."
    it = epochs(n, seed)
    while True: yield [next(it) for _ in range(bs)]

def per_item(ds, n):
    for i in epochs(n): ds[i]; yield 1

def many(ds, n, bs):
    for b in batches(n, bs): ds.read_many(b); yield bs

def raw_blocks(path:Path, bs:int):
    "Contiguous slices in file order through h5py, one open file."
    with h5py.File(path, 'r') as f:
        x = f['x']; n = len(x)
        while True:
            for i in range(0, n - bs + 1, bs): x[i:i + bs]; yield bs

def loader(make, *args):
    "Batches of successive epochs of the DataLoader built by `make`."
    dl = make(*args)
    while True:
        for xb, _ in dl: yield len(xb)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=20000, help='training patches to generate (default 20000)')
    p.add_argument('--bs', type=int, default=64, help='batch size (default 64)')
    p.add_argument('--workers', type=int, default=2, help='DataLoader workers for the multi-process rows (default 2)')
    p.add_argument('--seconds', type=float, default=3.0, help='measuring time per row (default 3)')
    p.add_argument('--threads', type=int, default=1, help='torch intra-op threads, for every reader alike (default 1: '
                   'on a small shared machine more threads only add noise)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--tmpdir', default=None, help='where to create the temporary folder (default: system temp)')
    a = p.parse_args(argv)
    if a.n < 4 * a.bs: p.error(f'--n must be at least 4 * --bs ({4 * a.bs})')
    torch.set_num_threads(a.threads)

    import torchvision
    from torchvision import transforms as T
    from pcam_xai.data.pcam import PCam, pcam_dls, pcam_files

    tmp = Path(tempfile.mkdtemp(prefix='bench_loader_', dir=a.tmpdir))
    try:
        t0 = time.perf_counter()
        x, y, src = make_patches(a.n, a.seed)
        xv, yv = x[:max(a.bs * 4, 256)], y[:max(a.bs * 4, 256)]
        for layout in ('contiguous', 'gzip'):
            for split, xs, ys in (('train', x, y), ('valid', xv, yv), ('test', xv, yv)):
                write_split(tmp/layout/'pcam', split, xs, ys, gzip=layout == 'gzip')
        del x
        print(f'generated {a.n} patches ({src}) in both layouts in {time.perf_counter() - t0:.0f} s', file=sys.stderr)

        n, bs, w, s = a.n, a.bs, a.workers, a.seconds
        DL = torch.utils.data.DataLoader
        def tv(root, tf=None): return torchvision.datasets.PCAM(root, 'train', transform=tf)
        def tdl(ds, nw):
            return DL(ds, batch_size=bs, shuffle=True, num_workers=nw, drop_last=True, persistent_workers=nw > 0)
        def fdl(root, nw):
            return pcam_dls(root, bs=bs, normalize='imagenet', num_workers=nw, device='cpu', seed=0).train
        rows = {}  # name -> {layout: patches/s}
        def put(name, layout, v):
            rows.setdefault(name, {})[layout] = v
            print(f'  {layout:10s} {name:58s} {v:10,.{2 if "time" in name else 0}f}', file=sys.stderr)
        for layout in ('contiguous', 'gzip'):
            root = tmp/layout
            put('raw h5py block read (file order)', layout, rate(raw_blocks(root/'pcam'/pcam_files('train')[0], bs), s))
            put('torchvision PCAM[i] (PIL)', layout, rate(per_item(tv(root), n), s))
            put('PCam[i] (uint8 tensor)', layout, rate(per_item(PCam(root), n), s))
            put(f'PCam.read_many, batches of {bs}', layout, rate(many(PCam(root), n, bs), s))
            t1 = time.perf_counter(); mem = PCam(root, in_memory=True); load = time.perf_counter() - t1
            put(f'PCam(in_memory=True).read_many, batches of {bs}', layout, rate(many(mem, n, bs), s))
            put('PCam(in_memory=True) load time, s', layout, load); del mem
            put(f'torchvision PCAM + PILToTensor, DataLoader {w} workers', layout,
                rate(loader(tdl, tv(root, T.PILToTensor()), w), s))
            put(f'PCam, DataLoader {w} workers', layout, rate(loader(tdl, PCam(root), w), s))
            for nw in (0, w):
                put(f'float: torchvision PCAM + ToTensor, DataLoader {nw} workers', layout,
                    rate(loader(tdl, tv(root, T.ToTensor()), nw), s))
                put(f'float: fastai pcam_dls (normalised), {nw} workers', layout, rate(loader(fdl, root, nw), s))
    finally: shutil.rmtree(tmp, ignore_errors=True)

    peer = {'PCam[i] (uint8 tensor)': 'torchvision PCAM[i] (PIL)',
            f'PCam.read_many, batches of {bs}': 'torchvision PCAM[i] (PIL)',
            f'PCam(in_memory=True).read_many, batches of {bs}': 'torchvision PCAM[i] (PIL)',
            f'PCam, DataLoader {w} workers': f'torchvision PCAM + PILToTensor, DataLoader {w} workers',
            **{f'float: fastai pcam_dls (normalised), {nw} workers':
                   f'float: torchvision PCAM + ToTensor, DataLoader {nw} workers' for nw in (0, w)}}
    raw = 'raw h5py block read (file order)'
    la = os.getloadavg()
    print(f'\n`python bench/bench_loader.py --n {a.n} --bs {bs} --workers {w} --seconds {s} --threads {a.threads}` '
          f'({datetime.date.today()}, {os.cpu_count()} CPUs, load average {la[0]:.1f}, {src}, '
          f'torch {torch.__version__}, torchvision {torchvision.__version__}, h5py {h5py.__version__}, '
          f'Python {platform.python_version()})\n')
    print('| reader | contiguous, patches/s | × torchvision | ÷ raw | gzip-chunked, patches/s | × torchvision |')
    print('|---|---:|---:|---:|---:|---:|')
    for name, v in rows.items():
        if name.endswith('load time, s'):
            print(f"| {name} | {v['contiguous']:.3g} s | | | {v['gzip']:.3g} s | |"); continue
        cells = []
        for layout in ('contiguous', 'gzip'):
            cells.append(f'{v[layout]:,.0f}')
            cells.append(f"{v[layout] / rows[peer[name]][layout]:.1f}×" if name in peer else '')
            if layout == 'contiguous': cells.append(f"{rows[raw][layout] / v[layout]:.2f}" if name != raw else '1')
        print(f"| {name} | " + ' | '.join(cells) + ' |')

if __name__ == '__main__':
    import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from _results import capture, save_results   # the printed table goes to results/bench_loader.json
    capture(); main(); save_results('bench_loader')
