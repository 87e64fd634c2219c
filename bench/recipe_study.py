"""PCam recipe study: architectures, augmentations, label smoothing and weight averaging, selected on validation only.

    python bench/recipe_study.py --data ../shared/data/pcam --runs runs/study     # ~80 min on 2 CPU cores

Every recipe is a `pcam-xai train` command (stain normalisation, which the command line does not offer because a
checkpoint cannot yet carry its stain target, runs the same training through the library) with `--time-budget 10`:
at most 10 minutes of training, on whatever machine runs the study. Epoch counts are sized from the measured
throughput of each model (`bench/bench_train_speed.py`) to fit 10 minutes on the project's 2-core machine.

Selection uses the validation split only (500 patches): stage 1 compares the architectures, stage 2 adds one
option at a time to the stage-1 winner, stage 3 combines the options that raised its validation ROC-AUC. Each run's
best epoch is itself chosen by validation ROC-AUC. The test split (500 patches) is reported, with bootstrap CIs,
for the selected recipe and the reference CNN (the README's earlier recipe) only; the other runs' test metrics are
never read. A finished run folder is reused, so an interrupted study resumes where it stopped.
"""
import argparse, json, os, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from _results import capture, save_results
from pcam_xai.evaluation import _fmt_ci   # the report's 'value [low, high]'

COMMON = ['--aug', 'dihedral', '--normalize', 'dataset', '--time-budget', '10']
STAGE1 = {   # from scratch (no weights can be downloaded here); epochs sized to ~8-9 minutes on 2 cores
    'reference_cnn': ['--arch', 'reference_cnn', '--epochs', '10', '--lr', '3e-3'],
    'resnet18': ['--arch', 'resnet18', '--epochs', '18', '--lr', '3e-3'],
    'efficientnet_b0': ['--arch', 'efficientnet_b0', '--epochs', '10', '--lr', '3e-3'],
    'convnext_atto': ['--arch', 'convnext_atto', '--epochs', '22', '--lr', '3e-3'],
}
OPTIONS = {  # stage 2: one change at a time to the stage-1 winner
    'hed': ['--aug', 'full'],                       # + HED stain jitter, brightness/contrast
    'ema': ['--ema', '0.995'],                      # exponential moving average of the weights (timm ModelEmaV3)
    'ls': ['--label-smoothing', '0.1'],             # two logits, fastai's label-smoothing cross-entropy
    'stain': ['--stain', 'macenko'],                # Macenko normalisation of every batch (library only)
}
REFERENCE = 'reference_cnn'

def _with(args:list, extra:list) -> list:
    "`args` with the options of `extra` replacing theirs (e.g. a second --aug)."
    out, i = list(args), 0
    while i < len(extra):
        k = extra[i]; v = extra[i + 1] if i + 1 < len(extra) and not extra[i + 1].startswith('--') else None
        if k in out:
            j = out.index(k); del out[j:j + (2 if v is not None else 1)]
        out += [k] + ([v] if v is not None else []); i += 2 if v is not None else 1
    return out

def _run(name:str, args:list, data:str, runs:Path) -> dict:
    "Train one recipe in its own process (or reuse its finished folder); return its validation record."
    out = runs/name
    if not (out/'metrics.json').exists():
        cmd = [sys.executable, str(Path(__file__).resolve()), '--child', '--', 'train', '--data', data, *args,
               '--out', str(out), '--overwrite']
        print(f"[{time.strftime('%H:%M:%S')}] {name}: pcam-xai train {' '.join(args)}", flush=True)
        t0 = time.monotonic(); r = subprocess.run(cmd, capture_output=True, text=True)
        (runs/f'{name}.log').write_text(r.stdout + r.stderr)
        if r.returncode != 0: raise SystemExit(f"{name} failed:\n{r.stderr[-3000:]}")
        (out/'wall_seconds').write_text(f"{time.monotonic() - t0:.1f}")
    card = json.loads((out/'best.json').read_text())
    hist = [l.split(',') for l in (out/'history.csv').read_text().splitlines()]
    tcol = hist[0].index('time')
    secs = sum(int(m) * 60 + int(s) for m, s in (r[tcol].split(':') for r in hist[1:]))
    return dict(name=name, args=args, epochs_run=len(hist) - 1, best_epoch=card['best_epoch'], train_seconds=secs,
                valid=card['valid_metrics'])

def _test(name:str, runs:Path) -> dict:
    "The test metrics (plain and TTA) of a selected recipe's saved best checkpoint."
    return json.loads((runs/name/'metrics.json').read_text())['results']

def child(argv:list):
    "Run one recipe: `pcam-xai train`, or for --stain the same training with a stain normaliser added."
    from pcam_xai import cli
    if '--stain' not in argv: return cli.main(argv)
    from pcam_xai.preprocessing import MacenkoNormalizer, StainNormalize
    i = argv.index('--stain'); argv = argv[:i] + argv[i + 2:]
    orig = cli._augs
    def augs(name):   # the recipe's augmentations, then every batch (train, valid, test) stain-normalised
        import torch
        from pcam_xai.data.layout import load_splits
        tr = load_splits(a.data, a.layout, splits=('train',))['train']
        target = torch.as_tensor(tr.read_many(range(64))).permute(0, 3, 1, 2)   # 64 training patches, pooled
        return orig(name) + [StainNormalize(MacenkoNormalizer().fit(target))]
    a = cli._parser().parse_args(argv); cli._augs = augs
    return a.func(a)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--data', default=os.environ.get('PCAM_XAI_DATA', '../shared/data') + '/pcam')
    ap.add_argument('--runs', default='runs/study', help="one folder per recipe (reused when finished)")
    ap.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('rest', nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child: return child([x for x in a.rest if x != '--'])
    capture()
    runs = Path(a.runs); runs.mkdir(parents=True, exist_ok=True)
    auc = lambda r: (r['valid']['roc_auc'], r['valid']['accuracy'])
    rows = [_run(n, COMMON + v, a.data, runs) | dict(stage=1) for n, v in STAGE1.items()]
    base = max(rows, key=auc)
    for o, extra in OPTIONS.items():
        rows.append(_run(f"{base['name']}+{o}", _with(base['args'], extra), a.data, runs) | dict(stage=2))
    better = [r for r in rows if r['stage'] == 2 and auc(r) > auc(base)]
    if len(better) > 1:
        args = base['args']
        for r in better: args = _with(args, OPTIONS[r['name'].split('+')[1]])
        rows.append(_run(base['name'] + ''.join('+' + r['name'].split('+')[1] for r in better), args, a.data, runs)
                    | dict(stage=3))
    best = max(rows, key=auc)
    print(f"\nSelected on the validation split (n=500) by ROC-AUC at each run's best epoch: {best['name']}\n")
    print('| stage | recipe | epochs (best) | train min | valid accuracy | valid ROC-AUC |')
    print('|---:|---|---:|---:|---:|---:|')
    for r in rows:
        sel = ' (selected)' if r is best else ''
        print(f"| {r['stage']} | {r['name']}{sel} | {r['epochs_run']} ({r['best_epoch']}) "
              f"| {r['train_seconds'] / 60:.1f} | {r['valid']['accuracy']:.3f} | {r['valid']['roc_auc']:.3f} |")
    chosen = [best] + ([r for r in rows if r['name'] == REFERENCE] if best['name'] != REFERENCE else [])
    print('\nThe chosen recipes on the test split (n=500), best checkpoint by validation ROC-AUC, '
          '95% bootstrap CIs:\n')
    print('| recipe | command | test accuracy | test ROC-AUC | with TTA: accuracy | with TTA: ROC-AUC |')
    print('|---|---|---:|---:|---:|---:|')
    tests = {}
    for r in chosen:
        t = tests[r['name']] = _test(r['name'], runs)
        print(f"| {r['name']} | `pcam-xai train --data {a.data} {' '.join(r['args'])}` "
              f"| {_fmt_ci(t['plain'], 'accuracy')} "
              f"| {_fmt_ci(t['plain'], 'roc_auc')} | {_fmt_ci(t['tta'], 'accuracy')} "
              f"| {_fmt_ci(t['tta'], 'roc_auc')} |")
    save_results('pcam_recipe_study', runs=rows, selected=best['name'],
                 test={k: {v: {m: t[v][m] for m in ('split', 'accuracy', 'roc_auc', 'balanced_accuracy', 'ece', 'ci')}
                           for v in ('plain', 'tta')} for k, t in tests.items()})

if __name__ == '__main__': main()
