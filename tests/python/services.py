"""Waiting for a service under test (the API in a subprocess or a thread) to answer."""

from __future__ import annotations

import subprocess
import time

import httpx


def answers_health(url: str, *, timeout: float, proc: subprocess.Popen[bytes] | None = None,
                   poll: float = 0.2, path: str = "/health") -> bool:
    """Whether `url` + `path` answers 200 within `timeout` seconds; False as soon as `proc` (the
    service's process, when it has one) has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (proc is None or proc.poll() is None):
        try:  # a server that has accepted the request may be slow to answer (a first index sync): wait for it
            if httpx.get(url + path, timeout=min(60.0, max(1.0, deadline - time.monotonic()))).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(poll)
    return False
