"""Write a benchmark's or evaluation's output to `results/<name>.json`: the numbers the docs quote, with what made them.

Every script in `bench/` ends with `save_results(name, ...)`; `tools/check_numbers.py` (run by a test in
`nbs/index.ipynb`) compares the numbers in README.md and the docs with these files.
"""
from __future__ import annotations
import json, os, platform, shlex, sys, time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ('torch', 'torchvision', 'fastai', 'timm', 'numpy', 'h5py', 'captum', 'grad-cam', 'torchstain',
            'onnxruntime', 'openslide-python', 'scikit-learn', 'pcam-xai')

def versions() -> dict:
    "Python and the installed versions of the packages benchmarks compare."
    out = {'python': platform.python_version()}
    for p in PACKAGES:
        try: out[p] = metadata.version(p)
        except metadata.PackageNotFoundError: pass
    return out

def machine() -> dict:
    "What the numbers were measured on (benchmarks on a shared machine: ratios, not absolute rates, carry over)."
    try: load = os.getloadavg()[0]
    except OSError: load = None
    return dict(system=platform.system(), arch=platform.machine(), processor=platform.processor() or None,
                cpus=os.cpu_count(), load_1min=load)

class _Tee:
    "Copy of what a script prints, so the table it prints is stored verbatim beside the numbers."
    def __init__(self, out): self.out, self.lines = out, []
    def write(self, s): self.lines.append(s); return self.out.write(s)
    def flush(self): self.out.flush()
    def __getattr__(self, k): return getattr(self.out, k)
    @property
    def text(self): return ''.join(self.lines)

def capture():
    "Start recording standard output (call first in `main`); `save_results` stores the markdown tables printed."
    if not isinstance(sys.stdout, _Tee): sys.stdout = _Tee(sys.stdout)

def printed_tables() -> str|None:
    "The markdown table lines printed since `capture()`."
    if not isinstance(sys.stdout, _Tee): return None
    rows = [l for l in sys.stdout.text.splitlines() if l.startswith('|')]
    return '\n'.join(rows) or None

def save_results(name:str, # file name under results/ (without .json)
                 table:str|None=None, # markdown table; default: the table lines printed since `capture()`
                 out_dir:str|Path|None=None, # default: results/ of the repository
                 command:str|None=None, # how to rerun it; default: this script's command line
                 **numbers) -> Path:
    "Write `results/<name>.json` with the command, date, machine, versions, the printed table and `numbers`."
    out = Path(out_dir or os.environ.get('PCAM_XAI_RESULTS') or ROOT/'results')/f'{name}.json'
    out.parent.mkdir(parents=True, exist_ok=True)
    if not command:   # this script's command line, relative to the repository
        argv = [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]
        command = ' '.join(['python'] + [shlex.quote(a) for a in argv])
    rec = dict(command=command,
               date=time.strftime('%Y-%m-%dT%H:%M:%S%z'), machine=machine(), versions=versions(),
               table=table or printed_tables(), output=sys.stdout.text if isinstance(sys.stdout, _Tee) else None,
               **numbers)
    tmp = out.with_suffix('.json.tmp')
    tmp.write_text(json.dumps(rec, indent=1, default=float) + '\n'); os.replace(tmp, out)
    print(f"results written to {os.path.relpath(out, Path.cwd())}")
    return out
