"""Helpers for the tests of the HTML pages: their embedded data, and a real browser to open them in.

The browser is Debian's chromium driven by Playwright (nothing is downloaded). Test modules import
the fixtures: ``from .html_helpers import browser, open_page  # noqa: F401``. Without playwright or
chromium the tests that use them are skipped, saying which is missing.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def embedded_data(page: str) -> dict:
    """The JSON a page embeds, read back as the browser reads it."""
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', page, re.S)
    assert found, "the page has no data element"
    return json.loads(found.group(1))


@dataclass
class OpenedPage:
    """A page opened from disk, with every request it made and every script error, console error or dialog."""

    page: Any
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="browser tests need playwright: pip install -e '.[test]'")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"browser tests need chromium at {CHROMIUM}: apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def open_page(browser: Any) -> Iterator[Callable[[Path], OpenedPage]]:
    """Opens a file in a fresh browser context, recording what the page asked for and what went wrong in it."""
    contexts = []

    def opener(path: Path) -> OpenedPage:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        contexts.append(context)
        opened = OpenedPage(context.new_page())
        opened.page.on("request", lambda request: opened.requests.append(request.url))
        opened.page.on("pageerror", lambda error: opened.problems.append(f"script error: {error}"))
        # A blocked load (the Content-Security-Policy at work) shows up as a console error.
        opened.page.on("console", lambda message: message.type == "error" and opened.problems.append(message.text))
        opened.page.on("dialog", lambda dialog: (opened.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        opened.page.goto(path.as_uri())
        return opened

    yield opener
    for context in contexts:
        context.close()
