"""Multi-magnification models on the CPU: parameters and forward time per patient, side by side in one run.

    python bench/bench_multimag.py                        # EfficientNet-B0 extractors, 224×224, 20 runs
    python bench/bench_multimag.py --backbone resnet18 --runs 10 --threads 1

One patient is a batch of four images (40×, 100×, 200×, 400×). The peer is a single EfficientNet-B0 (the same timm
backbone with its classifier) run on those four images as one batch of 4: what a single-magnification model costs for
the same pixels. Every model runs in eval mode under `torch.no_grad`, float32; the models are timed in turn, round
after round (so that load changes on a shared machine hit them alike), and the table gives the median.
"""
import argparse, platform, statistics, time, warnings
# noise from a dependency
warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)
import torch
from pcam_xai.models import create_model, count_params
import pcam_xai.multimag  # noqa: F401  (registers mag_concat and mag_attention)

def configs(backbone):
    return {f'{backbone} alone, batch of 4 (peer)': lambda: create_model(backbone, n_out=1),
            'mag_concat, 4 extractors': lambda: create_model('mag_concat', backbone=backbone),
            'mag_concat, shared extractor': lambda: create_model('mag_concat', backbone=backbone, share_weights=True),
            'mag_attention, 4 extractors': lambda: create_model('mag_attention', backbone=backbone),
            'mag_attention, shared extractor':
                lambda: create_model('mag_attention', backbone=backbone, share_weights=True)}

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--backbone', default='efficientnet_b0'); ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--runs', type=int, default=20)
    ap.add_argument('--threads', type=int, default=torch.get_num_threads())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    xs = [torch.randn(1, 3, a.size, a.size) for _ in range(4)]
    x4 = torch.cat(xs)
    models = {n: f().eval() for n, f in configs(a.backbone).items()}
    call = {n: (lambda m=m: m(x4)) if 'peer' in n else (lambda m=m: m(*xs)) for n, m in models.items()}
    times = {n: [] for n in models}
    with torch.no_grad():
        for f in call.values(): f(); f()                      # warm-up
        for _ in range(a.runs):
            for n, f in call.items():
                t = time.perf_counter(); f(); times[n].append((time.perf_counter() - t) * 1000)
    print(f"CPU: {platform.processor() or platform.machine()}, {a.threads} threads; torch {torch.__version__}; "
          f"one patient = 4 images of {a.size}×{a.size}; median of {a.runs} forward passes (no_grad, float32)\n")
    print("| model | parameters | weights (fp32) | forward ms / patient | vs peer |\n|---|---:|---:|---:|---:|")
    base = None
    for n, m in models.items():
        p, ms = count_params(m), statistics.median(times[n])
        base = base or ms
        print(f"| {n} | {p / 1e6:.2f} M | {p * 4 / 2**20:.1f} MiB | {ms:.1f} | {ms / base:.2f}× |", flush=True)

if __name__ == '__main__':
    import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from _results import capture, save_results   # the printed table goes to results/bench_multimag.json
    capture(); main(); save_results('bench_multimag')
