"""Which explanation to trust: `pcam-xai faithfulness` on a checkpoint, its table, sanity verdicts and choice in
`results/<name>.json`, its figure in `nbs/images/<name>.png`.

    python bench/faithfulness.py --name faithfulness_reference_cnn_valid -- \
        --checkpoint nbs/fixtures/pcam_reference_cnn.safetensors --data ../shared/data/pcam --split valid --n 200
    python bench/faithfulness.py --name faithfulness_reference_cnn_test -- \
        --checkpoint nbs/fixtures/pcam_reference_cnn.safetensors --data ../shared/data/pcam --split test --n 500 \
        --methods gradcam ig ...

Everything after `--` is passed to `pcam-xai faithfulness` unchanged. Choose the default method on `--split valid`
(the run names it on its last line); score the chosen method once on `--split test`.
"""
import argparse, shutil, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from _results import ROOT, capture, save_results
from pcam_xai.cli import main as cli_main

def fmt(r) -> str:
    "`mean [low, high]` of one table row."
    return f"{r['mean']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"

def markdown(table, sanity) -> str:
    "One row per map: ROAD combined, insertion − deletion, MoRF, LeRF (95% intervals), the sanity verdict."
    t = table.set_index(['method', 'metric'])
    verdict = dict(zip(sanity['method'], sanity['verdict']))
    rho = dict(zip(sanity['method'], sanity['spearman_top']))
    lines = ["| map | kind | road_combined | insertion − deletion | road_morf | road_lerf "
             "| sanity (Spearman, top layer) |",
             "|---|---|---|---|---|---|---|"]
    for m in dict.fromkeys(table['method']):
        k = t.loc[(m, 'road_combined'), 'kind']
        s = f"{verdict[m]} ({rho[m]:.2f})" if m in verdict else "–"
        lines.append(f"| {m} | {k} | " + ' | '.join(fmt(t.loc[(m, x)]) for x in
                     ('road_combined', 'ins_minus_del', 'road_morf', 'road_lerf')) + f" | {s} |")
    return '\n'.join(lines)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--name', required=True, help="results/<name>.json and nbs/images/<name>.png")
    ap.add_argument('args', nargs=argparse.REMAINDER, help="-- then the pcam-xai faithfulness arguments")
    a = ap.parse_args()
    fargs = a.args[1:] if a.args[:1] == ['--'] else a.args
    capture()
    with tempfile.TemporaryDirectory() as d:
        t0 = time.monotonic()
        rep = cli_main(['faithfulness', *fargs, '--out', str(Path(d)/'out')])
        wall = time.monotonic() - t0
        print(markdown(rep['table'], rep['sanity']))
        shutil.copy(Path(d)/'out'/'faithfulness.png', ROOT/'nbs'/'images'/f'{a.name}.png')
    summary = {k: v for k, v in rep.items() if k not in ('table', 'sanity', 'out')}
    save_results(a.name, command=' '.join(['python bench/faithfulness.py --name', a.name, '--', *fargs]),
                 wall_seconds=round(wall, 1), summary=summary,
                 rows=rep['table'].round(4).to_dict(orient='records'),
                 sanity=rep['sanity'].round(4).to_dict(orient='records'))

if __name__ == '__main__': main()
