"""Several processes writing one output directory: heartbeats and a bounded wait.

With ``P`` processes (``jax.distributed``), process ``i`` computes the cells whose
grid index is ``i mod P`` and saves them in the shared store; process 0 then writes
the table and the manifest. The processes meet through the shared directory, not
through a device collective, so that a process that dies is noticed in bounded time
instead of leaving the others blocked until JAX's coordination service aborts them:

- every process keeps ``DIR/.processes/<i>.json`` up to date (a heartbeat every
  few seconds: host, pid, status, cells computed and loaded);
- process 0, once its own cells are done, waits until every other process says
  ``done``; if one says ``interrupted`` or ``failed``, or its file stops changing
  for ``timeout`` seconds, it raises :class:`PeerLost` naming the process;
- the other processes wait the same way for process 0 to finish the table.

The manifest's session then counts the cells of every process.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from muonjax._io import atomic_write_text

#: Directory of the heartbeat files inside an output directory.
PROCESSES_DIR = ".processes"
#: Seconds between heartbeats.
BEAT = 2.0


class PeerLost(RuntimeError):
    """Another process of a multi-process run stopped or stopped responding."""


def _path(out_dir: Path, index: int) -> Path:
    return out_dir / PROCESSES_DIR / f"{index}.json"


class Heartbeat:
    """This process's heartbeat file, rewritten every :data:`BEAT` seconds.

    Args:
        out_dir: the shared output directory.
        index: this process's index.
        count: the number of processes.
        run: an id shared by the processes of one run (so that the files of an
            earlier run are not mistaken for this one's).
    """

    def __init__(self, out_dir: Path, index: int, count: int, run: str):
        self.path = _path(out_dir, index)
        self.state: dict[str, Any] = {
            "run": run,
            "index": index,
            "count": count,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "status": "running",
            "computed": 0,
            "loaded": 0,
            "beat": 0,
        }
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="muonjax-heartbeat", daemon=True
        )

    def write(self, **changes: Any) -> None:
        """Update the file now (``status=``, ``computed=``, ``loaded=``, ...)."""
        with self._lock:
            self.state.update(changes)
            self.state["beat"] += 1
            atomic_write_text(self.path, json.dumps(self.state))

    def _loop(self) -> None:
        while not self._stop.wait(BEAT):
            # A full or vanished disk: the peers will notice the silence.
            with contextlib.suppress(OSError):
                self.write()

    def __enter__(self) -> Heartbeat:
        self.write()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=BEAT + 1)


def read_peer(out_dir: Path, index: int) -> dict[str, Any] | None:
    """The last heartbeat of process ``index``, or ``None``."""
    try:
        data = json.loads(_path(out_dir, index).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def wait_for(
    out_dir: Path,
    indices: list[int],
    *,
    count: int,
    run: str,
    timeout: float,
    poll: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
) -> dict[int, dict[str, Any]]:
    """Wait until processes ``indices`` of this run say ``done``; their heartbeats.

    Raises:
        PeerLost: one said ``interrupted`` or ``failed``, or its heartbeat did not
            change for ``timeout`` seconds.
    """
    seen: dict[int, tuple[int, float]] = {}
    while True:
        beats = {}
        for i in indices:
            data = read_peer(out_dir, i)
            if data is not None and data.get("run") != run:
                data = None  # a heartbeat of an earlier run
            now = clock()
            beat = -1 if data is None else int(data.get("beat", -1))
            if i not in seen or seen[i][0] != beat:
                seen[i] = (beat, now)
            who = f"process {i} of {count}"
            if data is not None:
                who += f" (pid {data.get('pid')} on {data.get('host')})"
                status = data.get("status")
                if status in ("interrupted", "failed"):
                    raise PeerLost(
                        f"{who} {status}; the cells it had not finished are missing: "
                        "re-run the same command to finish them"
                    )
                if status == "done":
                    beats[i] = data
                    continue
            silent = now - seen[i][1]
            if silent > timeout:
                state = "never started" if data is None else "stopped responding"
                raise PeerLost(
                    f"{who} {state} (no heartbeat for {silent:.0f} s); the cells it "
                    "had not finished are missing: re-run the same command (on any "
                    "number of processes) to finish them"
                )
        if len(beats) == len(indices):
            return beats
        time.sleep(poll)
