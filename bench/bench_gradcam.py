"""Batched Grad-CAM throughput: `pcam_xai.explain` vs pytorch-grad-cam side by side, same model, layer, batch, targets.

For each model (the reference CNN at `features.2`, a timm resnet18 at `layer4`; random weights, `pretrained=False`) both
libraries explain the same `--batch` patches of 96×96 (one forward and one backward per batch for each) with the same
single-logit target (the logit, class 'metastatic'; pytorch-grad-cam gets a callable returning it). Runs alternate
(ours, theirs, ours, ...) `--repeats` times after one warm-up each; the table gives the best wall-clock images/s of
each, the ratio ours / pytorch-grad-cam, the same ratio in CPU time of this process (less sensitive to other load on a
shared machine), and the worst per-image Pearson correlation between the two maps after min-max normalisation (must be
>= 0.999; maps that are zero everywhere in both count as equal). Construction of the explainer (hook registration) is
inside the timed call for both, as a user would call them. `--ablation` also times ours with autograd on in the layers
below the hook (`Hooks.forward` swapped for a plain forward pass) and reports the CPU-time gain of running them without.
`--also METHOD` times a second pcam_xai method (the default explanation) in the same alternation and reports its
images/s and its speed relative to pytorch-grad-cam's Grad-CAM (`--name` picks the results file).

    .venv/bin/python bench/bench_gradcam.py --batch 64 --repeats 5 --ablation
"""
from __future__ import annotations
import argparse, os, platform, time, warnings
warnings.filterwarnings('ignore', category=FutureWarning)
import numpy as np
import torch

def load_patches(n:int, data:str|None):
    "n float patches in [0, 1] (B×3×96×96): PCam test split when data is found, else synthetic H&E."
    root = data or os.environ.get('PCAM_XAI_DATA')
    if root:
        from pcam_xai.data.pcam import PCam
        ds = PCam(root, 'test')
        x, src = ds.read_many(np.arange(min(n, len(ds)))), f'PCam test split (first {min(n, len(ds))})'
    else:
        from pcam_xai.data.synth import synth_patches
        x, src = synth_patches(n, seed=0)[0], 'synthetic H&E patches (pcam_xai.data.synth)'
    from pcam_xai.data.core import images_to_tensor
    return images_to_tensor(x), src

class LogitTarget:
    "pytorch-grad-cam target: the single logit (class 1)."
    def __call__(self, row): return row[0]

def pearson_min(a:np.ndarray, b:np.ndarray) -> float:
    "Worst per-image Pearson correlation (1.0 where both maps are constant)."
    res = []
    for u, v in zip(a.reshape(len(a), -1).astype(np.float64), b.reshape(len(b), -1).astype(np.float64)):
        if u.std() == 0 or v.std() == 0: res.append(1.0 if u.std() == v.std() == 0 else 0.0)
        else: res.append(np.corrcoef(u, v)[0, 1])
    return float(min(res))

def timed(f):
    "(result, wall seconds, CPU seconds of this process) of one call of `f`."
    w, c = time.perf_counter(), time.process_time()
    r = f()
    return r, time.perf_counter() - w, time.process_time() - c

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--batch', type=int, default=64, help='patches per batch (one forward + one backward each)')
    p.add_argument('--repeats', type=int, default=5, help='alternating timed runs of each; the best is reported')
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    p.add_argument('--data', default=None, help='data root (default: $PCAM_XAI_DATA; synthetic patches without it)')
    p.add_argument('--models', default='reference_cnn,resnet18', help='comma-separated pcam_xai/timm model names')
    p.add_argument('--ablation', action='store_true', help='also time ours with autograd below the hooked layer')
    p.add_argument('--also', default=None,
                   help="also time this pcam_xai method (e.g. the default, 'gradcam+d8') in the same alternation")
    p.add_argument('--name', default='bench_gradcam', help='results/<name>.json')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    import pytorch_grad_cam as pgc
    from pcam_xai.models import create_model, default_cam_layer
    from pcam_xai.explain import get_explainer, find_layer, normalize_maps, Hooks
    no_grad_forward = Hooks.forward
    def autograd_forward(self, x):
        "Hooks.forward without its no_grad region: autograd records the layers below the hook too."
        self.acts, self.n_calls = None, 0
        return self.model(x)
    x, src = load_patches(a.batch, a.data)
    rows = []
    for name in a.models.split(','):
        torch.manual_seed(0)
        model = create_model(name, n_out=1, pretrained=False).eval()
        layer = default_cam_layer(model)
        module = find_layer(model, layer)[1]
        def ours(): return get_explainer(model, 'gradcam', layer=layer)(x, 1)
        def theirs():
            with pgc.GradCAM(model, [module]) as cam: return cam(x, [LogitTarget()] * len(x))
        mo, mt = ours(), theirs()                             # warm-up, and the maps to compare
        r = pearson_min(normalize_maps(mo).numpy(), mt)
        def ours_autograd():
            Hooks.forward = autograd_forward
            try: return ours()
            finally: Hooks.forward = no_grad_forward
        def also(): return get_explainer(model, a.also)(x, 1)
        runs = [('ours', ours), ('theirs', theirs)] + ([('autograd', ours_autograd)] if a.ablation else []) + \
               ([('also', also)] if a.also else [])
        if a.also: also()                                     # warm-up
        if a.ablation: assert torch.allclose(ours_autograd(), mo, atol=1e-5)
        best = {k: (np.inf, np.inf) for k, _ in runs}
        for _ in range(a.repeats):
            for k, f in runs:
                _, w, c = timed(f)
                best[k] = (min(best[k][0], w), min(best[k][1], c))
        rows.append(dict(model=name, layer=layer, ours=a.batch / best['ours'][0], theirs=a.batch / best['theirs'][0],
                         wall=best['theirs'][0] / best['ours'][0], cpu=best['theirs'][1] / best['ours'][1], r=r,
                         abl=best['autograd'][1] / best['ours'][1] if a.ablation else None,
                         also=a.batch / best['also'][0] if a.also else None,
                         also_ratio=best['theirs'][0] / best['also'][0] if a.also else None))
    print(f"Grad-CAM, batch {a.batch} × 3×96×96, {src}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}, best of {a.repeats}\n")
    extra = (" no-grad-below-layer gain (CPU) |", "---|") if a.ablation else ("", "")
    if a.also: extra = (extra[0] + f" {a.also} (img/s) | {a.also} vs pytorch-grad-cam Grad-CAM (wall) |",
                        extra[1] + "---|---|")
    print("| model | layer | ours (img/s) | pytorch-grad-cam (img/s) | speed-up (wall) | speed-up (CPU time) "
          "| min Pearson |" + extra[0])
    print("|---|---|---|---|---|---|---|" + extra[1])
    for r in rows:
        print(f"| {r['model']} | `{r['layer']}` | {r['ours']:.0f} | {r['theirs']:.0f} | {r['wall']:.1f}× "
              f"| {r['cpu']:.1f}× | {r['r']:.5f} |" + (f" {r['abl']:.2f}× |" if a.ablation else "") +
              (f" {r['also']:.0f} | {r['also_ratio']:.2f}× |" if a.also else ""))
    bad = [r['model'] for r in rows if r['r'] < 0.999]
    if bad: raise SystemExit(f"maps disagree with pytorch-grad-cam (Pearson < 0.999) for: {', '.join(bad)}")
    return a.name

if __name__ == '__main__':
    import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from _results import capture, save_results   # the printed table goes to results/bench_gradcam.json
    capture(); name = main(); save_results(name)
