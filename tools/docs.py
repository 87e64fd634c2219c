"""Local docs tooling for machines without Quarto (the published site is built by Quarto in the GitHub workflow).

    python tools/docs.py render   # _proc/*.ipynb (from `nbdev-proc-nbs`) -> _docs/*.html, with the sidebar
    python tools/docs.py check    # open pages in headless Chromium, check what a reader sees, save screenshots
    python tools/docs.py readme   # README.md from the processed nbs/index.ipynb

nbconvert does the notebook -> HTML/Markdown work; this file only strips Quarto-only markup that nbconvert would show
raw, adds the sidebar from `sidebar.yml`, and drives Chromium.
"""
import argparse, html, re, shutil, subprocess, sys, tempfile
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROC, DOCS = ROOT/'_proc', ROOT/'_docs'
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync']
RAW_MARKUP = [':::', '{.', '#| ', '#|export', '<!-- ', 'Traceback (most recent call last)', 'NameError', 'undefined']

def html_name(nb:Path) -> str:
    "nbdev's page name: lower case, numeric prefix dropped (00_core.ipynb -> core.html)."
    return re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb.name.lower()).replace('.ipynb', '.html')

def _frontmatter(nb) -> dict:
    "Title and description from the raw YAML frontmatter cell nbdev puts first."
    import yaml
    for c in nb['cells'][:2]:
        if c['cell_type'] == 'raw' and c['source'].startswith('---'):
            return yaml.safe_load(c['source'].strip().strip('-')) or {}
    return {}

_QUARTO_DIV = re.compile(r'^:::+ *(\{[^}]*\})? *$', re.M)
_QUARTO_ATTR = re.compile(r'\{(\.[\w-]+ ?|#[\w-]+ ?|[\w-]+="[^"]*" ?)+\}')
def _strip_quarto(md:str) -> str:
    "Remove Quarto fenced-div markers and attribute blocks that plain Markdown would print."
    return _QUARTO_ATTR.sub('', _QUARTO_DIV.sub('', md))

_CELL_KEYS = {'cell_type', 'id', 'metadata', 'source', 'outputs', 'execution_count', 'attachments'}
def _directives(src:str) -> dict:
    "Quarto cell options (`#| key: value`) at the top of a code cell."
    return dict(l[3:].split(':', 1) for l in src.splitlines() if l.startswith('#| ') and ':' in l)

def _clean_nb(nb):
    "Apply Quarto's cell options (echo/include/output), drop the frontmatter and Quarto-only markup."
    cells = []
    for c in nb['cells']:
        if c['cell_type'] == 'raw': continue
        for k in set(c) - _CELL_KEYS: del c[k]
        c['metadata'].pop('execution', None)
        if c['cell_type'] == 'markdown': c['source'] = _strip_quarto(c['source'])
        if c['cell_type'] == 'code':
            d = {k.strip(): v.strip() for k, v in _directives(c['source']).items()}
            if d.get('include') == 'false': continue
            if d.get('output') == 'false': c['outputs'] = []
            c['source'] = '\n'.join(l for l in c['source'].splitlines() if not l.startswith('#|'))
            if d.get('echo') == 'false' or not c['source'].strip(): c['metadata'].setdefault('tags', []).append('remove_input')
            for o in c.get('outputs', []):
                data = o.get('data', {})
                if 'text/markdown' in data: data['text/markdown'] = _strip_quarto(data['text/markdown'])
        cells.append(c)
    nb['cells'] = cells
    return nb

def _exporter(exp):
    "An nbconvert exporter that drops the inputs of cells tagged `remove_input` (Quarto's `echo: false`)."
    from nbconvert.preprocessors import TagRemovePreprocessor
    exp.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'}), enabled=True)
    return exp

def _sidebar(pages:list, current:str) -> str:
    items = ''.join(f'<li{" class=active" if f == current else ""}><a href="{f}">{html.escape(t)}</a></li>' for f, t in pages)
    return f'<nav class="sidebar"><a class="brand" href="index.html">pcam_xai</a><ul>{items}</ul></nav>'

_CSS = """:root{--jp-cell-prompt-width:0px;--jp-cell-padding:0px}.jp-Notebook{padding:0}.jp-Cell{padding:0 0 .6rem 0}
.jp-InputPrompt,.jp-OutputPrompt{display:none}body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#212529}
.sidebar{position:fixed;top:0;left:0;bottom:0;width:220px;overflow:auto;background:#f5f6f8;border-right:1px solid #ddd;padding:1rem}
.sidebar .brand{font-weight:700;font-size:1.3rem;color:#2780e3;text-decoration:none}.sidebar ul{list-style:none;padding:0}
.sidebar li{margin:.35rem 0}.sidebar li a{color:#333;text-decoration:none}.sidebar li.active a{font-weight:700;color:#2780e3}
main{margin-left:250px;max-width:1000px;padding:1rem 2rem}h1.title{margin-bottom:0}p.subtitle{font-style:italic;opacity:.7;font-size:1.2rem}
.jp-InputArea-prompt,.jp-OutputArea-prompt{display:none}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px}
pre{background:#f8f8f8;padding:.5rem;overflow:auto}img{max-width:100%}"""

def render():
    "Render every processed notebook in _proc/ to _docs/<page>.html with a sidebar."
    from nbconvert import HTMLExporter
    import nbformat
    nbs = sorted(PROC.glob('*.ipynb'), key=lambda p: (p.name != 'index.ipynb', p.name))
    if not nbs: sys.exit(f"No processed notebooks in {PROC}: run `nbdev-proc-nbs` first.")
    DOCS.mkdir(exist_ok=True)
    exp = _exporter(HTMLExporter(template_name='lab')); exp.exclude_input_prompt = exp.exclude_output_prompt = True
    loaded = [(p, nbformat.read(p, as_version=4)) for p in nbs]
    pages = [(html_name(p), _frontmatter(nb).get('title', p.stem)) for p, nb in loaded]
    for (p, nb), (fname, title) in zip(loaded, pages):
        fm = _frontmatter(nb)
        body, _ = exp.from_notebook_node(_clean_nb(nb))
        body = re.sub(r'<title>.*?</title>', f'<title>{html.escape(title)} – pcam_xai</title>', body, count=1, flags=re.S)
        head = (f'<h1 class="title">{html.escape(title)}</h1>' +
                (f'<p class="subtitle">{html.escape(fm["description"])}</p>' if fm.get('description') else ''))
        body = body.replace('</head>', f'<style>{_CSS}</style></head>', 1)
        body = re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + _sidebar(pages, fname) + '<main>' + head, body, count=1)
        body = body.replace('</body>', '</main></body>', 1)
        (DOCS/fname).write_text(body)
        for f in (p.parent).glob(p.stem + '_files'): shutil.copytree(f, DOCS/f.name, dirs_exist_ok=True)
    print(f"rendered {len(pages)} pages to {DOCS.relative_to(ROOT)}/: {', '.join(f for f, _ in pages)}")

class _Text(HTMLParser):
    "Visible text of an HTML document (skips script/style)."
    def __init__(self): super().__init__(); self.parts, self.skip = [], 0
    def handle_starttag(self, tag, attrs): self.skip += tag in ('script', 'style')
    def handle_endtag(self, tag): self.skip -= tag in ('script', 'style') and self.skip > 0
    def handle_data(self, d):
        if not self.skip: self.parts.append(d)

def _chromium() -> str:
    for c in ('chromium', 'chromium-browser', 'google-chrome'):
        if shutil.which(c): return shutil.which(c)
    sys.exit("Chromium not found: install Debian's `chromium` package (apt-get install chromium).")

def _browse(page:Path, shot:Path) -> str:
    "Load `page` in headless Chromium: save a screenshot to `shot`, return the visible text of the rendered DOM."
    exe, url = _chromium(), page.resolve().as_uri()
    with tempfile.TemporaryDirectory() as prof:
        flags = CHROMIUM_FLAGS + [f'--user-data-dir={prof}', '--hide-scrollbars', '--window-size=1280,1000']
        dom = subprocess.run([exe, *flags, '--dump-dom', url], capture_output=True, text=True, timeout=120).stdout
        subprocess.run([exe, *flags, f'--screenshot={shot}', url], capture_output=True, text=True, timeout=120)
    if not shot.exists() or shot.stat().st_size < 1000: sys.exit(f"FAIL: Chromium saved no screenshot of {page.name}")
    p = _Text(); p.feed(dom)
    return ' '.join(' '.join(p.parts).split())

def check(pages=('index.html', 'core.html'), api_page='core.html', api_fn='get_device', api_arg='device'):
    "Open pages in headless Chromium and check what a reader sees."
    fails = []
    for name in pages:
        page = DOCS/name
        if not page.exists(): sys.exit(f"FAIL: {page} does not exist: run `python tools/docs.py render` first.")
        text = _browse(page, DOCS/f'screenshot-{page.stem}.png')
        if 'pcam_xai' not in text: fails.append(f"{name}: the site title 'pcam_xai' is not visible")
        if len(text) < 500: fails.append(f"{name}: only {len(text)} characters of visible text")
        fails += [f"{name}: raw markup or an error is visible: {m!r}" for m in RAW_MARKUP if m in text]
        if name == api_page and not re.search(rf'def\s+{api_fn}\s*\(\s*{api_arg}\s*:', text):
            fails.append(f"{name}: the signature `def {api_fn}({api_arg}: ...)` is not visible")
        print(f"checked {name}: {len(text)} characters visible, screenshot {(DOCS/f'screenshot-{page.stem}.png').relative_to(ROOT)}")
    if fails: sys.exit("FAIL:\n  " + "\n  ".join(fails))
    print("docs check passed")

def readme():
    "Write README.md from the processed index notebook (what `nbdev-readme` does with Quarto)."
    from nbconvert import MarkdownExporter
    import nbformat
    src = PROC/'index.ipynb'
    if not src.exists(): sys.exit(f"{src} missing: run `nbdev-proc-nbs` first.")
    nb = nbformat.read(src, as_version=4); fm = _frontmatter(nb)
    nb = _clean_nb(nb)
    nb['cells'] = [c for c in nb['cells'] if not (c['cell_type'] == 'code' and not c.get('outputs') and 'remove_input' in c['metadata'].get('tags', []))]
    exp = _exporter(MarkdownExporter())
    md, _ = exp.from_notebook_node(nb)
    head = f"# {fm.get('title', 'pcam_xai')}\n\n"
    if fm.get('description'): head += f"> {fm['description']}\n\n"
    (ROOT/'README.md').write_text(head + re.sub(r'\n{3,}', '\n\n', md).strip() + '\n')
    print("wrote README.md")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('cmd', choices=['render', 'check', 'readme'])
    {'render': render, 'check': check, 'readme': readme}[ap.parse_args().cmd]()
