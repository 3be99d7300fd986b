"""The embedded EVM node: anvil from npm, on 127.0.0.1 and a free port, state kept on disk.

`Anvil(state_file=...)` starts the node with `--state`, so registrations survive a restart (anvil
dumps its state there when it stops and every `state_interval` seconds, and loads it on start).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

from core.errors import ChainError, NodeUnavailable, ToolchainError
from core.paths import NODE_BIN, REPO_ROOT

ANVIL = NODE_BIN / "anvil"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


DEV_ACCOUNTS = 13
"""Development accounts the embedded anvil unlocks: the demo uses 0-9, the dispute committee
(HERITAGE_ARBITRATORS unset) is made of `ARBITRATOR_ACCOUNTS`."""
ARBITRATOR_ACCOUNTS = (10, 11, 12)


def stop_process(proc: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """SIGTERM `proc` (a node saves its state on it), wait up to `timeout` seconds, then kill it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _term_with_parent() -> None:
    """In the child before exec: ask Linux to send SIGTERM when the process that started it dies,
    so a killed `heritage` leaves no orphaned node behind, and anvil (which dumps its state on
    SIGTERM) loses nothing. Linux delivers it when the starting *thread* ends: start nodes from
    the main thread or from threads that live as long as the node."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class Anvil:
    """A running anvil process; use as a context manager or call `start()` / `stop()`."""

    def __init__(
        self,
        *,
        state_file: Path | None = None,
        port: int | None = None,
        chain_id: int = 31337,
        state_interval: int = 5,
        log_file: Path | None = None,
        gas_limit: int | None = None,
        prune_history: int | None = None,
        block_time_s: float | None = None,
        keep_fds: tuple[int, ...] = (),
    ) -> None:
        self.state_file = state_file
        self.port = port or free_port()
        self.chain_id = chain_id
        self.state_interval = state_interval
        self.log_file = log_file
        self.gas_limit = gas_limit
        self.prune_history = prune_history
        self.block_time_s = block_time_s
        """None: a block for every transaction as it arrives (automine); else a block every so many
        seconds with whatever is pending (interval mining, as a real chain)."""
        self.keep_fds = keep_fds  # inherited by the node, e.g. the data directory's lock (chain/nodelock.py)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 20.0) -> Self:
        if not ANVIL.exists():
            raise ToolchainError(f"anvil is not installed at {ANVIL}: run `npm ci` in {REPO_ROOT}")
        cmd = [
            str(ANVIL),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(DEV_ACCOUNTS),
            "--silent",
        ]
        if self.gas_limit is not None:
            cmd += ["--gas-limit", str(self.gas_limit)]
        if self.prune_history is not None:
            # Keep only this many states in memory: anvil otherwise keeps every block's state,
            # and 10,000 registrations grew it past 11 GB.
            cmd += ["--prune-history", str(self.prune_history)]
        if self.block_time_s is not None:
            cmd += ["--block-time", str(self.block_time_s)]
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            cmd += ["--state", str(self.state_file), "--state-interval", str(self.state_interval)]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self._proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_term_with_parent,
                                      pass_fds=self.keep_fds)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ChainError(
                    f"anvil exited with status {self._proc.returncode} on port {self.port}; "
                    "is the port taken or the state file corrupt? Run it by hand to see why: " + " ".join(cmd)
                )
            if self.is_up():
                return self
            time.sleep(0.05)
        self.stop()
        raise NodeUnavailable(f"anvil did not answer on {self.url} within {timeout:.0f} s")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        """The process is running (a node killed from outside is reaped here, never a zombie)."""
        return self._proc is not None and self._proc.poll() is None

    def is_up(self) -> bool:
        request = urllib.request.Request(
            self.url,
            data=b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=0.5) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop the node; with a state file, anvil writes its final state before it exits."""
        if self._proc is not None:
            stop_process(self._proc, timeout=timeout)
        self._proc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
