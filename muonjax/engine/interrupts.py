"""Interrupted runs: Ctrl-C (SIGINT) and SIGTERM stop a run cleanly.

:func:`signals_raise` makes SIGINT and SIGTERM raise :class:`Interrupted` in the main
thread (Python's default turns only SIGINT into ``KeyboardInterrupt``; SIGTERM would
kill the process with no chance to record anything). The engine waits for device
results by polling (never inside one long native call), so the exception arrives
within a fraction of a second; :func:`muonjax.run_sweep` adds how many cells were
done, :func:`muonjax.record_sweep` records the session as interrupted in the
manifest, and the command line prints one line and exits with ``128 + signal``
(130 for SIGINT, 143 for SIGTERM). Finished cells are in the store already, so the
same command resumes.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal.

    Attributes:
        signum: the signal (``signal.SIGINT`` or ``signal.SIGTERM``).
        done: cells finished (computed or loaded) when it stopped, if known.
        total: cells of the run (of this process), if known.
        computed: of ``done``, the cells computed in this session, if known.
    """

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signum)
        self.signum = int(signum)
        self.done: int | None = None
        self.total: int | None = None
        self.computed: int | None = None
        #: Whether a manifest already records the interrupted session.
        self.recorded = False

    @property
    def signal_name(self) -> str:
        """``"SIGINT"`` or ``"SIGTERM"``."""
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """``128 + signum``, the shell's convention: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signum

    def count(self, done: int, total: int, computed: int) -> Interrupted:
        """Record the cells done (once: the innermost caller knows best)."""
        if self.done is None:
            self.done, self.total, self.computed = int(done), int(total), computed
        return self

    def message(self) -> str:
        """The one line the command line prints."""
        if self.done is None:
            return "interrupted; re-run the same command to resume"
        return (
            f"interrupted after {self.done} of {self.total} cells; re-run the same "
            "command to resume"
        )


def as_interrupted(err: BaseException) -> Interrupted:
    """``err`` as an :class:`Interrupted` (a plain ``KeyboardInterrupt`` is SIGINT)."""
    return err if isinstance(err, Interrupted) else Interrupted(signal.SIGINT)


#: The last signal :func:`signals_raise` turned into :class:`Interrupted`.
_received: list[int] = []


def _raise(signum: int, frame: object) -> None:
    del frame
    _received.append(signum)
    raise Interrupted(signum)


def wrapped(err: BaseException) -> Interrupted | None:
    """The :class:`Interrupted` inside ``err``, if a signal arrived in a host callback.

    A host callback (``jax.pure_callback``) runs Python in the calling thread while
    the program executes; a signal arriving then raises inside the callback, and XLA
    hands it back wrapped in its own error.
    """
    if _received and "Interrupted" in str(err):
        return Interrupted(_received[-1])
    return None


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Inside, SIGINT and SIGTERM raise :class:`Interrupted` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in old:
        signal.signal(s, _raise)
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        _received.clear()
