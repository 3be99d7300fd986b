"""A CLI command beside a running API on the same data directory lands on the API's chain (it
attaches to the API's node instead of starting a second anvil on the same state file), and the
CLI names its refusals instead of printing tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from chain.sender import dev_account
from core.paths import REPO_ROOT
from tests.python.api.conftest import Api, make_settings


def _cli(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "cli.main", *args, "--data-dir", str(data)], cwd=REPO_ROOT, text=True,
                          capture_output=True, timeout=300, env=env)


def test_cli_writes_beside_the_api_land_on_its_chain(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path))) as client:
        api = Api(client, [dev_account(i) for i in range(6)], 0)
        reg = api.state.chain.registry.functions
        assert api.send(api.keys[0], reg.registerCommunity("Singers", [api.keys[1].address], 1, api.keys[2].address)).status_code == 201
        song = tmp_path / "song.wav"
        song.write_bytes(b"RIFF" + os.urandom(400))
        done = _cli("work", "register", str(song), "--community", "1", "--from", "1", data=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert int(reg.workCount().call()) == 1  # on the API's node
        done = _cli("pay", "1", "777", "--from", "5", data=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        payments = client.get("/works/1/payments").json()
        assert [int(p["amount"]) for p in payments] == [777], payments

        empty = tmp_path / "empty.wav"
        empty.write_bytes(b"")
        other, third = tmp_path / "other.wav", tmp_path / "third.wav"
        other.write_bytes(b"RIFF" + os.urandom(300))
        third.write_bytes(b"RIFF" + os.urandom(300))
        for args, says in ((("work", "register", str(empty), "--community", "1", "--from", "1"), "empty"),
                           (("work", "register", str(other), "--community", "99", "--from", "1"), "Registry"),
                           (("work", "register", str(third), "--community", "1", "--from", "1", "--split", "0xnope:1000000"),
                            "not an account")):
            done = _cli(*args, data=tmp_path)
            out = done.stdout + done.stderr
            assert done.returncode == 2 and "Traceback" not in out and says in out, out
