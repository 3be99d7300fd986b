"""Hardhat's node (npm `hardhat` 2.x, pinned in package.json): a second, independent EVM node with
its own pool and mining, for the tests and benchmarks.

Started as `hardhat node --hostname 127.0.0.1 --port <free>` from a temporary project directory
holding a minimal hardhat.config.js (chain id, block gas limit, automine) and a `node_modules` link
to the directory that holds hardhat. Hardhat funds the same twenty development accounts as anvil
(the mnemonic "test test … junk"), so `chain.sender.dev_account` keys work on both. No solc is
fetched: `hardhat node` compiles nothing when the project has no contracts.

Where hardhat is looked for: HERITAGE_HARDHAT_MODULES (a node_modules directory), then the
repository's node_modules (`npm ci`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from chain.anvil import _term_with_parent, free_port, stop_process
from core.errors import ChainError, NodeUnavailable, ToolchainError
from core.paths import REPO_ROOT


def hardhat_modules() -> Path:
    """The node_modules directory that holds hardhat."""
    for candidate in (os.environ.get("HERITAGE_HARDHAT_MODULES"), str(REPO_ROOT / "node_modules")):
        if candidate and (Path(candidate) / "hardhat" / "internal" / "cli" / "cli.js").exists():
            return Path(candidate)
    raise ToolchainError(f"hardhat is not installed: run `npm ci` in {REPO_ROOT} (package.json pins hardhat 2.x), "
                         "or point HERITAGE_HARDHAT_MODULES at a node_modules directory that holds it")


class Hardhat:
    """A running `hardhat node`; the same interface as chain.anvil.Anvil for what tests use."""

    def __init__(self, *, port: int | None = None, chain_id: int = 31337, gas_limit: int = 30_000_000,
                 log_file: Path | None = None, hardfork: str = "prague") -> None:
        self.port = port or free_port()
        self.chain_id = chain_id
        self.gas_limit = gas_limit
        self.log_file = log_file
        self.hardfork = hardfork
        """Prague, as anvil 1.7.1 runs by default: Hardhat 2.29's default (Osaka) caps a transaction's
        gas at 2^24 (EIP-7825), and its eth_estimateGas then fails for a batch that fits below the cap."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 60.0) -> Self:
        modules = hardhat_modules()
        self._dir = Path(tempfile.mkdtemp(prefix="heritage-hardhat-"))
        (self._dir / "node_modules").symlink_to(modules)
        network = {"chainId": self.chain_id, "blockGasLimit": self.gas_limit, "mining": {"auto": True},
                   "hardfork": self.hardfork}
        (self._dir / "hardhat.config.js").write_text(
            "module.exports = " + json.dumps({"networks": {"hardhat": network}}) + ";\n")
        cmd = ["node", str(modules / "hardhat" / "internal" / "cli" / "cli.js"), "node",
               "--hostname", "127.0.0.1", "--port", str(self.port)]
        env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true", "DO_NOT_TRACK": "1"}
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self._proc = subprocess.Popen(cmd, cwd=self._dir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                      preexec_fn=_term_with_parent)
        from chain.anvil import Anvil

        probe = Anvil(port=self.port)  # its is_up is a plain eth_chainId probe
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self.stop()
                raise ChainError(f"hardhat node exited with status {self._proc and self._proc.returncode} on port "
                                 f"{self.port}; run it by hand to see why: " + " ".join(cmd))
            if probe.is_up():
                return self
            time.sleep(0.1)
        self.stop()
        raise NodeUnavailable(f"hardhat node did not answer on {self.url} within {timeout:.0f} s")

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, *, timeout: float = 10.0) -> None:
        if self._proc is not None:
            stop_process(self._proc, timeout=timeout)
        self._proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
