"""`heritage chain up|status|down`: a long-lived embedded anvil, recorded in the data directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from chain.anvil import ANVIL, Anvil, free_port
from core.config import Settings
from core.errors import ChainError, ToolchainError


def _record(settings: Settings) -> Path:
    return settings.data_dir / "node.json"


def running_url(settings: Settings) -> str | None:
    """The URL of the node `chain up` started, if it is still answering."""
    path = _record(settings)
    if not path.exists():
        return None
    info = json.loads(path.read_text())
    probe = Anvil(port=int(info["port"]))
    return probe.url if probe.is_up() else None


def up(settings: Settings) -> str:
    url = running_url(settings)
    if url:
        return url
    if not ANVIL.exists():
        raise ToolchainError(f"anvil is not installed at {ANVIL}: run scripts/setup")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(settings.data_dir / "anvil.log", "ab")
    proc = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent",
         "--state", str(settings.anvil_state), "--state-interval", "2"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    probe = Anvil(port=port)
    for _ in range(200):
        if probe.is_up():
            _record(settings).write_text(json.dumps({"pid": proc.pid, "port": port, "url": probe.url}))
            return probe.url
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise ChainError(f"anvil did not start; see {settings.data_dir / 'anvil.log'}")


def down(settings: Settings) -> bool:
    """Stop the node `chain up` started; anvil writes its state to disk as it exits."""
    path = _record(settings)
    if not path.exists():
        return False
    info = json.loads(path.read_text())
    try:
        os.kill(int(info["pid"]), signal.SIGTERM)
        for _ in range(100):
            os.kill(int(info["pid"]), 0)
            time.sleep(0.05)
    except ProcessLookupError:
        pass
    path.unlink(missing_ok=True)
    return True
