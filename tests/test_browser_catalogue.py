"""The HTML catalogue in a real headless Chromium (issue 7).

A published tree is served from 127.0.0.1; Chromium is driven over the
DevTools protocol: every catalogue page loads, every internal link resolves
(pages are crawled, anchors checked, files fetched), and no page logs a
console error, an uncaught exception or a failed resource load.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

import pytest
import requests

from egif import Registry
from egif.publish import publish

from .publish_server import serve
from .test_pull import widget_xsd

websocket = pytest.importorskip("websocket", reason="websocket-client (test extra) not installed")

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="Chromium not installed (apt-get install chromium; .ci/run does)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio", "--window-size=1280,900"]


class DevTools:
    """A minimal DevTools protocol client over one page's websocket."""

    def __init__(self, ws_url: str) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for i, e in enumerate(self.events):
            if e["method"] == method:
                return self.events.pop(i)
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == method:
                return msg
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(method)

    def evaluate(self, expression: str) -> Any:
        out = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return out["result"].get("value")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    profile = Path(tempfile.mkdtemp(prefix="egif-chromium-"))
    assert CHROMIUM is not None
    proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                             "--remote-debugging-port=0", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Chromium did not start (exit {proc.poll()})")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(t for t in targets if t.get("type") == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.call(f"{domain}.enable")
        yield tools
        tools.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def problems_in(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for e in events:
        p = e.get("params", {})
        if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                               for a in p.get("args", [])))
        elif e["method"] == "Runtime.exceptionThrown":
            out.append("exception: " + p.get("exceptionDetails", {}).get("text", "?"))
        elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        elif e["method"] == "Network.responseReceived" and p.get("response", {}).get("status", 200) >= 400:
            out.append(f"http {p['response']['status']}: {p['response']['url']}")
    return out


def test_catalogue_pages_load_links_resolve_no_console_errors(browser: DevTools, registry: Registry,
                                                              tmp_path: Path) -> None:
    registry._add(widget_xsd(tmp_path / "w1", "1.0"), name="Widget", version="1.0", status="ratified",
                  via="test set-up")
    registry._add(widget_xsd(tmp_path / "w2", "1.1", '<xsd:enumeration value="green"/>'),
                  name="Widget", version="1.1", status="candidate", via="test set-up")
    site = tmp_path / "site"
    publish(registry, site)
    with serve(site) as server:
        start = urljoin(server.url, "catalogue/index.html")
        queue, seen_pages, checked = [start], set(), {}
        anchors: list[tuple[str, str]] = []
        while queue:
            url = queue.pop()
            if url in seen_pages:
                continue
            seen_pages.add(url)
            browser.events.clear()
            browser.call("Page.navigate", url=url)
            browser.wait_for("Page.loadEventFired")
            assert browser.evaluate("document.readyState") == "complete"
            assert browser.evaluate("document.querySelector('h1') !== null"), url
            # the stylesheet really applied (the header is coloured, not default)
            assert browser.evaluate("getComputedStyle(document.querySelector('header'))"
                                    ".backgroundColor") != "rgba(0, 0, 0, 0)"
            problems = problems_in(browser.events)
            assert not problems, f"{url}: {problems}"
            ids = set(browser.evaluate("Array.from(document.querySelectorAll('[id]')).map(e => e.id)"))
            for href in browser.evaluate("Array.from(document.links).map(a => a.href)"):
                target, fragment = urldefrag(href)
                assert target.startswith(server.url), f"{url} links outside the site: {href}"
                if fragment and target == url:
                    assert fragment in ids, f"{url}: no element with id {fragment!r}"
                elif fragment:
                    anchors.append((target, fragment))
                if target.endswith(".html"):
                    queue.append(target)
                elif target not in checked:
                    checked[target] = requests.get(target, timeout=10).status_code
        pages = {p.rsplit("/", 1)[-1] for p in seen_pages}
        # the checker itself catches a bad page (missing stylesheet, console error)
        (site / "probe.html").write_text('<!DOCTYPE html><html><head><link rel="stylesheet" '
                                         'href="missing.css"></head><body><script>'
                                         'console.error("probe")</script></body></html>')
        browser.events.clear()
        browser.call("Page.navigate", url=urljoin(server.url, "probe.html"))
        browser.wait_for("Page.loadEventFired")
        caught = problems_in(browser.events)
        assert any("probe" in c for c in caught) and any("missing.css" in c for c in caught), caught
    assert {"index.html", "BS7666.html", "Widget.html"} <= pages
    assert len(pages) == len({v.name for v in registry.list()}) + 1
    assert checked and all(code == 200 for code in checked.values()), checked
    assert any(u.endswith("index.json") for u in checked)
    widget = (site / "catalogue" / "Widget.html").read_text()
    assert "One widget and where it goes." in widget  # documentation from annotations
    assert "1.0 &rarr; 1.1" in widget  # the diff section between consecutive versions
    assert "candidate" in widget and "ratified" in widget

