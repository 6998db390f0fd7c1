"""Helpers of the web tests (tests/web/): a real browser, and the pages a notebook embeds.

The browser is Debian's chromium + chromium-driver, headless, with software WebGL. CI installs
both (.ci/run), so a missing browser fails the tests with the command that fixes it instead of
skipping them.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = ("chromedriver", "chromium-driver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # root in a container
    "--use-angle=swiftshader",  # WebGL in software: no GPU here
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",  # the browser's own traffic (updates, sync) would muddy the network log
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--window-size=800,450",  # swiftshader draws every pixel on the CPU
)
ALLOWED = ("file://", "data:")  # the only URLs an exported page may load


def _which(names) -> str | None:
    return next((p for p in map(shutil.which, names) if p), None)


class Browser:
    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        binary, driver = _which(CHROMIUM), _which(DRIVER)
        if not binary or not driver:
            pytest.fail(
                "the HTML tests need a real browser: apt-get install -y chromium chromium-driver "
                f"(found chromium={binary}, chromedriver={driver})",
                pytrace=False,
            )
        self.profile = tempfile.mkdtemp(prefix="matviz-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (*FLAGS, f"--user-data-dir={self.profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(driver), options=options)
        self.url = "about:blank"

    def open(self, path: Path, timeout: float = 30.0) -> list[str]:
        """Load ``path`` from file://, wait until the page's controls are ready, and return the URLs
        it requested (from DevTools' Network events)."""
        self.driver.get_log("performance")  # drop what came before
        self.url = Path(path).resolve().as_uri()
        self.driver.get(self.url)
        end = time.time() + timeout
        while time.time() < end:
            ready = self.driver.execute_script("return window.matvizReady === undefined ? null : window.matvizReady")
            if ready is not None:
                break
            time.sleep(0.1)
        self.idle()
        return self.requests()

    def idle(self) -> None:
        """Wait for two animation frames in a row (the page has drawn and is not busy)."""
        self.driver.set_script_timeout(30)
        self.driver.execute_async_script(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));"
        )

    def requests(self) -> list[str]:
        """URLs requested for the page opened last (``documentURL``: the browser's own new-tab
        page loads lazily and would otherwise land in the log too)."""
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.requestWillBeSent" and params.get("documentURL") == self.url:
                urls.append(params["request"]["url"])
        return urls

    def js(self, script: str):
        return self.driver.execute_script(script)

    def picture(self) -> np.ndarray:
        """The page as (H, W, 3) uint8."""
        import imageio.v3 as iio

        png = self.driver.get_screenshot_as_png()
        return iio.imread(io.BytesIO(png))[..., :3]

    def settled(self, before: np.ndarray, timeout: float = 8.0, moved: float = 0.0) -> np.ndarray:
        """The page once it differs from ``before`` in more than ``moved`` of its pixels (software
        WebGL takes seconds per frame of a large scene), or as it is after ``timeout``."""
        end = time.time() + timeout
        while True:
            now = self.picture()
            if time.time() > end or (np.abs(now.astype(int) - before).max(axis=2) > 24).mean() > moved:
                return now
            time.sleep(0.2)

    CAMERA = (
        "const rw = window.global.renderWindow; return rw.getRenderers()"
        ".map((r) => r.getActiveCamera().getPosition().join(',')).join(';')"
    )

    def drag(self, start: tuple[int, int], attempts: int = 3) -> bool:
        """``_drag`` from ``start``, again (up to ``attempts`` times) if vtk.js took no notice of it
        at all: on a loaded machine a whole drag is now and then lost while the page draws."""
        return any(self._drag(start) for _ in range(attempts))

    def _drag(self, start: tuple[int, int], step: tuple[int, int] = (8, 2), most: int = 45, after: int = 8) -> bool:
        """A left-button drag through DevTools' Input.dispatchMouseEvent (selenium's ActionChains
        does not move vtk.js's camera). Under software WebGL vtk.js drops the first moves of a drag
        while it draws, so the pointer goes on by ``step`` pixels a move (up to ``most`` moves) until
        a camera has moved, then ``after`` moves more in the same direction, so the view turns by
        at least that much. Returns whether a camera moved (the tests assert on the picture)."""
        send = self.driver.execute_cdp_cmd
        x, y = start
        before = self.js(self.CAMERA)
        send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y, "button": "none", "buttons": 0})
        send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y, "button": "left",
                                          "buttons": 1, "clickCount": 1})
        moved, left = False, after
        for _ in range(most):
            x, y = x + step[0], y + step[1]
            send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y, "button": "left", "buttons": 1})
            moved = moved or self.js(self.CAMERA) != before
            left -= moved
            if left <= 0:
                break
        send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x, "y": y, "button": "left",
                                          "buttons": 0, "clickCount": 1})
        return moved

    def key(self, key: str, code: int) -> None:
        """Press and release ``key`` (its Windows virtual key ``code``) through DevTools."""
        for kind in ("keyDown", "keyUp"):
            self.driver.execute_cdp_cmd(
                "Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code}
            )

    def close(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


SRCDOC = re.compile(r'srcdoc="([^"]*)"')


def scene_outputs(nb) -> list:
    """The rich outputs (execute_result / display_data) of an executed notebook, in order."""
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "data" in o]


def embedded_page(output) -> str:
    """The page inside an output's interactive view (the iframe's srcdoc)."""
    return html.unescape(SRCDOC.search(output.data["text/html"]).group(1))
