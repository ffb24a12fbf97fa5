"""A stall watchdog: say so when a run stops making progress.

A sweep that hangs (a deadlock in a native library, a device that stopped
answering) otherwise looks like a slow one: the progress bar just stops. The
:class:`Watchdog` is a daemon thread that the engine tells when a chunk starts and
when it finishes; when no chunk has finished for ``max(floor, factor x expected)``
seconds, ``expected`` being the longest chunk seen so far, it prints one warning to
stderr saying where the run is and how to resume, then waits for the next progress
before it can warn again.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO


class Watchdog:
    """Warn on stderr when no chunk of a sweep finishes for too long.

    Args:
        floor: seconds without progress before the first warning can fire.
        factor: multiple of the longest chunk seen so far that counts as stalled.
        stream: where the warning goes (default ``sys.stderr``).
        clock: a monotonic clock (for tests).

    Use as a context manager around the chunk loop, calling :meth:`started` before
    each chunk and :meth:`finished` after it.
    """

    def __init__(
        self,
        floor: float = 600.0,
        factor: float = 10.0,
        *,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not floor > 0 or not factor >= 1:
            raise ValueError(f"need floor > 0 and factor >= 1, got {floor=}, {factor=}")
        self.floor = float(floor)
        self.factor = float(factor)
        self.stream = stream
        self.clock = clock
        self.expected: float | None = None
        self.where = ""
        self.warnings = 0
        self._since = clock()
        self._chunk_start = self._since
        self._warned = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def threshold(self) -> float:
        """Seconds without progress after which the run counts as stalled."""
        if self.expected is None:
            return self.floor
        return max(self.floor, self.factor * self.expected)

    def started(self, where: str) -> None:
        """A chunk computing ``where`` (e.g. ``d=32 rule=muon, cell 17 of 24``)."""
        with self._lock:
            self.where = where
            self._chunk_start = self.clock()

    def finished(self) -> None:
        """The current chunk finished: progress."""
        with self._lock:
            now = self.clock()
            took = now - self._chunk_start
            self.expected = took if self.expected is None else max(self.expected, took)
            self._since = now
            self._warned = False

    def check(self) -> str | None:
        """The warning to print now, if the run is stalled (and not yet warned)."""
        with self._lock:
            idle = self.clock() - self._since
            if self._warned or idle < self.threshold():
                return None
            self._warned = True
            self.warnings += 1
            expected = (
                f"the longest chunk so far took {self.expected:.0f} s"
                if self.expected is not None
                else "no chunk has finished yet"
            )
            return (
                f"muonjax: no progress for {idle:.0f} s ({expected}); the run is at "
                f"{self.where}. If the CPU or GPU is idle it is stuck: stop it "
                "(Ctrl-C) and re-run the same command to resume; finished cells are "
                "kept."
            )

    def _loop(self) -> None:
        period = min(5.0, self.floor / 4)
        while not self._stop.wait(period):
            message = self.check()
            if message is not None:
                stream = self.stream if self.stream is not None else sys.stderr
                print(message, file=stream, flush=True)

    def __enter__(self) -> Watchdog:
        with self._lock:
            self._since = self._chunk_start = self.clock()
        self._thread = threading.Thread(
            target=self._loop, name="muonjax-watchdog", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
