"""Memory a compiled chunk program will take on a device, checked before it runs.

XLA knows, once a program is compiled and before it allocates anything, how much
memory it needs: its arguments, outputs, temporaries and code
(``Compiled.memory_analysis()``). :func:`run_sweep` compiles the chunk program of
every static configuration first and compares that projection with what the device
has, so an impossible run (``n = 10^10``) is refused with a message naming the
configuration, before any cell is computed, rather than dying of an out-of-memory
error halfway through. ``force=True`` (``muonjax run --force``) skips the check.

Where a device reports no limit (a CPU), the limit is the host's available memory
shared by its local devices of that platform (simulated CPU devices share the
host's RAM).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import jax


class MemoryLimitError(ValueError):
    """A program's projected memory exceeds what its device has."""


def _host_available_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def device_memory_limit(device: jax.Device) -> int | None:
    """Bytes a new program may use on ``device``; ``None`` when unknown.

    A GPU or TPU reports its allocator's limit minus what is in use; for a CPU
    device, the host's available memory divided by the number of local devices of
    the platform.
    """
    try:
        stats = device.memory_stats()
    except Exception:  # some backends raise instead of returning None
        stats = None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
    available = _host_available_bytes()
    if available is None:
        return None
    peers = [d for d in jax.local_devices() if d.platform == device.platform]
    return available // max(1, len(peers))


def projected_bytes(compiled: jax.stages.Compiled) -> int | None:
    """Arguments + outputs + temporaries + code of a compiled program, per device."""
    try:
        stats = compiled.memory_analysis()
    except Exception:  # not every backend implements it
        return None
    if stats is None:
        return None
    parts = (
        "argument_size_in_bytes",
        "output_size_in_bytes",
        "temp_size_in_bytes",
        "generated_code_size_in_bytes",
    )
    total = sum(int(getattr(stats, p, 0) or 0) for p in parts)
    return total - int(getattr(stats, "alias_size_in_bytes", 0) or 0)


def format_bytes(n: float) -> str:
    """``1536 -> '1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # unreachable


def check_memory(
    projected: int | None, devices: Sequence[jax.Device], *, where: str
) -> None:
    """Raise :class:`MemoryLimitError` if ``projected`` bytes exceed a device's limit.

    Args:
        projected: bytes per device (from :func:`projected_bytes`); ``None`` skips.
        devices: the devices the program runs on.
        where: what the program computes, for the message (e.g. ``d=64 rule=muon``).
    """
    if projected is None:
        return
    for device in devices:
        limit = device_memory_limit(device)
        if limit is not None and projected > limit:
            raise MemoryLimitError(
                f"{where} needs about {format_bytes(projected)} per device, more than "
                f"the {format_bytes(limit)} {device} has free; use smaller sizes or "
                "a smaller chunk_size (or --force to try anyway)"
            )
