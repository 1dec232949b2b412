"""Label ``examples/articles.jsonl`` with evidence, build its review page and screenshot it as ``docs/review.png``.

    pip install -e ".[test]"            # playwright, for the system's chromium: apt-get install chromium
    apt-get install fonts-noto-color-emoji    # optional: without an emoji font emoji show as boxes
    python examples/make_review_screenshot.py [--model DIR]

The labels come from the shipped model (or ``--model``); one row has an empty text on purpose,
to show how the page lists a row that could not be labelled.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

import interference_clf as ic
from interference_clf.batch import label_file
from interference_clf.review import write_review

HERE = Path(__file__).resolve().parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model folder (default: the shipped model)")
    parser.add_argument("--output", type=Path, default=HERE.parent / "docs" / "review.png")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        labelled, page = Path(folder) / "labelled.jsonl", Path(folder) / "review.html"
        summary = label_file(ic.load(args.model), HERE / "articles.jsonl", labelled, evidence=True, show_progress=False)
        print(f"labelled: {summary}")
        print(f"review page: {write_review(labelled, page)}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                                 args=CHROMIUM_ARGS)
            screen = browser.new_page(viewport={"width": 1180, "height": 1000}, device_scale_factor=1)
            screen.goto(page.as_uri())
            args.output.parent.mkdir(parents=True, exist_ok=True)
            screen.screenshot(path=args.output)
            browser.close()
    print(f"screenshot: {args.output}")


if __name__ == "__main__":
    main()
