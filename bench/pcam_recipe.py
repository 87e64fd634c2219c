"""Train and evaluate a PCam recipe with `pcam-xai train` and record its test metrics in `results/<name>.json`.

    python bench/pcam_recipe.py --name pcam_reference_cnn -- --data ../shared/data/pcam --arch reference_cnn \
        --normalize dataset --epochs 10 --lr 3e-3 --aug dihedral
    python bench/pcam_recipe.py --name NAME --keep runs/pcam-ref -- ...    # keep the checkpoint and report
    python bench/pcam_recipe.py --name NAME --seeds 42 43 44 -- ...        # one run per seed, mean ± sd

Everything after `--` is passed to `pcam-xai train` unchanged (the README quotes that command; `--seeds` appends
`--seed S` to it); the checkpoint selected on the validation split is the one evaluated on the test split, and only the
test metrics of that checkpoint are recorded. With `--seeds`, each seed's numbers are kept (`per_seed`) and `summary`
holds the mean and the sample standard deviation over the seeds of each test metric.
"""
import argparse, statistics, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from _results import save_results
from pcam_xai.cli import main as cli_main

def run_once(targs:list, out:str) -> dict:
    "Train with `pcam-xai train targs --out out` and return the numbers recorded for that run."
    t0 = time.monotonic()
    res = cli_main(['train', *targs, '--out', out])
    wall = time.monotonic() - t0
    metrics = {v: {k: r[k] for k in ('split', 'accuracy', 'roc_auc', 'balanced_accuracy', 'ece', 'ci') if k in r}
               for v, r in res['results'].items()}
    return dict(wall_seconds=round(wall, 1), train_seconds=round(res['train_seconds'], 1), epochs_run=res['epochs_run'],
                best_epoch=res['best_epoch'], valid_metrics=res['valid_metrics'], test=metrics)

def summarise(runs:list) -> dict:
    "Mean and sample standard deviation over the runs of each test metric, per evaluation variant."
    out = {}
    for v in runs[0]['test']:
        out[v] = {'split': runs[0]['test'][v]['split'], 'n_seeds': len(runs)}
        for k in ('accuracy', 'roc_auc', 'balanced_accuracy', 'ece'):
            xs = [r['test'][v][k] for r in runs]
            out[v][k] = {'mean': statistics.fmean(xs), 'sd': statistics.stdev(xs) if len(xs) > 1 else 0.0}
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--name', required=True, help="results/<name>.json")
    ap.add_argument('--keep', help="keep the run (checkpoint, report) in this folder instead of a temporary one")
    ap.add_argument('--seeds', type=int, nargs='+', help="train once per seed (`--seed S`) and record mean ± sd")
    ap.add_argument('train_args', nargs=argparse.REMAINDER, help="arguments of `pcam-xai train` after --")
    a = ap.parse_args()
    targs = [x for x in a.train_args if x != '--']
    cmd = 'pcam-xai train ' + ' '.join(targs)
    with tempfile.TemporaryDirectory() as t:
        if not a.seeds:
            save_results(a.name, train_command=cmd, **run_once(targs, a.keep or str(Path(t)/'run')))
            return
        runs = []
        for s in a.seeds:
            out = str(Path(a.keep)/f'seed{s}') if a.keep else str(Path(t)/f'seed{s}')
            runs.append({'seed': s, **run_once([*targs, '--seed', str(s)], out)})
            print(f"seed {s}: " + ', '.join(f"{v} accuracy {r['accuracy']:.3f} ROC-AUC {r['roc_auc']:.3f}"
                                             for v, r in runs[-1]['test'].items()), flush=True)
        summary = summarise(runs)
        for v, r in summary.items():
            print(f"{v} {r['split']}, {len(runs)} seeds: accuracy {r['accuracy']['mean']:.3f} ± "
                  f"{r['accuracy']['sd']:.3f}, ROC-AUC {r['roc_auc']['mean']:.3f} ± {r['roc_auc']['sd']:.3f}")
        save_results(a.name, train_command=cmd, seeds=a.seeds, summary=summary, per_seed=runs)

if __name__ == '__main__': main()
