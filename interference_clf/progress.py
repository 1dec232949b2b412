"""Progress bars (tqdm) on stderr: live on a terminal, a plain log line every few seconds elsewhere."""

from __future__ import annotations

import sys

from tqdm import tqdm

LOG_INTERVAL_S = 10
LOG_FORMAT = "{desc}: {n_fmt}/{total_fmt} {unit} ({rate_fmt}, {elapsed} elapsed, ETA {remaining})"
LOG_FORMAT_OPEN_ENDED = "{desc}: {n_fmt} {unit} ({rate_fmt}, {elapsed} elapsed)"


class _Discard:
    """Where tqdm's own carriage returns and newlines go when it writes log lines instead of a live bar."""

    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


class _LogLines(tqdm):
    """tqdm that writes whole lines: in a log file or a CI console, carriage returns would pile up on one line."""

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        print(msg if msg is not None else self.__str__(), file=sys.stderr, flush=True)
        return True


def progress(total: int | None, desc: str, unit: str = "it", enabled: bool = True) -> tqdm:
    """A progress bar for ``total`` units of work (None when it is not known in advance)."""
    if sys.stderr.isatty():
        return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, dynamic_ncols=True, file=sys.stderr)
    return _LogLines(total=total, desc=desc, unit=unit, disable=not enabled, file=_Discard(), mininterval=LOG_INTERVAL_S,
                     maxinterval=LOG_INTERVAL_S, bar_format=LOG_FORMAT if total is not None else LOG_FORMAT_OPEN_ENDED)
