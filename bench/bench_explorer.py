"""Explorer responsiveness: served page, predicting a split, first gallery page, Grad-CAM method/target/alpha switches.

The reference CNN (the checkpoint given, else random weights: speed does not depend on them) on the PCam sample's
500-patch test split, with `--threads` torch threads (2 = the issue's machine). Everything goes through the widget
layer (`ExplorerUI`: widget values set as a user would, PNGs encoded), without a browser. Each step is repeated
`--repeats` times and the median wall-clock time is reported, with the issue's target; the cached-map steps are also
given as a ratio against the same switch computing its map, measured side by side in this run.

The served page (`first_page_browser`): `pcam-xai explore` started `--browser-repeats` times on the same split and
checkpoint, its URL opened in headless Chromium (Debian's chromium + chromedriver, `tools/browser_test.py`) the moment
it is printed; seconds from the URL to the first content (the page's progress bar) and to the filled gallery, median.
Skipped with a line when Chromium is missing. Absolute seconds depend on the machine's load (recorded).

    .venv/bin/python bench/bench_explorer.py --threads 2 --repeats 5 --out results/bench_explorer.json
"""
from __future__ import annotations
import argparse, os, statistics, sys, time, warnings
warnings.filterwarnings('ignore', category=FutureWarning)
from pathlib import Path
import numpy as np
import torch

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1]/'tools')]
from _results import capture, save_results

CPU = []   # process CPU seconds of each timed part (all threads), recorded by `clock`

def clock():
    "Start a timer; calling the result gives the wall seconds since and records the CPU seconds in `CPU`."
    w, c = time.perf_counter(), time.process_time()
    def stop(): CPU.append(time.process_time() - c); return time.perf_counter() - w
    return stop

def med(f, n):
    "Median (wall, CPU) seconds of `n` calls of `f()`, each returning its timed part's wall seconds via `clock`."
    CPU.clear(); ts = [f() for _ in range(n)]
    return statistics.median(ts), statistics.median(CPU)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', default=os.environ.get('PCAM_XAI_DATA'),
                   help="data root holding pcam/ (default $PCAM_XAI_DATA)")
    p.add_argument('--checkpoint', help="a reference_cnn checkpoint (default: random weights)")
    p.add_argument('--threads', type=int, default=2); p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--browser-repeats', type=int, default=3, help="fresh `pcam-xai explore` starts timed in Chromium")
    p.add_argument('--out', default='results/bench_explorer.json')
    a = p.parse_args()
    capture()
    torch.set_num_threads(a.threads)
    from pcam_xai.explorer import Explorer, ExplorerUI
    from pcam_xai.checkpoint import model_card
    from pcam_xai.models import create_model
    if a.checkpoint: model, card = a.checkpoint, None
    else:
        torch.manual_seed(0)
        model = create_model('reference_cnn', n_out=1, pretrained=False).eval()
        card = model_card('reference_cnn', 1, ['normal', 'metastatic'], (3, 96, 96),
                          normalize=([0.7, 0.55, 0.7], [0.24, 0.28, 0.21]))
    data = Path(a.data)/'pcam'
    browser = first_page_browser(data, a.checkpoint, a.browser_repeats)
    ex = Explorer(data, model, card=card)
    res = {}

    def predict():
        ex.probs = None; t = clock(); ex.predict(); return t()
    res['predict_split'] = med(predict, a.repeats)

    def first_page():
        ex.maps.clear(); t = clock()
        # widgets built, filters applied, 16 thumbnails, detail view (Grad-CAM) of the first
        ui = ExplorerUI(ex); ui.run()
        return t()
    res['first_page'] = med(first_page, a.repeats)

    ui = ExplorerUI(ex); ui.run()
    keys = [int(i) for i in ui.idx[:a.repeats]]
    def switch(setup, change, clear=True):
        def f():
            k = keys.pop(0); keys.append(k)
            ui.select(k); setup()
            if clear: ex.maps.clear()
            t = clock(); change(); dt = t()
            assert ui.error.value == '', ui.error.value
            return dt
        return f
    def setm(m): ui.method.value = m
    def sett(v): ui.target.value = v
    def seta(v): ui.alpha.value = v
    base = lambda: (setm('saliency'), sett(None), seta(0.5))
    res['method_to_gradcam'] = med(switch(base, lambda: setm('gradcam')), a.repeats)
    res['target_gradcam'] = med(switch(lambda: (setm('gradcam'), sett(None)), lambda: sett('normal')), a.repeats)
    gradcam_at = lambda alpha: (setm('gradcam'), sett(None), seta(alpha))
    res['alpha_gradcam_cached'] = med(switch(lambda: gradcam_at(0.5), lambda: seta(0.8), False), a.repeats)
    def warm_back():   # both maps computed once, then switching back to Grad-CAM finds its map in the cache
        setm('gradcam'); sett(None); setm('saliency')
    res['method_back_to_gradcam_cached'] = med(switch(warm_back, lambda: setm('gradcam'), False), a.repeats)

    targets = dict(predict_split=10, first_page=3, method_to_gradcam=0.5, target_gradcam=0.5, alpha_gradcam_cached=0.5,
                   method_back_to_gradcam_cached=0.5)
    what = dict(predict_split=f"predict the {len(ex)}-patch test split (batched)",
                first_page="first gallery page: widgets, filters, 16 thumbnails, detail view with Grad-CAM",
                method_to_gradcam="switch method saliency → Grad-CAM (map computed)",
                target_gradcam="switch Grad-CAM target class (map computed)",
                alpha_gradcam_cached="change alpha of the Grad-CAM overlay (cached map)",
                method_back_to_gradcam_cached="switch back to Grad-CAM (cached map)")
    # CPU seconds / threads: the wall time on an otherwise idle machine with `threads` cores (the shared one was loaded)
    rows = [dict(step=k, what=what[k], wall_s=round(w, 4), cpu_s=round(c, 4), idle_estimate_s=round(c / a.threads, 4),
                 target_s=targets[k], wall_within_target=bool(w <= targets[k]),
                 idle_estimate_within_target=bool(c / a.threads <= targets[k])) for k, (w, c) in res.items()]
    computed = res['method_to_gradcam'][0]
    ratios = dict(cached_method_switch_vs_computed=round(res['method_back_to_gradcam_cached'][0] / computed, 3),
                  alpha_change_vs_computed_map=round(res['alpha_gradcam_cached'][0] / computed, 3))
    print(f"| step | wall s | CPU s | CPU s / {a.threads} threads | target s |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['what']} | {r['wall_s']:.3f} | {r['cpu_s']:.3f} | {r['idle_estimate_s']:.3f} "
              f"| ≤ {r['target_s']} |")
    print(f"cached / computed map, side by side: {ratios}")
    if browser:
        print(f"\n| served page (`pcam-xai explore`, headless Chromium), median of {a.browser_repeats} starts "
              f"| s after the URL | target s |\n|---|---|---|")
        print(f"| first content (the page's progress bar) | {browser['first_content_s']:.2f} | ≤ 5 |")
        print(f"| gallery filled (split predicted) | {browser['gallery_s']:.2f} | |")
    import ipywidgets, pcam_xai
    save_results(Path(a.out).stem, out_dir=Path(a.out).parent,
                 setup=dict(model='reference_cnn', weights=a.checkpoint or 'random (speed does not depend on them)',
                            data=f'PCam sample test split ({len(ex)} patches)', repeats=a.repeats, statistic='median',
                            torch_threads=torch.get_num_threads(), ipywidgets=ipywidgets.__version__,
                            note="wall times are upper bounds when other jobs share the machine: "
                                 "see machine.load_1min"),
                 rows=rows, ratios=ratios, first_page_browser=browser)

def first_page_browser(data:Path, checkpoint, repeats:int) -> dict|None:
    "Median seconds from `pcam-xai explore` printing its URL to the first content and to the gallery in Chromium."
    import browser_test as bt
    if not (Path(bt.CHROMIUM).exists() and Path(bt.CHROMEDRIVER).exists()):
        print(f"skipped the served page: no {bt.CHROMIUM} / {bt.CHROMEDRIVER} "
              "(apt-get install chromium chromium-driver)")
        return None
    if not checkpoint:
        print("skipped the served page: it needs --checkpoint (pcam-xai explore reads a checkpoint file)"); return None
    driver, runs = bt.chrome('none'), []
    try:
        for i in range(repeats):
            load = os.getloadavg()[0]
            r = bt.time_first_page(data, Path(checkpoint), driver); r['load_1min_before'] = round(load, 2)
            runs.append({k: round(v, 3) for k, v in r.items()})
            print(f"served page, start {i + 1}: {runs[-1]}", flush=True)
    finally: driver.quit()
    return dict(what="seconds from `pcam-xai explore` printing its URL to the page's first content (its progress bar) "
                     "and to the filled gallery, headless Chromium", target_first_content_s=5, runs=runs,
                first_content_s=round(statistics.median(r['first_content_s'] for r in runs), 3),
                gallery_s=round(statistics.median(r['gallery_s'] for r in runs), 3),
                cpus=os.cpu_count())

if __name__ == '__main__': main()
