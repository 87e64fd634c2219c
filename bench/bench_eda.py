"""Speed of the hand-written parts of `pcam_xai.eda_stats` against the usual way to do the same thing, side by side.

- `to_hed` (`rgb_to_hed` tabulated at the 256 levels of each channel, float32) against scikit-image's
  `skimage.color.rgb2hed` (float64 log per pixel);
  the maximum absolute difference of their outputs is printed too;
- `dhash` on a whole batch (area-averaging matrix products) against the `imagehash`-style dHash of one PIL image at a
  time (`convert('L').resize((hs+1, hs), LANCZOS)`, then comparisons), the way `imagehash.dhash` computes it; and
  `dhash` with `dihedral=True` (all 8 orientations).

Patches are the shared PCam sample's training patches when `PCAM_XAI_DATA` is set (or `--data DIR`), else synthetic ones
from `pcam_xai.data.synth`. Each measurement is the best of `--repeat` runs. Prints a markdown table.

    python bench/bench_eda.py --n 2000
"""
from __future__ import annotations
import argparse, os, platform, time
import numpy as np
from PIL import Image

def load_patches(n:int, data:str|None):
    "n patches (N×96×96×3 uint8) and where they came from."
    if data:
        from pcam_xai.data.pcam import PCam
        ds = PCam(data, split='train')
        n = min(n, len(ds))
        return ds.read_many(np.arange(n)), f"PCam sample, first {n} training patches"
    from pcam_xai.data.synth import synth_patches
    return synth_patches(n, seed=0)[0], f'{n} synthetic patches (pcam_xai.data.synth)'

def pil_dhash(x:np.ndarray, hs:int=8) -> np.ndarray:
    "imagehash's dHash of each image, one PIL image at a time: grey, resize to (hs+1)×hs, compare neighbours."
    out = np.empty((len(x), hs * hs), bool)
    for k, im in enumerate(x):
        small = Image.fromarray(im).convert('L').resize((hs + 1, hs), Image.Resampling.LANCZOS)
        g = np.asarray(small, dtype=np.float32)
        out[k] = (g[:, 1:] > g[:, :-1]).reshape(-1)
    return out

def best(f, repeat:int) -> float:
    ts = []
    for _ in range(repeat):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return min(ts)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=2000, help='patches')
    ap.add_argument('--repeat', type=int, default=3, help='runs per measurement (best is kept)')
    ap.add_argument('--data', default=os.environ.get('PCAM_XAI_DATA'),
                    help='data root with pcam/ (default: $PCAM_XAI_DATA)')
    a = ap.parse_args()
    from skimage.color import rgb2hed
    from pcam_xai.eda_stats import to_hed, dhash
    x, src = load_patches(a.n, a.data)
    n = len(x)
    chunk = 256   # what pcam_xai.eda_stats reads per read_many call
    def ours_hed():
        for s in range(0, n, chunk): to_hed(x[s:s + chunk])
    def sk_hed():
        for s in range(0, n, chunk): rgb2hed(x[s:s + chunk])
    diff = max(float(np.abs(to_hed(x[s:s + chunk]) - rgb2hed(x[s:s + chunk])).max()) for s in range(0, n, chunk))
    rows = []
    t_sk, t_ours = best(sk_hed, a.repeat), best(ours_hed, a.repeat)
    rows += [('skimage.color.rgb2hed', t_sk, 1.0), ('pcam_xai.eda_stats.to_hed', t_ours, t_sk / t_ours)]
    t_pil = best(lambda: pil_dhash(x), a.repeat)
    t_dh = best(lambda: [dhash(x[s:s + chunk]) for s in range(0, n, chunk)], a.repeat)
    t_dh8 = best(lambda: [dhash(x[s:s + chunk], dihedral=True) for s in range(0, n, chunk)], a.repeat)
    rows += [('dHash, one PIL image at a time (imagehash way)', t_pil, 1.0),
             ('pcam_xai.eda_stats.dhash (batch)', t_dh, t_pil / t_dh),
             ('pcam_xai.eda_stats.dhash (batch, dihedral: 8 hashes each)', t_dh8, t_pil / t_dh8)]
    print(f"{src}; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; best of {a.repeat}\n")
    print('| method | seconds | images/s | speed-up vs the row-group peer |\n|---|---|---|---|')
    for name, t, r in rows: print(f'| {name} | {t:.3f} | {n / t:,.0f} | {r:.1f}× |')
    print(f"\nmax |to_hed - rgb2hed| = {diff:.2e}")

if __name__ == '__main__':
    import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from _results import capture, save_results   # the printed table goes to results/bench_eda.json
    capture(); main(); save_results('bench_eda')
