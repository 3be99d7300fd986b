"""One embedded node per data directory.

The process that starts the embedded anvil takes an exclusive `flock` on `<data_dir>/node.lock`
and records the node in `<data_dir>/node.json` (URL, port, the node's PID, the owner's PID). The
node inherits the locked file descriptor, so the lock is held exactly as long as the owner or its
node lives: a `kill -9` of either never leaves a stale lock behind. Any other process on the same
directory (a CLI command beside a running API, a second API) fails to take the lock and attaches
to the recorded node instead; it never starts a second anvil on the same state file, which would
overwrite the first one's writes.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from core.errors import ChainError, NodeUnavailable


@dataclass(frozen=True)
class NodeRecord:
    url: str
    pid: int
    owner: int


def answers(url: str) -> bool:
    request = urllib.request.Request(url, data=b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=0.5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


class NodeLock:
    """The lock and record of the embedded node of `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.fd: int | None = None

    @property
    def record_path(self) -> Path:
        return self.data_dir / "node.json"

    def acquire(self) -> bool:
        """Take the lock without waiting: True when this process now owns the directory's node."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.data_dir / "node.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def record(self, url: str, pid: int) -> None:
        """Say which node this owner runs (atomically: a reader never sees half a record)."""
        port = url.rsplit(":", 1)[-1]
        tmp = self.record_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"url": url, "port": int(port), "pid": pid, "owner": os.getpid()}))
        tmp.replace(self.record_path)

    def read(self) -> NodeRecord | None:
        try:
            info = json.loads(self.record_path.read_text())
            return NodeRecord(str(info["url"]), int(info["pid"]), int(info.get("owner", info["pid"])))
        except (FileNotFoundError, json.JSONDecodeError, KeyError, ValueError):
            return None

    def attach(self, *, wait_s: float = 15.0) -> str:
        """The URL of the node another process owns here, once it answers (its owner may be
        starting or restarting it); a ChainError that names the owner otherwise."""
        deadline = time.monotonic() + wait_s
        while True:
            found = self.read()
            if found is not None and answers(found.url):
                return found.url
            if self.acquire():  # the owner went away meanwhile: the caller may start its own node
                self.release()
                raise ChainError(f"the process that ran the node of {self.data_dir} has stopped; run the command again")
            if time.monotonic() > deadline:
                who = f"process {found.owner} (node {found.url}, pid {found.pid})" if found else "another process"
                raise NodeUnavailable(f"{self.data_dir} is in use by {who}, whose node does not answer: wait for it, or stop "
                                 "it, then run this again; two nodes on one data directory would overwrite each other's "
                                 "state, so none is started")
            time.sleep(0.1)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
