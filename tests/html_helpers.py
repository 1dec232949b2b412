"""Helpers for the tests of the HTML pages: their embedded data, and a real browser to open them in.

The browser is Debian's chromium driven by Playwright (nothing is downloaded); the ``browser`` and
``open_page`` fixtures live in ``conftest.py``. Without playwright or chromium the tests that use them
are skipped, saying which is missing.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from typing import Any

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


