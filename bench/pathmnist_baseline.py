"""PathMNIST baseline: recipes trained with `pcam-xai train`, one picked on val, its checkpoint scored on test with
medmnist's own `Evaluator` (MedMNIST's ACC and AUC) and with our report metrics; recorded in `results/<name>.json`.

    PCAM_XAI_DATA=../shared/data nice -n 19 python bench/pathmnist_baseline.py     # the shared sample (CPU minutes)

    # the full PathMNIST on a GPU (fetch the npz once, MD5-checked, with medmnist's downloader):
    python -c "from pcam_xai.data.pathmnist import download_pathmnist; download_pathmnist('data/pathmnist')"
    python bench/pathmnist_baseline.py --data data/pathmnist --name pathmnist_full --keep runs/pathmnist-full \
        --device cuda --recipe "--arch resnet18 --epochs 100 --bs 128 --lr 1e-3 --aug dihedral" \
        --recipe "--arch reference_cnn --widths 64,128 --epochs 100 --bs 128 --lr 1e-3 --aug dihedral"

Each `--recipe` is the argument list of one `pcam-xai train` run (after `--data`; `--monitor roc_auc`, `--seed`,
`--no-tta` and `--device` are added); without `--recipe` the sample's three recipes below run (the reference CNN with
two conv blocks, as its input must be a multiple of 4 with two blocks; timm's resnet18 is too slow for a CPU
benchmark on 2 shared cores). Selection looks at the validation split only: every run keeps the epoch with the best val
ROC-AUC (`--monitor roc_auc`), and the recipe whose kept
checkpoint has the best val ROC-AUC (ties: val accuracy) is the baseline. `pcam-xai train` also scores every run on
test; those numbers are neither printed nor used here (each run's own output goes to its log, not to the results). Only
the chosen checkpoint is then evaluated on test, reloaded from its `best.safetensors`, exactly once.

On the shared sample (429 / 92 / 93 images re-split from PathMNIST's official test split) the numbers say how the
pipeline behaves, not what a model reaches on the full dataset: they are not comparable with the MedMNIST paper's.
"""
from __future__ import annotations
import argparse, contextlib, io, os, shlex, sys, tempfile, time
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).parent))
from _results import capture, save_results

SAMPLE_RECIPES = (   # small, as the sample is: 28×28 (the reference CNN with 2 blocks: 28 = 4×7), 2 CPU cores
    '--arch reference_cnn --widths 32,64 --epochs 30 --bs 32 --lr 3e-3 --aug dihedral',
    '--arch reference_cnn --widths 32,64 --epochs 30 --bs 32 --lr 1e-3 --aug dihedral',
    '--arch reference_cnn --widths 64,128 --epochs 30 --bs 32 --lr 1e-3 --aug dihedral',
)
VALID_KEYS = ('roc_auc', 'accuracy', 'balanced_accuracy', 'f1')

def _data_dir(data:str|None) -> Path:
    if data: return Path(data)
    env = os.environ.get('PCAM_XAI_DATA')
    if not env: sys.exit("Pass --data DIR (the folder holding pathmnist.npz) or set PCAM_XAI_DATA.")
    return Path(env)/'pathmnist'

def train_recipe(data:Path, recipe:str, out:Path, seed:int, device=None) -> dict:
    "One `pcam-xai train` run; its printed output goes to `out/train.log`; returns the kept checkpoint's card."
    from pcam_xai.cli import main as cli_main
    from pcam_xai.checkpoint import read_card
    log = io.StringIO()
    t0 = time.monotonic()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        cli_main(['train', '--data', str(data), *shlex.split(recipe), '--monitor', 'roc_auc', '--seed', str(seed),
                  '--no-tta', '--out', str(out), *(['--device', device] if device else [])])
    wall = time.monotonic() - t0
    (out/'train.log').write_text(log.getvalue())
    card = read_card(out/'best.safetensors')
    return dict(recipe=recipe, run=str(out), wall_seconds=round(wall, 1), best_epoch=card.get('best_epoch'),
                valid={k: card['valid_metrics'][k] for k in VALID_KEYS})

def score(checkpoint:Path, data:Path, split:str, n_boot:int, seed:int, device=None) -> dict:
    "MedMNIST's ACC/AUC (medmnist's `Evaluator`) and our report metrics of `checkpoint` on one split of `data`."
    from pcam_xai.checkpoint import Classifier
    from pcam_xai.data.pathmnist import PathMNIST, medmnist_evaluate
    from pcam_xai.evaluation import evaluate
    from pcam_xai.core import get_device
    clf = Classifier.load(checkpoint, device=get_device(device))
    ds = PathMNIST(data, split)
    n, step = len(ds), 4096   # in the file's order, a few thousand images in memory at a time
    probs = np.concatenate([clf.probs(ds.read_many(np.arange(i, min(i + step, n))), bs=256) for i in range(0, n, step)])
    y = np.asarray(ds.targets)
    mm = medmnist_evaluate(probs, split, data)
    ours = evaluate(probs, y, clf.classes, split=f"{split} (n={len(y)})", n_boot=n_boot, seed=seed)
    return dict(medmnist=mm, ours={k: ours[k] for k in ('split', 'n', 'accuracy', 'balanced_accuracy', 'f1',
                                                        'roc_auc', 'ece', 'ci', 'per_class', 'class_counts')})

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--data', help="folder holding pathmnist.npz (default: $PCAM_XAI_DATA/pathmnist)")
    ap.add_argument('--recipe', action='append', help="`pcam-xai train` arguments of one candidate (repeatable)")
    ap.add_argument('--name', default='pathmnist_baseline', help="results/<name>.json")
    ap.add_argument('--keep', help="keep the runs (checkpoints, reports, logs) in this folder")
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--device', help="cpu, cuda, ... for every run and the evaluation (default: best available)")
    ap.add_argument('--n-boot', type=int, default=1000, help="bootstrap resamples of our intervals")
    a = ap.parse_args()
    capture()
    data, recipes = _data_dir(a.data), a.recipe or list(SAMPLE_RECIPES)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(a.keep or tmp)
        runs = []
        for i, r in enumerate(recipes):
            runs.append(train_recipe(data, r, base/f'recipe{i}', a.seed, a.device))
            print(f"recipe {i}: val roc_auc {runs[-1]['valid']['roc_auc']:.3f}, accuracy "
                  f"{runs[-1]['valid']['accuracy']:.3f} (best epoch {runs[-1]['best_epoch']}, "
                  f"{runs[-1]['wall_seconds']:.0f} s): {r}")
        best = max(range(len(runs)), key=lambda i: (runs[i]['valid']['roc_auc'], runs[i]['valid']['accuracy']))
        ck = base/f'recipe{best}'/'best.safetensors'
        val, test = (score(ck, data, s, a.n_boot, a.seed, a.device) for s in ('val', 'test'))
    nv, nt = val['medmnist']['n'], test['medmnist']['n']
    what = 'official split' if test['medmnist']['official'] else 'shared sample, not the official split'
    print(f"\nchosen on val: recipe {best}: pcam-xai train --data {data} {recipes[best]}\n")
    print("| split (n) | MedMNIST ACC | MedMNIST AUC | accuracy [95% CI] | ROC-AUC [95% CI] | balanced accuracy | "
          "macro F1 | ECE |")
    print("|---|---|---|---|---|---|---|---|")
    for s, r in (('val', val), ('test', test)):
        o = r['ours']
        print(f"| {s} (n = {r['medmnist']['n']}) | {r['medmnist']['ACC']:.3f} | {r['medmnist']['AUC']:.3f} | "
              f"{o['accuracy']:.3f} [{o['ci']['accuracy'][0]:.3f}, {o['ci']['accuracy'][1]:.3f}] | "
              f"{o['roc_auc']:.3f} [{o['ci']['roc_auc'][0]:.3f}, {o['ci']['roc_auc'][1]:.3f}] | "
              f"{o['balanced_accuracy']:.3f} | {o['f1']:.3f} | {o['ece']:.3f} |")
    print(f"\n(val n = {nv}: selection split; test n = {nt}: {what}; MedMNIST ACC/AUC by medmnist.Evaluator)")
    save_results(a.name, data=str(data), recipes=runs, chosen=best, chosen_recipe=recipes[best],
                 train_command=f"pcam-xai train --data {data} {recipes[best]}", val=val, test=test,
                 sample=not test['medmnist']['official'])

if __name__ == '__main__': main()
