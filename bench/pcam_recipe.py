"""Train and evaluate a PCam recipe with `pcam-xai train` and record its test metrics in `results/<name>.json`.

    python bench/pcam_recipe.py --name pcam_reference_cnn -- --data ../shared/data/pcam --arch reference_cnn \
        --normalize dataset --epochs 10 --lr 3e-3 --aug dihedral
    python bench/pcam_recipe.py --name NAME --keep runs/pcam-ref -- ...    # keep the checkpoint and report

Everything after `--` is passed to `pcam-xai train` unchanged (the README quotes that command); the checkpoint selected on
the validation split is the one evaluated on the test split, and only the test metrics of that checkpoint are recorded.
"""
import argparse, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from _results import save_results
from pcam_xai.cli import main as cli_main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--name', required=True, help="results/<name>.json")
    ap.add_argument('--keep', help="keep the run (checkpoint, report) in this folder instead of a temporary one")
    ap.add_argument('train_args', nargs=argparse.REMAINDER, help="arguments of `pcam-xai train` after --")
    a = ap.parse_args()
    targs = [x for x in a.train_args if x != '--']
    with tempfile.TemporaryDirectory() as t:
        t0 = time.monotonic()
        res = cli_main(['train', *targs, '--out', a.keep or str(Path(t)/'run')])
        wall = time.monotonic() - t0
    metrics = {v: {k: r[k] for k in ('split', 'accuracy', 'roc_auc', 'balanced_accuracy', 'ece', 'ci') if k in r}
               for v, r in res['results'].items()}
    save_results(a.name, train_command='pcam-xai train ' + ' '.join(targs), wall_seconds=round(wall, 1),
                 train_seconds=round(res['train_seconds'], 1), epochs_run=res['epochs_run'], best_epoch=res['best_epoch'],
                 valid_metrics=res['valid_metrics'], test=metrics)

if __name__ == '__main__': main()
