"""Explorer responsiveness: predicting a split, the first gallery page, and switching method / target / alpha for Grad-CAM.

The reference CNN (the checkpoint given, else random weights: speed does not depend on them) on the PCam sample's
500-patch test split, with `--threads` torch threads (2 = the issue's machine). Everything goes through the widget layer
(`ExplorerUI`: widget values set as a user would, PNGs encoded), without a browser. Each step is repeated `--repeats`
times and the median wall-clock time is reported, with the issue's target; the cached-map steps are also given as a ratio
against the same switch computing its map, measured side by side in this run.

    .venv/bin/python bench/bench_explorer.py --threads 2 --repeats 5 --out results/bench_explorer.json
"""
from __future__ import annotations
import argparse, datetime, json, os, platform, statistics, sys, time, warnings
warnings.filterwarnings('ignore', category=FutureWarning)
from pathlib import Path
import numpy as np
import torch

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
    p.add_argument('--data', default=os.environ.get('PCAM_XAI_DATA'), help="data root holding pcam/ (default $PCAM_XAI_DATA)")
    p.add_argument('--checkpoint', help="a reference_cnn checkpoint (default: random weights)")
    p.add_argument('--threads', type=int, default=2); p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--out', default='results/bench_explorer.json')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    from pcam_xai.explorer import Explorer, ExplorerUI
    from pcam_xai.training import model_card
    from pcam_xai.models import create_model
    if a.checkpoint: model, card = a.checkpoint, None
    else:
        torch.manual_seed(0)
        model = create_model('reference_cnn', n_out=1, pretrained=False).eval()
        card = model_card('reference_cnn', 1, ['normal', 'metastatic'], (3, 96, 96), normalize=([0.7, 0.55, 0.7], [0.24, 0.28, 0.21]))
    data = Path(a.data)/'pcam'
    ex = Explorer(data, model, card=card)
    res = {}

    def predict():
        ex.probs = None; t = clock(); ex.predict(); return t()
    res['predict_split'] = med(predict, a.repeats)

    def first_page():
        ex.maps.clear(); t = clock()
        ui = ExplorerUI(ex); ui.run()   # widgets built, filters applied, 16 thumbnails, detail view (Grad-CAM) of the first
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
    res['alpha_gradcam_cached'] = med(switch(lambda: (setm('gradcam'), sett(None), seta(0.5)), lambda: seta(0.8), False), a.repeats)
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
    ratios = dict(cached_method_switch_vs_computed=round(res['method_back_to_gradcam_cached'][0] / res['method_to_gradcam'][0], 3),
                  alpha_change_vs_computed_map=round(res['alpha_gradcam_cached'][0] / res['method_to_gradcam'][0], 3))
    print(f"| step | wall s | CPU s | CPU s / {a.threads} threads | target s |\n|---|---|---|---|---|")
    for r in rows: print(f"| {r['what']} | {r['wall_s']:.3f} | {r['cpu_s']:.3f} | {r['idle_estimate_s']:.3f} | ≤ {r['target_s']} |")
    print(f"cached / computed map, side by side: {ratios}")
    import fastai, ipywidgets, pcam_xai
    out = dict(command='python ' + ' '.join([Path(sys.argv[0]).as_posix()] + sys.argv[1:]),
               date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
               machine=dict(platform=platform.platform(), processor=platform.processor() or platform.machine(),
                            cpu_count=os.cpu_count(), torch_threads=torch.get_num_threads(),
                            load_average_1_5_15=[round(v, 2) for v in os.getloadavg()],
                            note="wall times are upper bounds when other jobs share the machine: see load_average_1_5_15"),
               versions=dict(pcam_xai=pcam_xai.__version__, torch=torch.__version__, ipywidgets=ipywidgets.__version__,
                             python=platform.python_version()),
               setup=dict(model='reference_cnn', weights=a.checkpoint or 'random (speed does not depend on them)',
                          data=f'PCam sample test split ({len(ex)} patches)', repeats=a.repeats, statistic='median'),
               rows=rows, ratios=ratios)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + '\n')
    print(f"written {a.out}")

if __name__ == '__main__': main()
