"""Local docs tooling for machines without Quarto (the published site is built by Quarto in the GitHub workflow).

    python tools/docs.py render   # _proc/*.ipynb (from `nbdev-proc-nbs`) -> _docs/*.html with the sidebar and the
                                  # local files the pages use (images/...)
    python tools/docs.py check    # open every page in headless Chromium (selenium + chromedriver): fail on a broken
                                  # image, a dead link within the site, raw TeX, raw markup; save screenshots
    python tools/docs.py check --self-test   # only prove the check fails on a page with each of those faults
    python tools/docs.py readme   # README.md from the processed nbs/index.ipynb, links to pages made absolute

nbconvert does the notebook -> HTML/Markdown work; this file only strips Quarto-only markup that nbconvert would show
raw, gives headings the ids Quarto (pandoc) gives them so `page.html#anchor` links resolve the same way, adds the
sidebar from `sidebar.yml`, and drives Chromium. The docs hold no TeX (formulas are written in Unicode text), so no
page needs MathJax: `check` fails if a page shows `$...$`.
"""
import argparse, html, json, re, shutil, sys, tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
PROC, DOCS = ROOT/'_proc', ROOT/'_docs'
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync']
SHOTS = ('index.html', 'core.html', 'explorer.html')   # pages `check` saves a screenshot of
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
            if d.get('echo') == 'false' or not c['source'].strip():
                c['metadata'].setdefault('tags', []).append('remove_input')
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
    items = ''.join(f'<li{" class=active" if f == current else ""}><a href="{f}">{html.escape(t)}</a></li>'
                    for f, t in pages)
    return f'<nav class="sidebar"><a class="brand" href="index.html">pcam_xai</a><ul>{items}</ul></nav>'

_CSS = """:root{--jp-cell-prompt-width:0px;--jp-cell-padding:0px}.jp-Notebook{padding:0}.jp-Cell{padding:0 0 .6rem 0}
.jp-InputPrompt,.jp-OutputPrompt{display:none}body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#212529}
.sidebar{position:fixed;top:0;left:0;bottom:0;width:220px;overflow:auto;background:#f5f6f8;border-right:1px solid #ddd;padding:1rem}
.sidebar .brand{font-weight:700;font-size:1.3rem;color:#2780e3;text-decoration:none}.sidebar ul{list-style:none;padding:0}
.sidebar li{margin:.35rem 0}.sidebar li a{color:#333;text-decoration:none}.sidebar li.active a{font-weight:700;color:#2780e3}
body>main{margin-left:250px;max-width:1000px;padding:1rem 2rem}main main{margin:0;padding:0}h1.title{margin-bottom:0}p.subtitle{font-style:italic;opacity:.7;font-size:1.2rem}
.jp-InputArea-prompt,.jp-OutputArea-prompt{display:none}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px}
pre{background:#f8f8f8;padding:.5rem;overflow:auto}img{max-width:100%}"""

def site_url(root:Path=ROOT) -> str:
    "The documentation site's address, from `nbs/nbdev.yml` (what Quarto publishes to)."
    import yaml
    return yaml.safe_load((root/'nbs'/'nbdev.yml').read_text())['website']['site-url'].rstrip('/')

def pandoc_id(text:str) -> str:
    "The id pandoc (so Quarto) gives a heading: lower case, spaces -> '-', alphanumerics and _-. kept, from a letter."
    t = re.sub(r'[^\w\s.-]', '', html.unescape(text).strip().lower())
    t = re.sub(r'\s+', '-', t)
    return re.sub(r'^[^a-z\u00c0-\uffff]+', '', t) or 'section'

_HEADING = re.compile(r'<h([1-6]) id="([^"]*)">(.*?)<a class="anchor-link" href="#\2">', re.S)
def _quarto_ids(body:str) -> str:
    "Replace nbconvert's heading ids (`Choosing-a-recipe`) by Quarto's (`choosing-a-recipe`), duplicates numbered."
    seen = {}
    def sub(m):
        base = pandoc_id(re.sub(r'<[^>]+>', '', m.group(3)))
        n = seen.get(base, 0); seen[base] = n + 1
        new = base if n == 0 else f'{base}-{n}'
        return f'<h{m.group(1)} id="{new}">{m.group(3)}<a class="anchor-link" href="#{new}">'
    return _HEADING.sub(sub, body)

_MATHJAX = re.compile(r'<!-- Load mathjax -->.*?<script type="text/x-mathjax-config">.*?</script>', re.S)
_LOCAL_REF = re.compile(r"""\b(?:src|href)=["']([^"'#?:]+)(?:[?#][^"']*)?["']""")
def _copy_assets(body:str, src_dir:Path, docs:Path) -> list:
    "Copy the local files a page refers to (images, downloads; not pages) from `src_dir` into `docs`, same paths."
    copied = []
    for ref in sorted(set(_LOCAL_REF.findall(body))):
        ref = unquote(ref)
        if ref.endswith('.html') or ref.startswith('/') or '..' in Path(ref).parts: continue
        f = src_dir/ref
        if f.is_file():
            (docs/ref).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, docs/ref); copied.append(ref)
    return copied

def _inline_code(text:str) -> str:
    "Escape `text` for HTML, with Markdown `code` spans as <code> (Quarto renders the description as Markdown)."
    return re.sub(r'`([^`]+)`', r'<code>\1</code>', html.escape(text))

def render(proc:Path=PROC, docs:Path=DOCS, quiet=False):
    "Render every processed notebook in `proc` to `docs`/<page>.html with a sidebar, copying the files pages use."
    from nbconvert import HTMLExporter
    import nbformat
    nbs = sorted(proc.glob('*.ipynb'), key=lambda p: (p.name != 'index.ipynb', p.name))
    if not nbs: sys.exit(f"No processed notebooks in {proc}: run `nbdev-proc-nbs` first.")
    docs.mkdir(exist_ok=True)
    exp = _exporter(HTMLExporter(template_name='lab')); exp.exclude_input_prompt = exp.exclude_output_prompt = True
    loaded = [(p, nbformat.read(p, as_version=4)) for p in nbs]
    pages = [(html_name(p), _frontmatter(nb).get('title', p.stem)) for p, nb in loaded]
    assets = set()
    for (p, nb), (fname, title) in zip(loaded, pages):
        fm = _frontmatter(nb)
        body, _ = exp.from_notebook_node(_clean_nb(nb))
        body = re.sub(r'<title>.*?</title>', f'<title>{html.escape(title)} – pcam_xai</title>', body, count=1,
                      flags=re.S)
        body = _quarto_ids(_MATHJAX.sub('', body))   # the docs hold no TeX: no MathJax from a CDN
        head = (f'<h1 class="title">{html.escape(title)}</h1>' +
                (f'<p class="subtitle">{_inline_code(fm["description"])}</p>' if fm.get('description') else ''))
        body = body.replace('</head>', f'<style>{_CSS}</style></head>', 1)
        body = re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + _sidebar(pages, fname) + '<main>' + head, body, count=1)
        body = body.replace('</body>', '</main></body>', 1)
        (docs/fname).write_text(body)
        assets.update(_copy_assets(body, p.parent, docs))
    if not quiet:
        print(f"rendered {len(pages)} pages to {docs}/: {', '.join(f for f, _ in pages)}; "
              f"copied {len(assets)} local file(s) they use: {', '.join(sorted(assets)) or '-'}")

def _chromium() -> str:
    for c in ('chromium', 'chromium-browser', 'google-chrome'):
        if shutil.which(c): return shutil.which(c)
    sys.exit("Chromium not found: install Debian's `chromium` package (apt-get install chromium).")

def _driver():
    "Headless Chromium driven by selenium (the `dev` extra) through chromedriver."
    if not shutil.which('chromedriver'): sys.exit("chromedriver not found: apt-get install chromium-driver")
    try: from selenium import webdriver
    except ImportError: sys.exit('selenium missing: pip install -e ".[dev]"')
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions(); opts.binary_location = _chromium()
    for f in CHROMIUM_FLAGS + ['--hide-scrollbars', '--window-size=1280,1000']: opts.add_argument(f)
    d = webdriver.Chrome(service=Service(shutil.which('chromedriver')), options=opts)
    d.set_page_load_timeout(120)
    return d

# What a page shows, read in the browser after it loaded (images decoded: `naturalWidth` is 0 for a broken one).
_PAGE_JS = """
const prose = document.body.cloneNode(true);
prose.querySelectorAll('pre, code, script, style, .sidebar').forEach(e => e.remove());
return JSON.stringify({
  text: document.body.innerText,
  prose: prose.textContent,
  ids: Array.from(document.querySelectorAll('[id], a[name]')).map(e => e.id || e.getAttribute('name')),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => [a.getAttribute('href'), a.href]),
  images: Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]),
});"""
# TeX as pandoc reads it: `$x$` (no space inside either `$`, no digit after the closing one), `$$...$$`, environments
TEX = re.compile(r'\$\$[^$]+\$\$|(?<![\w$\\])\$(?![\s$])[^$\n]{1,300}?(?<![\s\\])\$(?![\w$])|\\begin\{\w+\}')

def _wait_images(driver, timeout=20):
    import time
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        if driver.execute_script("return Array.from(document.images).every(i => i.complete)"): return
        time.sleep(0.2)

def _internal(href:str, docs:Path, site:str):
    "(page, anchor) when `href` (as the browser resolved it) points into the site, else None."
    for base in (docs.resolve().as_uri() + '/', site + '/'):
        if href.startswith(base):
            u = urlsplit(href[len(base):])
            return unquote(u.path) or 'index.html', unquote(u.fragment)
    return None

def check_site(docs:Path=DOCS, shots=SHOTS, site:str=None, api=('core.html', 'get_device', 'device'),
               driver=None) -> list:
    "Problems a reader would see in `docs`: broken images, dead links (in the site or out of it), raw TeX, raw markup."
    site = site or site_url()
    pages = sorted(p.name for p in docs.glob('*.html'))
    if not pages: sys.exit(f"FAIL: no pages in {docs}: run `python tools/docs.py render` first.")
    own = driver is None
    driver = driver or _driver()
    fails, seen = [], {}
    try:
        for name in pages:
            driver.get((docs/name).resolve().as_uri()); _wait_images(driver)
            seen[name] = info = json.loads(driver.execute_script(_PAGE_JS))
            text = ' '.join(info['text'].split())
            if name in shots: driver.save_screenshot(str(docs/f'screenshot-{Path(name).stem}.png'))
            if 'pcam_xai' not in text: fails.append(f"{name}: the site title 'pcam_xai' is not visible")
            if len(text) < 500: fails.append(f"{name}: only {len(text)} characters of visible text")
            fails += [f"{name}: raw markup or an error is visible: {m!r}" for m in RAW_MARKUP if m in text]
            fails += [f"{name}: broken image {src!r} (the browser could not load it)"
                      for src, complete, width in info['images'] if not width]
            fails += [f"{name}: raw TeX is visible: {m.group()[:80]!r} (write formulas in Unicode text: OD = −ln I)"
                      for m in TEX.finditer(' '.join(info['prose'].split()))]
            if api and name == api[0] and not re.search(rf'def\s+{api[1]}\s*\(\s*{api[2]}\s*:', text):
                fails.append(f"{name}: the signature `def {api[1]}({api[2]}: ...)` is not visible")
        for name, info in seen.items():
            for raw, href in info['links']:
                tgt = _internal(href, docs, site)
                if tgt is None:
                    if href.startswith('file:'): fails.append(f"{name}: dead link {raw!r}: it leaves the site")
                    continue
                page, anchor = tgt
                if page.endswith('.html'):
                    if page not in seen: fails.append(f"{name}: dead link {raw!r}: there is no page {page}")
                    elif anchor and anchor not in seen[page]['ids']:
                        fails.append(f"{name}: dead link {raw!r}: {page} has no anchor #{anchor}")
                elif not (docs/page).is_file(): fails.append(f"{name}: dead link {raw!r}: no file {page} in the site")
    finally:
        if own: driver.quit()
    return fails

def self_test(driver=None) -> None:
    "Render a small site with a broken image, dead links and raw TeX, check it, and fail unless each fault is reported."
    import nbformat
    from nbformat.v4 import new_notebook, new_markdown_cell, new_raw_cell
    from PIL import Image
    site = 'https://example.org/site'
    filler = 'Text a reader sees on the pcam_xai site. ' * 20
    bad = ["# A page with faults\n\n> the docs check must report each of them",
           "![an image that exists](images/ok.png) ![a missing image](images/missing.png)",
           f"Links: [a page that exists](b.html#a-heading), [a dead page](nowhere.html), "
           f"[a dead anchor](b.html#nowhere), [a dead site link]({site}/b.html#gone), "
           f"[a file outside the site](../README.md) and [a live one]({site}/b.html).",
           "Raw TeX: $OD = -\\ln I$. Prices are not TeX: $5 and $10.", filler]
    with tempfile.TemporaryDirectory() as d:
        proc, docs = Path(d)/'proc', Path(d)/'docs'; (proc/'images').mkdir(parents=True)
        Image.new('RGB', (8, 8), 'red').save(proc/'images'/'ok.png')
        a = [new_raw_cell('---\ntitle: a\n---'), *map(new_markdown_cell, bad)]
        b = [new_raw_cell('---\ntitle: b\n---'), new_markdown_cell('## A heading\n\n' + filler)]
        nbformat.write(new_notebook(cells=a), proc/'index.ipynb'); nbformat.write(new_notebook(cells=b), proc/'b.ipynb')
        render(proc, docs, quiet=True)
        assert (docs/'images'/'ok.png').is_file(), "render did not copy images/ok.png into the site"
        fails = check_site(docs, shots=(), site=site, api=None, driver=driver)
    want = ["index.html: broken image 'images/missing.png'", "dead link 'nowhere.html': there is no page nowhere.html",
            "dead link 'b.html#nowhere': b.html has no anchor #nowhere", f"dead link '{site}/b.html#gone'",
            "dead link '../README.md': it leaves the site",
            "raw TeX is visible: '$OD = -\\\\ln I$'"]
    missed = [w for w in want if not any(w in f for f in fails)]
    extra = [f for f in fails if not any(w in f for w in want)]
    if missed or extra:
        sys.exit("FAIL: docs check self-test: " + '; '.join([f"not reported: {w}" for w in missed] +
                                                            [f"wrongly reported: {f}" for f in extra]))
    print(f"docs check self-test passed: a page with a broken image, 4 dead links and raw TeX: {len(fails)} failures")

def check(self_test_only=False):
    "Prove the check fails on a faulty page, then check every page in _docs/ as a reader sees it."
    driver = _driver()
    try:
        self_test(driver)
        if self_test_only: return
        fails = check_site(driver=driver)
    finally: driver.quit()
    n = len(list(DOCS.glob('*.html')))
    if fails: sys.exit(f"FAIL: {len(fails)} problem(s) on {n} pages:\n  " + "\n  ".join(fails))
    shots = ', '.join(f'screenshot-{Path(s).stem}.png' for s in SHOTS if (DOCS/s).exists())
    print(f"docs check passed: {n} pages, no broken image, dead link, raw TeX or raw markup; screenshots in "
          f"{DOCS.relative_to(ROOT)}/: {shots}")

_REL_LINK = re.compile(r'(\]\(|href=")(?![a-zA-Z][\w+.-]*:|#|/)([^)"\s]+\.html(?:#[^)"\s]*)?)')
def absolute_links(md:str, site:str) -> str:
    "Links to pages of the site (`](training.html#x)`) made absolute (`](SITE/training.html#x)`), as README.md needs."
    return _REL_LINK.sub(lambda m: f'{m.group(1)}{site}/{m.group(2)}', md)

def readme():
    "Write README.md from the processed index notebook (what `nbdev-readme` does with Quarto), page links absolute."
    from nbconvert import MarkdownExporter
    import nbformat
    src = PROC/'index.ipynb'
    if not src.exists(): sys.exit(f"{src} missing: run `nbdev-proc-nbs` first.")
    nb = nbformat.read(src, as_version=4); fm = _frontmatter(nb)
    nb = _clean_nb(nb)
    nb['cells'] = [c for c in nb['cells'] if not (c['cell_type'] == 'code' and not c.get('outputs')
                                                  and 'remove_input' in c['metadata'].get('tags', []))]
    exp = _exporter(MarkdownExporter())
    md, _ = exp.from_notebook_node(nb)
    head = f"# {fm.get('title', 'pcam_xai')}\n\n"
    if fm.get('description'): head += f"> {fm['description']}\n\n"
    md = absolute_links(head + re.sub(r'\n{3,}', '\n\n', md).strip() + '\n', site_url())
    (ROOT/'README.md').write_text(md)
    print("wrote README.md")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('cmd', choices=['render', 'check', 'readme'])
    ap.add_argument('--self-test', action='store_true', help="check: only prove that the check fails on a faulty page")
    a = ap.parse_args()
    if a.cmd == 'check': check(a.self_test)
    else: {'render': render, 'readme': readme}[a.cmd]()
