"""`heritage chain up|status|down`: a long-lived embedded anvil, recorded in the data directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from web3 import Web3

from chain.anvil import ANVIL, DEV_ACCOUNTS, Anvil, free_port
from chain.journal import Journal
from chain.nodelock import NodeLock
from core.config import Settings
from core.errors import ChainError, ToolchainError


def _record(settings: Settings) -> Path:
    return settings.data_dir / "node.json"


def running_url(settings: Settings) -> str | None:
    """The URL of the data directory's node (`chain up`'s, or a running service's), if it answers."""
    path = _record(settings)
    if not path.exists():
        return None
    info = json.loads(path.read_text())
    probe = Anvil(port=int(info["port"]))
    return probe.url if probe.is_up() else None


def up(settings: Settings) -> str:
    """Start the data directory's node in the background (it holds the directory's lock, see
    chain/nodelock.py, for as long as it runs) and replay the journal onto it; or answer the URL
    of the node another process runs there."""
    lock = NodeLock(settings.data_dir)
    if not lock.acquire():
        return lock.attach()
    if not ANVIL.exists():
        lock.release()
        raise ToolchainError(f"anvil is not installed at {ANVIL}: run scripts/setup")
    assert lock.fd is not None
    port = free_port()
    log = open(settings.data_dir / "anvil.log", "ab")
    proc = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent", "--accounts", str(DEV_ACCOUNTS),
         "--state", str(settings.anvil_state), "--state-interval", str(settings.anvil_state_interval_s)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(lock.fd,),
    )
    probe = Anvil(port=port)
    try:
        for _ in range(200):
            if probe.is_up():
                lock.record(probe.url, proc.pid)
                w3 = Web3(Web3.HTTPProvider(probe.url))
                Journal.for_chain(settings.data_dir, int(w3.eth.chain_id)).replay(w3, timeout=settings.tx_timeout_s)
                return probe.url
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    finally:
        lock.release()  # the node keeps the lock it inherited
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
