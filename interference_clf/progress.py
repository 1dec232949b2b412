"""Progress reporting for long runs: a live line on a terminal, occasional log lines otherwise."""

from __future__ import annotations

import sys
import time

LOG_INTERVAL_S = 10


class Progress:
    """Progress on stderr: a live line on a terminal, occasional log lines otherwise.

    ``total`` may be None when the amount of work is not known in advance (a stream);
    the line then shows the count and rate without an ETA.
    """

    def __init__(self, total: int | None, what: str, unit: str = ""):
        self.total, self.what, self.started = total, what, time.monotonic()
        self.unit = f" {unit}" if unit else ""
        self.live = sys.stderr.isatty()
        self.last_logged = 0.0

    def line(self, done: int) -> str:
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        if self.total is None:
            return f"{self.what}: {done}{self.unit} ({rate:.1f}/s)"
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        return f"{self.what}: {done}/{self.total}{self.unit} ({rate:.1f}/s, ETA {eta:.0f}s)"

    def update(self, done: int) -> None:
        elapsed = time.monotonic() - self.started
        if self.live:
            print("\r" + self.line(done), end="", file=sys.stderr, flush=True)
        elif elapsed - self.last_logged >= LOG_INTERVAL_S or done == self.total:
            self.last_logged = elapsed
            print(self.line(done), file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.live:
            print(file=sys.stderr)
