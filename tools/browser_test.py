"""Browser test of `pcam-xai explore`: serve the explorer with Voilà, drive it in headless Chromium, check what it shows.

    python tools/browser_test.py [--data $PCAM_XAI_DATA] [--checkpoint F] [--out DIR] [--timeout 540]

Without --checkpoint a tiny reference CNN is trained first (one epoch on 512 PCam training patches, about a minute).
Steps: start `pcam-xai explore` on a free 127.0.0.1 port; open it in Debian's chromium (Selenium + /usr/bin/chromedriver,
nothing is downloaded); wait for the gallery; change the true-class filter (the count must change) and the method (the
detail image must change); upload a PCam patch from hcd/train and a 20 MB TIFF (over tornado's default 10 MB websocket
limit: it must arrive and be resized with a note); check that no error text or traceback shows; save screenshots.
The server is always stopped. Exit code 0: passed; 1: a check failed; 77: no Chromium/chromedriver (skipped).
"""
from __future__ import annotations
import argparse, os, shutil, signal, socket, subprocess, sys, tempfile, time
from pathlib import Path

CHROMIUM, CHROMEDRIVER = shutil.which('chromium') or '/usr/bin/chromium', shutil.which('chromedriver') or '/usr/bin/chromedriver'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--window-size=1500,2300', '--disable-dev-shm-usage']

def log(*a): print('[browser_test]', *a, flush=True)

def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def train_tiny(data: Path, out: Path) -> Path:
    "A one-epoch reference CNN on 512 PCam training patches (only to have real, non-random predictions)."
    import numpy as np
    from pcam_xai.cli import load_splits
    from pcam_xai.data.core import HistoSubset
    from pcam_xai.training import train_and_evaluate
    s = load_splits(data/'pcam')
    sub = lambda ds, n: HistoSubset(ds, np.sort(np.random.default_rng(0).permutation(len(ds))[:n]))
    r = train_and_evaluate(sub(s['train'], 512), sub(s['valid'], 128), sub(s['test'], 64), out, epochs=1, bs=64, lr=3e-3,
                           normalize='dataset', tta=False, n_boot=10, progress=False, data_info=s['info'], overwrite=True)
    return Path(r['checkpoint'])

def big_tiff(path: Path, mb: float = 20) -> Path:
    "An uncompressed RGB TIFF of about `mb` megabytes (tissue-like noise)."
    import numpy as np
    from PIL import Image
    side = int((mb * 2**20 / 3) ** 0.5)
    a = np.random.default_rng(0).integers(120, 255, (side, side, 3), dtype=np.uint8)
    Image.fromarray(a).save(path, format='TIFF')
    return path

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default=os.environ.get('PCAM_XAI_DATA', '../shared/data'))
    ap.add_argument('--checkpoint'); ap.add_argument('--out', default='browser_test_out')
    ap.add_argument('--timeout', type=float, default=540, help="seconds for the whole test")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))   # `timeout` stops us: still stop the server (finally)
    t_end = time.monotonic() + a.timeout
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        log(f"SKIP: no chromium ({CHROMIUM}) or chromedriver ({CHROMEDRIVER}); install Debian's chromium and chromium-driver")
        return 77
    data, out = Path(a.data), Path(a.out); out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix='pcx_browser_'))
    ck = Path(a.checkpoint) if a.checkpoint else None
    if ck is None:
        t0 = time.monotonic(); ck = train_tiny(data, tmp/'ck'); log(f"trained {ck} in {time.monotonic() - t0:.0f} s")
    patch = sorted((data/'hcd'/'train').glob('*.tif'))[0]
    tiff = big_tiff(tmp/'big_20mb.tif')
    port = free_port(); url = f'http://127.0.0.1:{port}/'
    exe = Path(sys.executable).parent/'pcam-xai'   # the console script; else the same entry point through python
    cmd = ([str(exe)] if exe.exists() else [sys.executable, '-c', 'from pcam_xai.cli import main; main()']) + ['explore', '--data', str(data/'pcam'), '--checkpoint', str(ck),
           '--port', str(port), '--no-browser']
    srv_log = open(out/'server.log', 'w')
    srv = subprocess.Popen(cmd, stdout=srv_log, stderr=subprocess.STDOUT, start_new_session=True)
    log(f"server: {' '.join(cmd)} (pid {srv.pid})")
    driver, failures = None, []
    def check(ok, what):
        log(('ok   ' if ok else 'FAIL ') + what)
        if not ok: failures.append(what)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select, WebDriverWait
        opts = webdriver.ChromeOptions(); opts.binary_location = CHROMIUM
        for f in FLAGS: opts.add_argument(f)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        driver.set_page_load_timeout(max(30, t_end - time.monotonic()))
        def left(): return max(5, t_end - time.monotonic() - 20)
        def wait(cond, what, timeout=None):
            try: return WebDriverWait(driver, min(timeout or left(), left()), poll_frequency=0.5).until(lambda d: cond())
            except Exception:
                driver.save_screenshot(str(out/'failed.png')); raise AssertionError(f"timed out waiting for {what}") from None
        css = lambda sel: driver.find_elements(By.CSS_SELECTOR, sel)
        text = lambda sel: ' '.join(e.text for e in css(sel))
        def up_server():
            if srv.poll() is not None: raise AssertionError(f"server exited ({srv.returncode}); see {out/'server.log'}")
            with socket.socket() as s: return s.connect_ex(('127.0.0.1', port)) == 0
        wait(up_server, 'the server to listen', 120)
        t0 = time.monotonic(); driver.get(url)
        wait(lambda: 'match' in text('.pcx-count') and len(css('.pcx-gallery img')) > 0 and css('.pcx-detail')
             and (css('.pcx-detail')[0].get_attribute('src') or '').startswith('blob:'), 'the gallery and detail view')
        log(f"page with gallery in {time.monotonic() - t0:.1f} s: {text('.pcx-count')!r}")
        driver.save_screenshot(str(out/'1_gallery.png'))
        count0, thumbs0 = text('.pcx-count'), [e.get_attribute('src') for e in css('.pcx-gallery img')]
        check(len(thumbs0) == 16, f"16 thumbnails on the first page ({len(thumbs0)})")
        Select(css('.pcx-f-true select')[0]).select_by_visible_text('metastatic')
        wait(lambda: text('.pcx-count') not in ('', count0), 'the count to change after the filter')
        count1 = text('.pcx-count')
        check(count1 != count0 and '211' in count1, f"true=metastatic filter: {count0!r} -> {count1!r}")
        wait(lambda: [e.get_attribute('src') for e in css('.pcx-gallery img')] != thumbs0, 'new thumbnails')
        detail0 = css('.pcx-detail')[0].get_attribute('src')
        Select(css('.pcx-method select')[0]).select_by_visible_text('gradcam++')
        wait(lambda: css('.pcx-detail')[0].get_attribute('src') != detail0 and 'gradcam++' in text('.pcx-caption'),
             'the detail view to change with the method')
        check(True, f"method gradcam -> gradcam++ changed the detail image ({text('.pcx-caption')!r})")
        driver.save_screenshot(str(out/'2_filtered_detail.png'))
        # ipywidgets 8's FileUpload keeps its <input type=file> out of the DOM and click()s it to open the OS dialog;
        # redirect that click to put the input into the page, where WebDriver can hand it files as a user would
        driver.execute_script("""const orig = HTMLInputElement.prototype.click;
            HTMLInputElement.prototype.click = function() {
              if (this.type !== 'file') return orig.call(this);
              this.value = ''; this.style.display = 'block'; this.classList.add('pcx-test-file'); document.body.appendChild(this);
            };""")
        def pick(path):
            css('.pcx-upload')[0].click()
            inp = wait(lambda: css('input.pcx-test-file'), 'the upload file input', 20)
            inp[0].send_keys(str(path))
        pick(patch)
        wait(lambda: patch.name in text('.pcx-upload-msg'), 'the upload message')
        msg = text('.pcx-upload-msg')
        check(not msg.startswith('error') and len(css('.pcx-uploads img')) == 1, f"uploaded {patch.name}: {msg!r}")
        wait(lambda: patch.name in text('.pcx-caption'), 'the upload in the detail view')
        pick(tiff)
        wait(lambda: tiff.name in text('.pcx-upload-msg') and tiff.name in text('.pcx-caption'), 'the 20 MB upload', 180)
        msg = text('.pcx-upload-msg')
        check('resized from' in text('.pcx-caption') and 'error' not in msg,
              f"20 MB TIFF ({tiff.stat().st_size / 2**20:.1f} MB) uploaded and resized: {text('.pcx-caption')!r}")
        css('.pcx-cmp-btn')[0].click()
        wait(lambda: (css('.pcx-compare')[0].get_attribute('src') or '').startswith('blob:')
             and css('.pcx-compare')[0].size['width'] > 300, 'the side-by-side comparison', 60)
        check(True, f"the side-by-side comparison shows ({css('.pcx-compare')[0].size['width']} px wide)")
        body = driver.find_element(By.TAG_NAME, 'body').text
        check(text('.pcx-error').strip() == '', f"no error message in the page ({text('.pcx-error')!r})")
        check('Traceback' not in body and 'Error' not in body, "no traceback or exception text in the page")
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(out/'3_upload_compare.png'))
    except Exception as e:
        failures.append(f"{type(e).__name__}: {e}"); log(f"FAIL {type(e).__name__}: {e}")
    finally:
        if driver is not None:
            try: driver.quit()
            except Exception: pass
        if srv.poll() is None:   # Ctrl-C, as a terminal sends it to the whole group
            os.killpg(srv.pid, signal.SIGINT)
            try: srv.wait(20)
            except subprocess.TimeoutExpired: os.killpg(srv.pid, signal.SIGKILL); srv.wait()
        srv_log.close()
        log(f"server stopped (exit {srv.returncode}); screenshots in {out}")
        shutil.rmtree(tmp, ignore_errors=True)
    log('PASSED' if not failures else f"FAILED: {len(failures)} check(s): {failures}")
    return 1 if failures else 0

if __name__ == '__main__': sys.exit(main())
