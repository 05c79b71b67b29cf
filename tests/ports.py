"""Free loopback ports for tests that need a fixed one (a registered redirect URI).

A port found by binding port 0 comes from the kernel's ephemeral range, and once
released the kernel may hand the same port to the next server that binds port 0
(a fake platform started right after), so the login listener then finds it taken.
Ports outside the ephemeral range are never handed out that way.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral() -> tuple[int, int]:
    try:
        low, high = (int(v) for v in _RANGE.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999  # Linux's default
    return low, high


def free_port() -> int:
    """A loopback port free now and outside the ephemeral range (see the module doc)."""
    low, high = _ephemeral()
    candidates = [*range(20000, min(low, 30000))] or [*range(high + 1, 65536)]
    for port in random.sample(candidates, min(len(candidates), 200)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port outside the ephemeral range")
