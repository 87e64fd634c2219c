"""PCam explanation report: every method side by side (faithfulness, centre energy, randomisation, speed) and figures.

Takes `--n` patches of the PCam test split (half positive, half negative: the first ones of each class), a model
(a pcam_xai checkpoint; or, without one, `--train-quick`: a narrow reference CNN, `--widths 16,32,64`, trained from
scratch for `--train-seconds` on the training split with plain torch; or `--random-init`, untrained, as a floor),
and writes to `--out`:

- `compare_methods.csv` / `.md`: `pcam_xai.explain_metrics.compare_methods` (rows = methods),
- `randomization_gradcam.csv`: the layer-by-layer cascade randomisation check of Grad-CAM,
- `method_grid.png`: the same patches under each method, `explanations.png`: Grad-CAM overlays with predictions.

    PCAM_XAI_DATA=../shared/data .venv/bin/python bench/explain_report.py --train-quick --n 32 --out runs/explain_report
    .venv/bin/python bench/explain_report.py --checkpoint runs/ref/best.safetensors --data ../shared/data \\
        --out runs/report
"""
from __future__ import annotations
import argparse, io, os, time
from pathlib import Path
import numpy as np
import torch, torch.nn.functional as F

def load_model_from_checkpoint(path:str|Path):
    "A model taking [0, 1] images from a pcam_xai checkpoint (the training normalisation folded in)."
    from pcam_xai.checkpoint import Classifier
    clf = Classifier.load(path)
    return clf.net, f"checkpoint {Path(path).name} ({clf.arch})"

def train_quick(ds, seconds:float, seed:int=0, bs:int=64, lr:float=1e-3, widths=(16, 32, 64)):
    "The reference CNN (narrow `widths` by default, to learn in minutes on a CPU) trained from scratch on `ds`."
    from pcam_xai.models import create_model
    from pcam_xai.checkpoint import PixelSpace
    from pcam_xai.core import seed_everything
    from pcam_xai.data.core import images_to_tensor
    seed_everything(seed)
    idx = np.random.default_rng(seed).permutation(len(ds))
    sample = images_to_tensor(ds.read_many(np.sort(idx[:512])))
    mean, std = sample.mean((0, 2, 3)), sample.std((0, 2, 3))
    net = create_model('reference_cnn', n_out=1, widths=tuple(widths), attn_dim=min(128, widths[-1]))
    model = PixelSpace(net, mean, std)
    opt = torch.optim.AdamW(model.parameters(), lr)
    y_all = torch.as_tensor(ds.targets).float()
    t0, steps, seen = time.time(), 0, 0
    model.train()
    while time.time() - t0 < seconds:
        b = np.sort(idx[seen % len(ds):][:bs]); seen += len(b)
        xb = images_to_tensor(ds.read_many(b))
        if torch.rand(()) < 0.5: xb = xb.flip(3)
        loss = F.binary_cross_entropy_with_logits(model(xb)[:, 0], y_all[b])
        opt.zero_grad(); loss.backward(); opt.step(); steps += 1
    return model.eval(), (f"reference CNN (widths {tuple(widths)}) trained {time.time() - t0:.0f} s from scratch "
                           f"with plain torch ({steps} steps of {bs}, {seen} patches)")

def markdown(df, index=True) -> str:
    "A pandas DataFrame as a markdown table (numbers rounded to 3 places; no tabulate dependency)."
    df = df.reset_index() if index else df
    fmt = lambda v: f"{v:.3f}" if isinstance(v, (float, np.floating)) else str(v)
    rows = ([list(map(str, df.columns)), ['---'] * len(df.columns)]
            + [[fmt(v) for v in r] for r in df.itertuples(index=False)])
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)

def get_model(a, root):
    "The model to explain and a one-line description of where it came from."
    if a.checkpoint: return load_model_from_checkpoint(a.checkpoint)
    if a.train_quick:
        from pcam_xai.data.pcam import PCam
        return train_quick(PCam(root, 'train'), a.train_seconds, a.seed, widths=[int(w) for w in a.widths.split(',')])
    from pcam_xai.models import create_model
    torch.manual_seed(a.seed)
    return create_model('reference_cnn', n_out=1).eval(), 'reference CNN, random weights (no training)'

def balanced_test(root, n:int):
    "The first n/2 positive and n/2 negative test patches: (x float B×3×96×96 in [0, 1], y)."
    from pcam_xai.data.pcam import PCam
    from pcam_xai.data.core import images_to_tensor
    ds = PCam(root, 'test')
    y = np.asarray(ds.targets)
    idx = np.sort(np.r_[np.flatnonzero(y == 1)[:n // 2], np.flatnonzero(y == 0)[:n - n // 2]])
    return images_to_tensor(ds.read_many(idx)), torch.as_tensor(y[idx])

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--checkpoint', help='a pcam_xai .safetensors checkpoint')
    src.add_argument('--train-quick', action='store_true',
                     help='train the reference CNN briefly on the PCam training split')
    src.add_argument('--random-init', action='store_true',
                     help='explain an untrained reference CNN (a floor for the metrics)')
    p.add_argument('--train-seconds', type=float, default=120, help='time budget of --train-quick')
    p.add_argument('--widths', default='16,32,64',
                   help='conv widths of the --train-quick reference CNN (full: 64,128,256)')
    p.add_argument('--data', default=None, help='data root holding pcam/ (default: $PCAM_XAI_DATA)')
    p.add_argument('--n', type=int, default=32, help='test patches, half positive')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--methods', default=None, help='comma-separated methods (default: all that apply)')
    p.add_argument('--steps', type=int, default=16, help='deletion / insertion steps')
    p.add_argument('--ig-steps', type=int, default=32, help='Integrated Gradients path steps')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--overwrite', action='store_true', help='replace existing report files')
    a = p.parse_args()
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from pcam_xai.core import find_data_root, atomic_write, check_target
    from pcam_xai.core import class_probs
    from pcam_xai.explain import explain
    from pcam_xai.render import show_explanations
    from pcam_xai.explain_metrics import compare_methods, method_grid, randomization_check
    out = Path(a.out)
    names = ['compare_methods.csv', 'compare_methods.md', 'randomization_gradcam.csv', 'method_grid.png',
             'explanations.png']
    for nm in names: check_target(out/nm, a.overwrite)
    root = find_data_root(a.data, dataset='pcam',
                          probe=lambda d: None if list(d.glob('*test_x.h5')) else 'no PCam test split')
    model, origin = get_model(a, root)
    x, y = balanced_test(root, a.n)
    with torch.no_grad(): pr = class_probs(model(x))
    acc = (pr.argmax(1) == y).float().mean().item()
    methods = a.methods.split(',') if a.methods else None
    kw = {'ig': dict(n_steps=a.ig_steps)}
    df = compare_methods(model, x, y, methods=methods, box=32, steps=a.steps, method_kw=kw)
    casc = randomization_check(model, x[:16], 'gradcam', 'cascade', seed=a.seed)
    head = (f"Model: {origin}. Data: {len(x)} PCam test patches ({int(y.sum())} positive), accuracy {acc:.2f} on them. "
            f"Target: the label. Deletion: black baseline; insertion: blurred; {a.steps} steps. "
            f"Uniform centre energy: {32**2 / 96**2:.3f}.")
    md = head + "\n\n" + markdown(df) + "\n"
    with atomic_write(out/'compare_methods.csv', 'w', overwrite=a.overwrite) as f: df.to_csv(f)
    with atomic_write(out/'compare_methods.md', 'w', overwrite=a.overwrite) as f: f.write(md)
    with atomic_write(out/'randomization_gradcam.csv', 'w', overwrite=a.overwrite) as f: casc.to_csv(f, index=False)
    sel = torch.cat([torch.nonzero(y == 1)[:3, 0], torch.nonzero(y == 0)[:3, 0]])
    figs = {'method_grid.png': method_grid(model, x[sel], methods, labels=y[sel], method_kw=kw),
            'explanations.png': show_explanations(x[:8], explain(model, x[:8], 'gradcam', y[:8]), method='gradcam',
                                                  preds=pr[:8].argmax(1), labels=y[:8], probs=pr[:8].max(1).values,
                                                  ncols=4)}
    for nm, fig in figs.items():
        buf = io.BytesIO(); fig.savefig(buf, dpi=110); plt.close(fig)
        with atomic_write(out/nm, 'wb', overwrite=a.overwrite) as f: f.write(buf.getvalue())
    print(md)
    print("Grad-CAM cascade randomisation (top layer first):\n" + markdown(casc, index=False))
    print(f"\nwrote {', '.join(names)} to {out}")

if __name__ == '__main__':
    import sys; sys.path.insert(0, str(Path(__file__).parent))
    from _results import capture, save_results   # the printed tables go to results/explain_report.json
    from pcam_xai.core import PcamXaiError
    capture()
    try: main(); save_results('explain_report')
    except PcamXaiError as e: raise SystemExit(f"explain_report: {e}")
