"""The reports as a person sees them: headless Chromium opens them, renders every image, screenshots.

Slow (a workflow run plus a browser): `python -m pytest --runslow tests/e2e/test_report_browser.py`.
Needs Debian's `chromium` and `chromium-driver` (apt-get install -y chromium chromium-driver);
skipped when they are missing. Chromium is driven through chromedriver's W3C WebDriver HTTP
API with the standard library, so no Python browser package is needed. Set
GLMSTACK_SCREENSHOT_DIR to keep the screenshots.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from test_report import run_with_reports

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
# what the issue asks for: headless, no sandbox (root in containers), nothing fetched or synced
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
IMAGES_JS = """return Array.from(document.images).map(function (i) {
  var box = i.getBoundingClientRect();
  return {alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight, shown: box.width};
});"""


class WebDriver:
    """The few WebDriver commands we need, over HTTP to a chromedriver we start ourselves."""

    def __init__(self, profile: Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.process = subprocess.Popen(
            [CHROMEDRIVER, f"--port={self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.time() + 30
        while True:
            try:
                if self._call("GET", "/status").get("ready"):
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.time() > deadline:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.2)
        options = {"binary": CHROMIUM, "args": [*BROWSER_ARGS, f"--user-data-dir={profile}"]}
        capabilities = {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}
        self.session = self._call("POST", "/session", {"capabilities": capabilities})["sessionId"]

    def _call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())["value"]

    def command(self, method: str, path: str, body: dict | None = None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def open(self, path: Path) -> None:
        self.command("POST", "/url", {"url": path.resolve().as_uri()})

    def run(self, script: str):
        return self.command("POST", "/execute/sync", {"script": script, "args": []})

    def screenshot(self, width: int, height: int) -> bytes:
        self.command("POST", "/window/rect", {"width": width, "height": height})
        return base64.b64decode(self.command("GET", "/screenshot"))

    def close(self) -> None:
        try:
            self._call("DELETE", f"/session/{self.session}")
        finally:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(
            "chromium and chromedriver are not installed (apt-get install -y chromium chromium-driver)"
        )
    driver = WebDriver(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return run_with_reports(tmp_path_factory.mktemp("browser"))


def keep(name: str, png: bytes, tmp_dir: Path) -> Path:
    path = tmp_dir / name
    path.write_bytes(png)
    if os.environ.get("GLMSTACK_SCREENSHOT_DIR"):
        target = Path(os.environ["GLMSTACK_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / name)
    return path


def assert_not_blank(path: Path) -> None:
    from matplotlib.image import imread

    pixels = imread(path)
    assert pixels.shape[0] > 500 and pixels.shape[1] > 800
    assert pixels[..., :3].std() > 0.05, f"{path.name} looks blank"


def test_standalone_report_renders_every_image(browser, reports, tmp_path):
    page = reports / "out" / "report.html"
    browser.open(page)
    images = browser.run(IMAGES_JS)
    n_png = len(list((reports / "out").rglob("*.png")))
    assert len(images) == n_png == 15
    broken = [
        i["alt"]
        for i in images
        if not (i["complete"] and i["width"] > 300 and i["height"] > 250 and i["shown"] > 0)
    ]
    assert not broken, f"images that did not render: {broken}"
    assert browser.run("return document.title").startswith("glmstack report")
    top = keep("report_top.png", browser.screenshot(1280, 1000), tmp_path)
    assert_not_blank(top)
    height = min(int(browser.run("return document.documentElement.scrollHeight")), 16000)
    full = keep("report_full.png", browser.screenshot(1280, height), tmp_path)
    assert_not_blank(full)


def test_snakemake_report_opens(browser, reports, tmp_path):
    browser.open(reports / "snakemake_report.html")
    deadline = time.time() + 60
    text = ""
    while time.time() < deadline and "Study" not in text:  # a React app: wait until it has rendered
        time.sleep(0.5)
        text = browser.run("return document.body.innerText")
    assert "Study" in text and "tissue" in text
    shot = keep("snakemake_report.png", browser.screenshot(1280, 900), tmp_path)
    assert_not_blank(shot)
    assert np.isfinite(shot.stat().st_size)
