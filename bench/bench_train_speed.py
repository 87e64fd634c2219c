"""Training throughput on the CPU: float32 vs channels-last vs bfloat16 autocast, side by side in one run.

    python bench/bench_train_speed.py                    # reference CNN and resnet18, batch 64, 96×96
    python bench/bench_train_speed.py --archs reference_cnn --steps 30

Each configuration runs the same optimizer steps (Adam, BCE on one logit) on the same random batch after warm-up;
the table gives images/s and the ratio to float32. It backs `precision='auto'` choosing bf16 + channels-last on
CPUs with AVX512-BF16/AMX (`pcam_xai.callbacks.cpu_has_bf16`).
"""
import argparse, platform, time
import torch
from pcam_xai.models import create_model
from pcam_xai.callbacks import cpu_has_bf16

CONFIGS = {'fp32': (False, False), 'fp32 + channels-last': (False, True),
           'bf16 autocast': (True, False), 'bf16 autocast + channels-last': (True, True)}

def steps_per_s(arch, bf16, cl, bs, size, steps, warmup=3):
    torch.manual_seed(0)
    model = create_model(arch, n_out=1).train()
    x, y = torch.rand(bs, 3, size, size), torch.randint(0, 2, (bs,)).float()
    if cl: model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    def step():
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x).float().reshape(-1), y)
        opt.zero_grad(); loss.backward(); opt.step()
    for _ in range(warmup): step()
    t = time.perf_counter()
    for _ in range(steps): step()
    return steps * bs / (time.perf_counter() - t)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--archs', nargs='+', default=['reference_cnn', 'resnet18'])
    ap.add_argument('--bs', type=int, default=64); ap.add_argument('--size', type=int, default=96)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--threads', type=int, default=torch.get_num_threads())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"CPU: {platform.processor() or platform.machine()}, {a.threads} threads, "
          f"bf16 instructions: {cpu_has_bf16()}; torch {torch.__version__}; batch {a.bs}, {a.size}×{a.size}, "
          f"{a.steps} steps after warm-up\n")
    print("| model | configuration | images/s | vs fp32 |\n|---|---|---:|---:|")
    for arch in a.archs:
        base = None
        for name, (bf16, cl) in CONFIGS.items():
            ips = steps_per_s(arch, bf16, cl, a.bs, a.size, a.steps)
            base = base or ips
            print(f"| {arch} | {name} | {ips:.0f} | {ips / base:.2f}× |", flush=True)

if __name__ == '__main__':
    import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from _results import capture, save_results   # the printed table goes to results/bench_train_speed.json
    capture(); main(); save_results('bench_train_speed')
