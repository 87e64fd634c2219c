"""Whole-slide triage speed: end-to-end tiles/s of `pcam_xai.wsi.analyze_slide` against the model's own batched rate.

Both are measured side by side in one run on the same tiles: the model alone runs `predict_batches` on tiles already in
memory (the same batch size, input conversion and thread count); end to end is the whole `analyze_slide` (open,
thumbnail, tissue mask, grid, streamed reading + resampling + inference, every output file; Grad-CAM off, since it is
an extra on the top tiles). The goal is end to end >= 70% of the model's own rate: reading and masking must not
dominate. Each end-to-end run is a fresh child process, which also gives the pipeline's peak resident memory (and
the child's memory before the call: Python, torch and the model). Also reported: the time for the real
`cmu_small_region.svs`. Weights do not change speed, so the model is an untrained reference CNN of the real size.

    python bench/bench_wsi.py                      # writes results/bench_wsi.json
"""
import argparse, contextlib, io, json, os, platform, resource, subprocess, sys, tempfile, time, warnings
warnings.filterwarnings('ignore', category=FutureWarning)
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import capture, save_results
import numpy as np
import torch

def rss_mb() -> float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

CHILD = '''
import contextlib, io, json, re, sys, time, warnings
warnings.filterwarnings('ignore')
def hwm():   # peak resident set (VmHWM) in MB; reset with clear_refs, since a child inherits its parent's peak
    return int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) / 1024
open('/proc/self/clear_refs', 'w').write('5')
import torch
torch.set_num_threads(int(sys.argv[4]))
from pcam_xai.models import create_model
from pcam_xai.checkpoint import model_card
from pcam_xai import wsi
model = create_model('reference_cnn', n_out=1).eval()
card = model_card('reference_cnn', 1, ['normal', 'metastatic'], normalize=([0.7, 0.55, 0.7], [0.15, 0.2, 0.15]))
before = hwm()
t0 = time.perf_counter()
with contextlib.redirect_stderr(io.StringIO()):
    s = wsi.analyze_slide(sys.argv[1], (model, card), sys.argv[2], bs=int(sys.argv[3]), top_k=0, progress=False)
s['wall_s'] = time.perf_counter() - t0
s['rss_before_mb'], s['peak_rss_mb'] = before, hwm()
keys = ('tiles', 'out_dir', 'grid', 'slide', 'timings_s', 'wall_s', 'rss_before_mb', 'peak_rss_mb')
print(json.dumps({k: s[k] for k in keys}))
'''

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', default=os.environ.get('PCAM_XAI_DATA', '../shared/data'), help="the shared data folder")
    p.add_argument('--bs', type=int, default=64); p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--threads', type=int, default=2); p.add_argument('--out', default='results/bench_wsi.json')
    p.add_argument('--grid', type=int, default=40, help="the synthetic slide is GRID×GRID PCam test patches (reused)")
    a = p.parse_args()
    capture()
    torch.set_num_threads(a.threads)
    from pcam_xai.data.pcam import PCam
    from pcam_xai.models import create_model
    from pcam_xai.checkpoint import Classifier, model_card
    from pcam_xai import slide, wsi
    from pcam_xai.data.synth import synthetic_slide
    data = Path(a.data)
    model = create_model('reference_cnn', n_out=1).eval()
    card = model_card('reference_cnn', 1, ['normal', 'metastatic'], normalize=([0.7, 0.55, 0.7], [0.15, 0.2, 0.15]))
    clf = Classifier(model, card)
    work = Path(tempfile.mkdtemp())
    te = PCam(data/'pcam', split='test'); x = te.read_many(np.arange(len(te))); y = np.asarray(te.targets)
    reps = -(-a.grid * a.grid // int((y == 1).sum()))   # a speed test only: patches may repeat
    syn = synthetic_slide(work/'synthetic.tif', np.concatenate([x[y == 1]] * reps), np.concatenate([x[y == 0]] * reps),
                          grid=(a.grid, a.grid))
    slides = {'cmu_small_region.svs (real, 20x)': data/'wsi'/'cmu_small_region.svs',
              f'synthetic.tif ({a.grid}x{a.grid} PCam mosaic)': syn['path']}
    rows = {}
    for name, path in slides.items():
        e2e, own, n = [], [], None
        for r in range(a.repeats):
            cmd = [sys.executable, '-c', CHILD, str(path), str(work/f'out{r}'), str(a.bs), str(a.threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            s = json.loads(out.stdout.strip().splitlines()[-1])
            e2e.append(s['wall_s']); n = s['tiles']; peak, base = s['peak_rss_mb'], s['rss_before_mb']
            with slide.open_slide(path) as sl:   # the same tiles, read into memory first: the model's own rate
                import pandas as pd
                tiles = pd.read_csv(Path(s['out_dir'])/'tiles.csv'); grid = s['grid']
                imgs = np.stack([slide.read_tile(sl, xx, yy, grid) for xx, yy in zip(tiles.x, tiles.y)])
            batches = [(np.arange(i, min(i + a.bs, n)), imgs[i:i + a.bs]) for i in range(0, n, a.bs)]
            t0 = time.perf_counter()
            wsi.predict_batches(clf, batches, n, progress=False)
            own.append(time.perf_counter() - t0)
        e2e_s, own_s = float(np.median(e2e)), float(np.median(own))
        rows[name] = dict(tiles=n, level0=list(s['slide']['dimensions']), end_to_end_s=round(e2e_s, 3),
                          end_to_end_tiles_per_s=round(n / e2e_s, 1), model_only_tiles_per_s=round(n / own_s, 1),
                          ratio=round(own_s / e2e_s, 3), streaming_ratio=round(own_s / s['timings_s']['inference'], 3),
                          stage_timings_s=s['timings_s'], peak_rss_mb=round(peak, 1), rss_before_call_mb=round(base, 1))
        print(f"{name}: {n} tiles; end to end {e2e_s:.2f} s = {n/e2e_s:.1f} tiles/s; "
              f"model alone {n/own_s:.1f} tiles/s; ratio {own_s/e2e_s:.0%} "
              f"(streaming stage alone {own_s/s['timings_s']['inference']:.0%}); peak RSS {peak:.0f} MB "
              f"({base:.0f} MB before the call); stages {s['timings_s']}", flush=True)
    save_results(Path(a.out).stem, out_dir=Path(a.out).parent, threads=a.threads,
                 load_average=[round(v, 2) for v in os.getloadavg()],
                 openslide_library=__import__('openslide').__library_version__,
                 model='reference_cnn (untrained, 96 px, 0.972 um/px)', bs=a.bs, repeats=a.repeats, slides=rows)

if __name__ == '__main__': main()
