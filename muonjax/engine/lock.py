"""One writer per output directory: a lock file.

A run holds ``DIR/.muonjax.lock`` (an exclusive ``flock``) while it writes ``DIR``;
the file says who holds it (host, pid, command, start time) and the digest of what
the run computes. A second run into the same directory

- with another configuration is refused (:class:`DirectoryLocked`, exit code 2),
  naming the run that holds it;
- with the same configuration waits for the first to finish, then loads every cell
  the first one computed: no cell is computed twice.

The kernel drops an ``flock`` when its process dies, so a killed run never leaves
a stale lock. The file itself stays (emptied), so that two waiting runs never lock
two different files of the same name. Locks are reentrant within a process
(:func:`muonjax.run_recorded` locks the experiment's directory, then
:func:`muonjax.record_sweep` the same one). ``flock`` works on local file systems and
on NFS v4; on a file system without locks, run one command per directory.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import secrets
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Name of the lock file inside an output directory.
LOCK_FILE = ".muonjax.lock"

_HELD: dict[Path, tuple[int, int, str]] = {}  # path -> (fd, depth, digest)


class DirectoryLocked(ValueError):
    """An output directory is held by a run with another configuration."""


def _holder_text(info: dict[str, Any]) -> str:
    command = " ".join(info.get("command", [])) or "?"
    return (
        f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started "
        f"{info.get('started', '?')}: {command}"
    )


def _read_holder(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = b""
    while chunk := os.read(fd, 65536):
        raw += chunk
    try:
        info = json.loads(raw.decode() or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return info if isinstance(info, dict) else {}


@contextlib.contextmanager
def directory_lock(
    out_dir: str | os.PathLike, *, digest: str, wait: bool = True
) -> Iterator[None]:
    """Hold ``out_dir``'s lock inside the block (the directory must exist).

    Args:
        out_dir: the output directory.
        digest: what the run computes (same digest: the same cells); a holder with
            another digest makes this raise :class:`DirectoryLocked`.
        wait: with the same digest, wait for the holder (else refuse as well).
    """
    path = (Path(out_dir) / LOCK_FILE).resolve()
    if path in _HELD:
        fd, depth, held = _HELD[path]
        _HELD[path] = (fd, depth + 1, held)
        try:
            yield
        finally:
            fd, depth, held = _HELD[path]
            _HELD[path] = (fd, depth - 1, held)
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            if holder.get("digest") != digest or not wait:
                raise DirectoryLocked(
                    f"{out_dir} is in use by another run with a different "
                    f"configuration ({_holder_text(holder)}); wait for it to finish "
                    "or choose another --out"
                ) from None
            print(
                f"muonjax: {out_dir} is in use by the same run "
                f"({_holder_text(holder)}); waiting for it, then loading its cells",
                file=sys.stderr,
                flush=True,
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        info = {
            "digest": digest,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"
            ),
            "command": list(sys.argv),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        _HELD[path] = (fd, 1, digest)
        try:
            yield
        finally:
            del _HELD[path]
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor drops the flock


@contextlib.contextmanager
def run_lock(out_dir: str | os.PathLike, *, digest: str) -> Iterator[str]:
    """:func:`directory_lock` for a run of one or several processes; yields a run id.

    With several processes (``jax.distributed``) only process 0 takes the lock;
    it then broadcasts whether it got it, and a fresh run id, to the others
    (``multihost_utils.broadcast_one_to_all``), so that all refuse together and
    their heartbeats (:mod:`muonjax.engine.peers`) name the same run.
    """
    import jax

    if jax.process_count() == 1:
        with directory_lock(out_dir, digest=digest):
            yield secrets.token_hex(8)
        return

    import numpy as np
    from jax.experimental import multihost_utils

    if jax.process_index() == 0:
        stack = contextlib.ExitStack()
        refused: DirectoryLocked | None = None
        try:
            stack.enter_context(directory_lock(out_dir, digest=digest))
        except DirectoryLocked as err:
            refused = err
        # int32: the broadcast keeps 32-bit values whether or not x64 is on.
        token = secrets.randbits(31)
        multihost_utils.broadcast_one_to_all(
            np.asarray([refused is None, token], np.int32)
        )
        if refused is not None:
            raise refused
        with stack:
            yield f"{token:08x}"
        return
    ok, token = multihost_utils.broadcast_one_to_all(np.zeros(2, np.int32)).tolist()
    if not ok:
        raise DirectoryLocked(
            f"{out_dir} is in use by another run with a different configuration "
            "(process 0 names it)"
        )
    yield f"{token:08x}"
