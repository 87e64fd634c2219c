"""Deployment benchmarks: onnxruntime `Predictor` vs torch eager, cold start, HTTP service under load, installed size.

All parts run side by side in one process tree on this machine, with the same thread count for both runtimes
(`--threads`, default 2: the machine's cores), on real patches of the PCam test split (`$PCAM_XAI_DATA`). Models are
randomly initialised (`pretrained=False`; speed does not depend on the weights). Parts:

- inference: images/s of `Predictor.predict_batch` (onnxruntime) and of the torch checkpoint path (uint8 → float,
  normalise, model, probabilities; eval mode, `torch.no_grad`), reference CNN and resnet18, batch 1 (32 patches one
  by one) and 64 (128 patches); runs alternate (torch, onnxruntime, ...) `--repeats` times, the best of each is
  reported with the ratio;
- cold start: a fresh `python -c` process that imports, loads the model and predicts one PNG patch, torch checkpoint
  path (`Classifier.load` + `Classifier.probs`) vs `Predictor`; wall time of the whole process, median of
  `--repeats`, alternating;
- service: `pcam-xai-serve` (one uvicorn worker) with the reference CNN; an asyncio httpx client keeps 1, 8 and 32
  requests in flight (one PNG patch each) for `--requests` requests per level: requests/s, p50/p95 latency, failures;
- size: a fresh venv with only numpy, onnxruntime, Pillow and pcam_xai (`--no-deps`), its size on disk, next to the
  size of torch's own package folder in the current environment.

    PCAM_XAI_DATA=../shared/data .venv/bin/python bench/bench_deploy.py --out results/bench_deploy.json
"""
from __future__ import annotations
import argparse, asyncio, io, json, os, platform, socket, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import capture, save_results
warnings.filterwarnings('ignore')
import numpy as np

def patches(n):
    import h5py
    from pcam_xai.core import find_data_root
    with h5py.File(find_data_root(None, 'pcam')/'camelyonpatch_level_2_split_test_x.h5') as f: return f['x'][:n]

NORM = ([0.70, 0.54, 0.69], [0.24, 0.28, 0.21])

def make_models(tmp:Path, archs):
    "A checkpoint and its .onnx export per architecture."
    import torch
    from pcam_xai.models import create_model
    from pcam_xai.checkpoint import save_checkpoint, model_card
    from pcam_xai.export import export_onnx
    out = {}
    for arch in archs:
        torch.manual_seed(0)
        ck = save_checkpoint(create_model(arch, n_out=1).eval(), tmp/f'{arch}.safetensors',
                             model_card(arch, 1, ['normal', 'metastatic'], normalize=NORM), overwrite=True)
        out[arch] = (ck, export_onnx(ck, tmp/f'{arch}.onnx', overwrite=True))
    return out

def bench_inference(models, x, threads, repeats):
    import torch
    from pcam_xai.checkpoint import Classifier
    from pcam_xai.predictor import Predictor
    torch.set_num_threads(threads)
    res = []
    for arch, (ck, onnx_path) in models.items():
        clf = Classifier.load(ck)
        def torch_run(b): return clf.probs(b, bs=len(b))   # uint8 -> [0, 1] -> normalised -> model -> probabilities
        pred = Predictor(onnx_path, threads=threads)
        for bs in (1, 64):
            n = 32 if bs == 1 else len(x)
            batches = [x[i:i + bs] for i in range(0, n, bs)]
            runs = {'torch': lambda: [torch_run(b) for b in batches],
                    'onnxruntime': lambda: [pred.predict_batch(b) for b in batches]}
            for f in runs.values(): f()   # warm-up
            best = {k: float('inf') for k in runs}
            for _ in range(repeats):
                for k, f in runs.items():
                    t = time.perf_counter(); f(); best[k] = min(best[k], time.perf_counter() - t)
            r = dict(arch=arch, batch=bs, images=n, torch_img_s=n / best['torch'],
                     onnxruntime_img_s=n / best['onnxruntime'])
            r['ratio_ort_over_torch'] = r['onnxruntime_img_s'] / r['torch_img_s']
            print(f"  {arch:14s} batch {bs:3d}: torch {r['torch_img_s']:8.1f} img/s  "
                  f"onnxruntime {r['onnxruntime_img_s']:8.1f} img/s  ratio {r['ratio_ort_over_torch']:.2f}x",
                  flush=True)
            res.append(r)
    return res

def bench_cold(ck, onnx_path, png, threads, repeats):
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads)}
    codes = {'torch_checkpoint': (f"import torch; torch.set_num_threads({threads}); "
                                  f"from pcam_xai.checkpoint import Classifier; "
                                  f"from pcam_xai.data.images import read_image; "
                                  f"print(Classifier.load({str(ck)!r}).probs(read_image({str(png)!r})[None]))"),
             'onnx_predictor': (f"from pcam_xai.predictor import Predictor; "
                                f"print(Predictor({str(onnx_path)!r}, threads={threads}).predict({str(png)!r})[0])")}
    times = {k: [] for k in codes}
    for _ in range(repeats):
        for k, c in codes.items():
            t = time.perf_counter()
            r = subprocess.run([sys.executable, '-c', c], capture_output=True, text=True, env=env)
            times[k].append(time.perf_counter() - t)
            if r.returncode: raise RuntimeError(r.stderr[-2000:])
    res = {k: dict(median_s=statistics.median(v), all_s=v) for k, v in times.items()}
    res['ratio_predictor_over_torch'] = res['onnx_predictor']['median_s'] / res['torch_checkpoint']['median_s']
    print(f"  torch checkpoint path {res['torch_checkpoint']['median_s']:.2f} s, "
          f"Predictor {res['onnx_predictor']['median_s']:.2f} s (ratio {res['ratio_predictor_over_torch']:.2f})",
          flush=True)
    return res

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

async def _load(url, pngs, conc, n):
    import httpx
    lat, fails, i = [], 0, 0
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=conc)) as c:
        async def worker():
            nonlocal fails, i
            while i < n:
                k = i; i += 1
                t = time.perf_counter()
                try:
                    r = await c.post(url, files=[('files', (f'p{k}.png', pngs[k % len(pngs)], 'image/png'))])
                    ok = r.status_code == 200 and len(r.json()['predictions']) == 1
                except Exception: ok = False
                lat.append(time.perf_counter() - t); fails += not ok
        t0 = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(conc)])
        return lat, fails, time.perf_counter() - t0

def bench_service(onnx_path, pngs, threads, n_req):
    import httpx
    port = _free_port()
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads)}
    proc = subprocess.Popen([sys.executable, '-c', 'from pcam_xai.serve import main; main()',
                             '--model', str(onnx_path), '--port', str(port), '--threads', str(threads)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(300):
            try:
                if httpx.get(url + '/health', timeout=1).status_code == 200: break
            except httpx.TransportError: time.sleep(0.2)
        asyncio.run(_load(url + '/predict', pngs, 4, 20))   # warm-up
        res = []
        for conc in (1, 8, 32):
            lat, fails, dt = asyncio.run(_load(url + '/predict', pngs, conc, n_req))
            r = dict(clients=conc, requests=len(lat), failed=fails, req_s=len(lat) / dt,
                     p50_ms=1e3 * float(np.percentile(lat, 50)), p95_ms=1e3 * float(np.percentile(lat, 95)))
            print(f"  {conc:2d} clients: {r['req_s']:6.1f} req/s  p50 {r['p50_ms']:6.1f} ms  "
                  f"p95 {r['p95_ms']:6.1f} ms  failed {fails}", flush=True)
            res.append(r)
        return res
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill()

def _du(p:Path) -> int: return sum(f.stat().st_size for f in p.rglob('*') if f.is_file() and not f.is_symlink())

def bench_size(tmp:Path, repo:Path):
    venv = tmp/'venv'
    pip = str(venv/'bin'/'pip')
    for cmd in ([sys.executable, '-m', 'venv', str(venv)], [pip, 'install', '-q', 'numpy', 'onnxruntime', 'pillow'],
                [pip, 'install', '-q', '--no-deps', str(repo)]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode: raise RuntimeError(r.stderr[-2000:])
    site = next(venv.glob('lib/python*/site-packages'))
    freeze = subprocess.run([pip, 'list', '--format=freeze'], capture_output=True, text=True).stdout.split()
    import torch
    torch_dir = Path(torch.__file__).parent
    res = dict(venv_mb=_du(venv) / 2**20, site_packages_mb=_du(site) / 2**20, packages=freeze,
               torch_package_mb=_du(torch_dir) / 2**20)
    print(f"  torch-free venv {res['venv_mb']:.0f} MB (site-packages {res['site_packages_mb']:.0f} MB); "
          f"torch's package folder alone {res['torch_package_mb']:.0f} MB", flush=True)
    return res

def versions():
    import torch, onnxruntime, onnx, starlette, uvicorn, pcam_xai
    return dict(python=platform.python_version(), pcam_xai=pcam_xai.__version__, torch=torch.__version__,
                onnxruntime=onnxruntime.__version__, onnx=onnx.__version__, starlette=starlette.__version__,
                uvicorn=uvicorn.__version__, numpy=np.__version__)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--parts', default='inference,cold,service,size')
    p.add_argument('--threads', type=int, default=2); p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--requests', type=int, default=160, help='requests per concurrency level')
    p.add_argument('--out', default='results/bench_deploy.json')
    a = p.parse_args()
    capture()
    parts = a.parts.split(',')
    from PIL import Image
    tmp = Path(tempfile.mkdtemp(prefix='bench_deploy_'))
    x = patches(128)
    png_bytes = []
    for i, im in enumerate(x[:32]):
        b = io.BytesIO(); Image.fromarray(im).save(b, format='PNG'); png_bytes.append(b.getvalue())
    (tmp/'p0.png').write_bytes(png_bytes[0])
    models = make_models(tmp, ['reference_cnn', 'resnet18'])
    load_start = list(os.getloadavg())
    out = dict(packages=versions(), threads=a.threads,
               data='PCam test split (shared sample), models randomly initialised')
    if 'inference' in parts:
        print('inference', flush=True)
        out['inference'] = bench_inference(models, x, a.threads, a.repeats)
    if 'cold' in parts:
        print('cold start', flush=True)
        out['cold_start'] = bench_cold(*models['reference_cnn'], tmp/'p0.png', a.threads, a.repeats)
    if 'service' in parts:
        print('service', flush=True)
        out['service'] = bench_service(models['reference_cnn'][1], png_bytes, a.threads, a.requests)
    if 'size' in parts:
        print('size', flush=True)
        out['size'] = bench_size(tmp, Path(__file__).resolve().parent.parent)
    out['load_avg_1_5_15'] = dict(start=load_start, end=list(os.getloadavg()))
    save_results(Path(a.out).stem, out_dir=Path(a.out).parent, **out)

if __name__ == '__main__': main()
