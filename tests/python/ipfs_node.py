"""A real IPFS node with the Kubo RPC API for tests: js-ipfs 0.66 (pinned in package.json),
offline, with its own repository and a free port on 127.0.0.1.

No Kubo binary can be installed on these machines (npm's `kubo` package downloads it from
dist.ipfs.tech at install time), so the tests talk to js-ipfs, whose HTTP server implements the
same `/api/v0` commands. Nothing here is used outside the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import requests

from chain.anvil import free_port, stop_process
from core.paths import REPO_ROOT

CLI = REPO_ROOT / "node_modules" / "ipfs" / "src" / "cli.js"
POLYFILLS = REPO_ROOT / "scripts" / "node-polyfills.cjs"


class IpfsNode:
    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, "IPFS_PATH": str(repo), "NODE_OPTIONS": f"--require={POLYFILLS}"}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Self:
        subprocess.run(["node", str(CLI), "init", "--profile", "test"], env=self.env, check=True,
                       capture_output=True, timeout=timeout)
        config_path = self.repo / "config"
        config = json.loads(config_path.read_text())
        config["Addresses"].update(Swarm=[], API=f"/ip4/127.0.0.1/tcp/{self.port}", Gateway="",
                                   RPC=f"/ip4/127.0.0.1/tcp/{free_port()}")
        config["Bootstrap"] = []
        config_path.write_text(json.dumps(config))
        log = open(self.repo / "daemon.log", "ab")
        self._proc = subprocess.Popen(["node", str(CLI), "daemon", "--offline"], env=self.env,
                                      stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the test IPFS node exited; see {self.repo / 'daemon.log'}")
            try:
                if requests.post(f"{self.url}/api/v0/version", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the test IPFS node did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self._proc is not None:
            stop_process(self._proc)
        self._proc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
