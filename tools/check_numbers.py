"""Check that the numbers README.md and the docs quote are the numbers the committed `results/*.json` files hold.

    python tools/check_numbers.py            # exit 1, listing each problem, if a quoted number has no backing
    python tools/check_numbers.py --root DIR # check another tree (the test in nbs/index.ipynb uses this)

What is checked:
- README.md: every table row that names a `results/<name>.json` file: each number outside the first column and outside
  code spans must be a number of that file (equal after rounding the file's value to the quoted decimals).
- nbs/*.ipynb markdown cells that name one or more `results/<name>.json` files: every table row, the same way, against
  those files.
- Unbacked figures: a table row in README.md or a notebook's markdown that quotes a ratio (`2.1×`), a rate (images/s),
  a confidence interval or a row of 3-decimal metrics and names no results file (in its row, or in its cell for
  notebooks) is an error: every such figure needs its file.
- README.md links to documentation pages: a relative `page.html` link resolves neither in a clone nor on a package
  index, so each must be absolute (`https://pcam-xai.github.io/pcam_xai/page.html`; `python tools/docs.py readme`
  writes them so).
Numbers in a results file are its JSON numbers and every number written in its strings (the table the script printed,
its full output), so a pasted table row always matches the run that printed it.
"""
from __future__ import annotations
import argparse, json, re, sys
from pathlib import Path

NUM = re.compile(r'(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?![\w])')
REF = re.compile(r'results/([\w.-]+)\.json')
FIGURE = re.compile(r'\d(?:\.\d+)?×(?!\s*\d)|images/s|img/s|patches/s|tiles/s|req/s|\[-?\d\.\d+, -?\d\.\d+\]'
                    r'|(?:\| *-?\d\.\d{3,} *){2,}\|')   # ratios, rates, confidence intervals, rows of 3-decimal metrics
CODE = re.compile(r'`[^`]*`')
REL_PAGE = re.compile(r'(?:\]\(|href=")((?![a-zA-Z][\w+.-]*:|#|/)[^)"\s]+\.html(?:#[^)"\s]*)?)')   # ](page.html#x)

def _walk(x):
    if isinstance(x, bool): return
    if isinstance(x, (int, float)): yield float(x)
    elif isinstance(x, str):
        for t in NUM.findall(x): yield float(t.replace(',', ''))
    elif isinstance(x, dict):
        for v in x.values(): yield from _walk(v)
    elif isinstance(x, list):
        for v in x: yield from _walk(v)

def load_results(root:Path) -> dict:
    "{name: sorted numbers} of every results/*.json under `root`."
    return {p.stem: sorted(set(_walk(json.loads(p.read_text())))) for p in sorted((root/'results').glob('*.json'))}

def backed(tok:str, values:list, percent:bool=False) -> bool:
    "Is the quoted number `tok` one of `values` at the quoted precision (a percentage: also as a fraction)?"
    v = float(tok.replace(',', ''))
    d = len(tok.split('.')[1]) if '.' in tok else 0
    tol = 0.5 * 10 ** -d + 1e-9
    return any(abs(r - v) <= tol or (percent and abs(100 * r - v) <= tol) for r in values)

def _cells(row:str) -> list[str]:
    return [c.strip() for c in row.strip().strip('|').split('|')]

def _is_table_row(line:str) -> bool:
    s = line.strip()
    return s.startswith('|') and not re.fullmatch(r'\|?[\s:|-]+\|?', s)

def check_row(row:str, names:list, results:dict, where:str) -> list[str]:
    "Problems with one table row quoting numbers from the results files `names`."
    missing = [n for n in names if n not in results]
    if missing: return [f"{where}: names results/{missing[0]}.json, which does not exist"]
    vals = sorted(v for n in names for v in results[n])
    errs = []
    for cell in _cells(row)[1:]:
        text = CODE.sub('', cell).replace('\u2212', '-')   # a typographic minus is a minus
        for m in NUM.finditer(text):
            tok = m.group()
            if not backed(tok, vals, percent=text[m.end():m.end() + 1] == '%'):
                errs.append(f"{where}: {tok} is in no {', '.join(f'results/{n}.json' for n in names)} (row: {row.strip()[:100]})")
    return errs

def check_text(text:str, results:dict, where:str, cell_level:bool) -> list[str]:
    "Problems in one README or one markdown cell (`cell_level`: a results file named anywhere in it covers its rows)."
    errs, cell_refs = [], REF.findall(text) if cell_level else []
    for i, line in enumerate(text.splitlines(), 1):
        if not _is_table_row(line): continue
        names = sorted(set(REF.findall(line)) | set(cell_refs))
        if names: errs += check_row(line, names, results, f"{where}:{i}")
        elif FIGURE.search(CODE.sub('', line)): errs.append(f"{where}:{i}: a quoted figure with no results file: {line.strip()[:100]}")
    return errs

def check(root:Path) -> list[str]:
    "Every problem found under `root` (README.md and nbs/*.ipynb)."
    results, errs = load_results(root), []
    readme = root/'README.md'
    if readme.exists():
        text = readme.read_text()
        errs += check_text(text, results, 'README.md', cell_level=False)
        for i, line in enumerate(text.splitlines(), 1):
            errs += [f"README.md:{i}: relative link {link!r} resolves neither in a clone nor on a package index: link "
                     f"the documentation site (`python tools/docs.py readme` does)" for link in REL_PAGE.findall(line)]
    for nb in sorted((root/'nbs').glob('*.ipynb')):
        if nb.name == 'index.ipynb': continue   # README.md is generated from it and checked above
        for j, c in enumerate(json.loads(nb.read_text())['cells']):
            if c['cell_type'] == 'markdown':
                errs += check_text(''.join(c['source']), results, f"nbs/{nb.name} cell {j}", cell_level=True)
    return errs

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--root', default=str(Path(__file__).resolve().parents[1]), help="repository root")
    a = ap.parse_args(argv)
    root = Path(a.root)
    errs = check(root)
    for e in errs: print(e)
    n = len(load_results(root))
    print(f"{len(errs)} problem(s); {n} results file(s) checked against README.md and the notebooks")
    return 1 if errs else 0

if __name__ == '__main__': sys.exit(main())
