"""A `heritage demo` killed mid-run, or whose node dies mid-run, is rerun to completion with every
work registered exactly once; a killed `heritage` leaves no node running behind it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from chain.catalogue import load
from chain.client import connect
from core.config import Settings
from core.paths import REPO_ROOT

DEMO_WORKS = 10 + 1 + 12 + 10 + 1 + 3  # Shaanxi (10 treasury-only, 1 with a 2-of-3 split), Hubei, Irish, restricted, derivatives
HERITAGE = [sys.executable, "-m", "cli.main"]


def _heritage(*args: str, data: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*HERITAGE, *args, "--data-dir", str(data)], cwd=REPO_ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def _stored_blocks(data: Path) -> int:
    return sum(1 for p in (data / "blocks").rglob("*") if p.is_file()) if (data / "blocks").exists() else 0


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the demo ended before the crash point:\n{proc.stdout.read() if proc.stdout else ''}"
        assert time.monotonic() < deadline, "the crash point was never reached"
        time.sleep(0.05)


def _anvils_on(data: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline and cmdline[0].endswith(b"anvil") and str(data).encode() in b" ".join(cmdline):
                pids.append(int(proc.name))
    return pids


def _assert_catalogue_whole(data: Path) -> None:
    chain = connect(Settings(data_dir=data, deployments_dir=data / "deployments"))
    try:
        works = load(chain.index()).works
        assert len(works) == DEMO_WORKS, sorted(works)
        assert int(chain.registry.functions.workCount().call()) == DEMO_WORKS
        contents = [w.content_cid for w in works.values() if w.content_cid]
        assert len(contents) == len(set(contents)) == DEMO_WORKS - 1, "a work was registered twice"
    finally:
        chain.close()


def _finish(data: Path) -> None:
    rerun = _heritage("demo", data=data)
    out, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, out
    assert "every check passed" in out


def test_demo_killed_midway_resumes_and_leaves_no_orphan_node(tmp_path: Path) -> None:
    proc = _heritage("demo", data=tmp_path)
    _wait_for(lambda: _stored_blocks(tmp_path) >= 40, proc)  # inside the heritage registrations
    os.kill(proc.pid, signal.SIGKILL)  # the Python process only: its anvil must follow by itself
    proc.wait()
    deadline = time.monotonic() + 20
    while _anvils_on(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _anvils_on(tmp_path), "the killed demo's anvil is still running"
    _finish(tmp_path)
    _assert_catalogue_whole(tmp_path)


def test_node_gone_midway_gives_a_clear_error_and_a_rerun_completes(tmp_path: Path) -> None:
    up = subprocess.run([*HERITAGE, "chain", "up", "--json", "--data-dir", str(tmp_path)], cwd=REPO_ROOT,
                        capture_output=True, text=True, timeout=300)
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        proc = _heritage("demo", data=tmp_path)
        _wait_for(lambda: _stored_blocks(tmp_path) >= 60, proc)
        node = json.loads((tmp_path / "node.json").read_text())
        os.kill(int(node["pid"]), signal.SIGKILL)  # the node dies without saving its last seconds
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 2, out
        assert "stopped answering" in out and "Traceback" not in out, out
        subprocess.run([*HERITAGE, "chain", "up", "--data-dir", str(tmp_path)], cwd=REPO_ROOT, check=True,
                       capture_output=True, timeout=300)
        _finish(tmp_path)
        _assert_catalogue_whole(tmp_path)
    finally:
        subprocess.run([*HERITAGE, "chain", "down", "--data-dir", str(tmp_path)], cwd=REPO_ROOT,
                       capture_output=True, timeout=60)
