"""The web parts in a real browser: the restoration demo of notebook 07 (Gradio) and the course in JupyterLab
(``make lab``), driven through Playwright in headless Chromium (the system's ``/usr/bin/chromium``; Playwright's
own browser download is not needed). ``make test`` installs Chromium when it is missing and the user is root
(``make browser-deps``); otherwise these tests skip with one line saying what to install.

Screenshots go to the test's temporary folder and to ``build/browser/`` (artefacts of the run)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import kit
from kit import sr

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
INSTALL = "sudo apt-get install chromium (Debian/Ubuntu; make test does it when run as root)"
# Without the background-networking flags Chromium keeps trying to reach Google's hosts, which a closed network
# refuses many times a second; --no-sandbox because CI runs as root.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=f"browser tests need Chromium: {INSTALL}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shot(page, tmp_path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright: pip install playwright")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def demo_url(monkeypatch):
    """The demo on 127.0.0.1 with stand-ins: bicubic 4x as the enhancer and a small refiner per level with
    random weights (so that refining changes the image)."""
    gr = pytest.importorskip("gradio", reason="the demo needs gradio: pip install gradio")
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    rng = np.random.default_rng(0)
    refiners = {}
    for level in sr.degrade.LEVEL_NAMES:
        model = sr.refiner(base_filters=4, depth=1)
        for w in model.weights:
            w.assign(rng.normal(0.0, 0.05, w.shape).astype("float32"))
        refiners[level] = model
    enhancer = lambda x: sr.bicubic(x)  # noqa: E731
    app = sr.demo.interface(enhancer, refiners)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, share=False)
    try:
        yield f"http://127.0.0.1:{port}/", enhancer, refiners
    finally:
        app.close()
    assert isinstance(app, gr.Blocks)


def upload_and_run(page, path: Path, level: str) -> None:
    clear = page.get_by_role("button", name="Clear", exact=True)  # the file shown now (the preloaded photograph, or the last upload)
    if clear.count():
        clear.first.click()
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_text(path.name).first.wait_for(timeout=30_000)  # the upload has arrived
    menu = page.get_by_label("degradation level")
    menu.click()
    page.get_by_role("option", name=level, exact=True).click()
    page.get_by_role("button", name="degrade, enhance, refine").click()


def test_the_restoration_demo_round_trip_and_bad_uploads(browser, demo_url, tmp_path):
    url, enhancer, refiners = demo_url
    photo = tmp_path / "chelsea.png"
    Image.fromarray(sr.demo.example("chelsea", 96)).save(photo)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url, wait_until="networkidle")
    psnr = page.locator("#kit-psnr")
    for level in sr.degrade.LEVEL_NAMES:
        expected = sr.demo.restore(sr.demo.load_upload(photo), level, enhancer, refiners)["psnr"]
        caption = " | ".join(f"{k}: {v:.2f} dB" for k, v in expected.items())
        upload_and_run(page, photo, level)
        psnr.get_by_text(f"PSNR against your photo: {caption}").wait_for(timeout=60_000)  # restore's values, to the digits shown
        images = page.locator(".kit-output img")
        assert images.count() == 4, f"expected the photograph and three outputs, found {images.count()} images"
        assert all(images.nth(i).get_attribute("src") for i in range(4))
        shot(page, tmp_path, f"demo_{level}")

    text_file = tmp_path / "notes.png"
    text_file.write_text("not an image, only a name that says so")
    tiny, huge = tmp_path / "tiny.png", tmp_path / "huge.png"
    Image.new("RGB", (10, 10), (200, 100, 50)).save(tiny)
    Image.new("RGB", (4000, 4000), (20, 40, 60)).save(huge)
    for path, message in ((text_file, "notes.png is not an image this demo can read"),
                          (tiny, "the image is 10x10 pixels; at least 16x16 is needed"),
                          (huge, "huge.png is 4000x4000 pixels; at most 2048 pixels per side")):
        upload_and_run(page, path, "mild")
        psnr.get_by_text(f"This file cannot be used: {message}").wait_for(timeout=30_000)  # the kit's message, in the page
        assert page.locator(".kit-output img").count() == 0, "the last photograph's results must not stay beside the message"
        assert "Traceback" not in page.content()
        shot(page, tmp_path, f"demo_bad_{path.stem}")
    # The app still serves: the photograph again gives restore's numbers.
    expected = sr.demo.restore(sr.demo.load_upload(photo), "severe", enhancer, refiners)["psnr"]
    upload_and_run(page, photo, "severe")
    psnr.get_by_text(" | ".join(f"{k}: {v:.2f} dB" for k, v in expected.items())).wait_for(timeout=60_000)
    page.close()


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab started as ``make lab`` starts it (``python -m jupyter lab <folder>``), with a token, on
    127.0.0.1, on copies of notebooks 00 and 03 (so autosave cannot touch the repository), at the smoke profile,
    and without the batch markers: the kernel is one a person is looking at (``kit.widgets.interactive()``)."""
    folder = tmp_path_factory.mktemp("lab")
    for name in ("00_gan_game_2d.ipynb", "03_acgan.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, folder / name)
    settings = folder / ".settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Every cell in the page, not only those scrolled into view (JupyterLab 4 renders long notebooks windowed).
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env = {k: v for k, v in os.environ.items() if k not in kit.widgets.BATCH_VARIABLES}
    env.update(KIT_PROFILE="smoke", KIT_CHECKPOINTS=str(folder / "checkpoints"), KIT_LOGS=str(folder / "logs"),
               JUPYTERLAB_SETTINGS_DIR=str(folder / ".settings"), JUPYTERLAB_WORKSPACES_DIR=str(folder / ".workspaces"))
    port, token = free_port(), "kit-browser-test"
    server = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", str(folder), "--no-browser", "--ip=127.0.0.1",
                               f"--port={port}", f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0",
                               *(["--allow-root"] if os.geteuid() == 0 else [])],  # CI runs as root, as make lab allows
                              env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.5)
    try:
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def panel(page):
    """The notebook in the active tab (the others stay in the page, hidden)."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def run_all(page, base: str, token: str, notebook: str, timeout_s: float) -> None:
    """Open ``notebook``, run all cells from the menu, and wait until every code cell has an execution count."""
    page.goto(f"{base}/lab/tree/{notebook}?token={token}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    # The committed notebooks carry no kernel metadata (outputs and metadata are cleared), so JupyterLab asks which
    # kernel to start, offering python3 (the kernel nbmake uses too).
    select = page.get_by_role("button", name="Select", exact=True)
    try:
        select.wait_for(timeout=15_000)
        select.click()
    except Exception:  # Playwright's TimeoutError: no dialog, the kernel started on its own
        pass
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)  # the kernel is up
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    prompts = panel(page).locator(".jp-CodeCell .jp-InputPrompt")
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        texts = prompts.all_inner_texts()
        if texts and all(t.strip().strip(":").strip("[]").isdigit() for t in texts):
            return
        if panel(page).locator("[data-mime-type='application/vnd.jupyter.error']").count():
            break  # an error stops "run all"; the caller reports it
        time.sleep(1.0)
    errors = panel(page).locator("[data-mime-type='application/vnd.jupyter.error']").all_inner_texts()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"failed_{Path(notebook).stem}.png"))
    pending = [t for t in prompts.all_inner_texts() if not t.strip().strip(":").strip("[]").isdigit()]
    pytest.fail(f"{notebook}: not every cell ran within {timeout_s:.0f} s ({len(pending)} prompts like {pending[:3]}); "
                f"errors in the page: {errors[:2]}")


def test_the_course_runs_in_jupyterlab(browser, jupyterlab, tmp_path):
    base, token = jupyterlab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    run_all(page, base, token, "00_gan_game_2d.ipynb", timeout_s=240)
    assert panel(page).locator("[data-mime-type='application/vnd.jupyter.error']").count() == 0
    assert panel(page).locator(".jp-OutputArea-output img").count() >= 1, "no figure rendered"
    shot(page, tmp_path, "lab_00")

    run_all(page, base, token, "03_acgan.ipynb", timeout_s=240)
    assert panel(page).locator("[data-mime-type='application/vnd.jupyter.error']").count() == 0
    picker = panel(page).locator(".widget-dropdown select")
    picker.first.wait_for(timeout=30_000)
    figure = panel(page).locator(".widget-output img").first
    figure.wait_for(timeout=30_000)
    before = figure.get_attribute("src")
    picker.first.select_option(label="Sneaker")
    page.wait_for_function("(before) => { const img = document.querySelector('.widget-output img'); return img && img.src !== before; }",
                           arg=before, timeout=30_000)
    picker.first.scroll_into_view_if_needed()
    shot(page, tmp_path, "lab_03_picker")
    page.close()
