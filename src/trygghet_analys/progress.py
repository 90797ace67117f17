"""Progress for long commands: a bar on a terminal, plain lines in CI logs.

A region build, ``report --alla`` and ``sample-data --kommuner`` run for minutes. On a
terminal they show a ``tqdm`` bar with counts and the time left; where the output is not a
terminal (CI, a log file) each step is one plain Swedish line with the same facts, so a log
shows how far a run came.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .formatting import fmt_number

__all__ = ["Progress"]


class Progress:
    """Counts finished steps of ``total``; use as a context manager.

    Parameters
    ----------
    total
        Number of steps (e.g. kommuner).
    desc
        What is being done, in Swedish ("Rapporter").
    unit
        What a step is, in Swedish plural ("kommuner").
    stream
        Where to write (default standard error).
    enabled
        False writes nothing (``--tyst`` and tests).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with Progress(2, "Rapporter", "kommuner", stream=out) as p:
    ...     p.step("Ystad")
    ...     p.step("Åstorp")
    >>> out.getvalue().splitlines()[-1].split(" (")[0]
    'Rapporter: 2/2 kommuner klara – Åstorp'
    """

    def __init__(
        self,
        total: int,
        desc: str,
        unit: str = "st",
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
    ) -> None:
        self.total, self.desc, self.unit = int(total), desc, unit
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.done = 0
        self._start = time.perf_counter()
        self._bar = None
        isatty = getattr(self.stream, "isatty", lambda: False)
        if enabled and isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=desc, unit=f" {unit}", file=self.stream)

    def step(self, label: str = "") -> None:
        """One more step finished (``label`` names it, e.g. the kommun)."""
        self.done += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(label, refresh=False)
            self._bar.update(1)
            return
        elapsed = time.perf_counter() - self._start
        left = elapsed / self.done * (self.total - self.done)
        what = f" – {label}" if label else ""
        print(
            f"{self.desc}: {self.done}/{self.total} {self.unit} klara{what} "
            f"({fmt_number(elapsed, 0)} s, kvar ca {fmt_number(left, 0)} s)",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
