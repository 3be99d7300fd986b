"""Processes the dashboard tests run against (the API, Streamlit) and the data they put in it.

Everything goes through the command line and HTTP, as a user would: no import of the API,
the chain or web3 here.
"""

from __future__ import annotations

import io
import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.python.services import answers_health

BIN = Path(sys.executable).parent
TINY_SCENARIO: dict[str, Any] = {"name": "tiny", "seed": 3, "catalogue": {"communities": 3, "max_works_per_community": 6},
                                 "listeners": {"count": 40, "days": 8, "warmup_days": 4}}
# anvil's development accounts (its public default mnemonic), which demo mode signs for.
DEV_ACCOUNTS = ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
                "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
                "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
                "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f", "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"]


def free_port() -> int:
    """A TCP port nothing listens on now (the OS's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a process in its own session (so its children can be stopped with it), output to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, **(env or {})})


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate, wait, and kill the process's group if it does not end in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@contextmanager
def served(args: list[str], *, port: int, log: Path, what: str, health: str = "/health", timeout: float = 90,
           env: dict[str, str] | None = None) -> Iterator[str]:
    """Start the server `args` (listening on `port`, output to `log`), wait until `health` answers
    200, and give its URL while the block runs; stop it at the end. Fails with the log's tail when
    the process dies or is not ready in `timeout` seconds."""
    proc = start(args, log, env)
    url = f"http://127.0.0.1:{port}"
    try:
        if not answers_health(url, timeout=timeout, proc=proc, path=health, poll=0.3):
            why = f"the process ended with {proc.returncode}" if proc.poll() is not None else f"not ready in {timeout} s"
            raise RuntimeError(f"{what}: {why}:\n{log.read_text()[-3000:]}")
        yield url
    finally:
        stop(proc)


@contextmanager
def heritage_api(root: Path, *flags: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`heritage api` over `root`/data on a free port (its log `root`/api.log, extra `flags` such as
    `--demo`); its URL while the block runs."""
    port = free_port()
    with served([str(BIN / "heritage"), "api", "--port", str(port), *flags, "--data-dir", str(root / "data")],
                port=port, log=root / "api.log", what="heritage api", env=env) as url:
        yield url


@contextmanager
def streamlit_app(api_url: str, folder: Path) -> Iterator[str]:
    """`streamlit run dashboard/app.py` on a free port, reading the API at `api_url` (usage statistics
    off; its log in `folder`); its URL while the block runs."""
    port = free_port()
    with served([str(BIN / "streamlit"), "run", str(Path(__file__).resolve().parents[3] / "dashboard" / "app.py"),
                 "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
                 "--browser.gatherUsageStats", "false"], port=port, log=folder / "streamlit.log", what="streamlit",
                health="/_stcore/health", timeout=60, env={"HERITAGE_API_URL": api_url}) as url:
        yield url


def run_simulation(http: httpx.Client, scenario: dict[str, Any], timeout: float = 120) -> str:
    """Start a simulation through the API and wait until it is done; its job id."""
    r = http.post("/simulations", json={"scenario": scenario})
    assert r.status_code == 202, r.text
    job_id = str(r.json()["job_id"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = http.get(f"/jobs/{job_id}").json()
        if job["status"] == "done":
            return job_id
        assert job["status"] in ("queued", "running"), job
        time.sleep(0.5)
    raise TimeoutError(f"simulation {job_id} not done in {timeout} s")


def tone_wav(seconds: float = 1.0, hz: float = 440.0, rate: int = 8000) -> bytes:
    """A sine tone as 16-bit mono WAV."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate)))
                               for i in range(int(seconds * rate))))
    return buf.getvalue()


def one_note_midi() -> bytes:
    """A standard MIDI file (format 0) of one A4 quarter note."""
    track = bytes([0x00, 0x90, 69, 100, 0x83, 0x60, 0x80, 69, 0, 0x00, 0xFF, 0x2F, 0x00])
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(track)) + track


def upload(http: httpx.Client, name: str, data: bytes, media: str) -> str:
    r = http.post("/content", files={"file": (name, data, media)})
    assert r.status_code == 201, r.text
    return str(r.json()["cid"])


def register_audio_heritage(http: httpx.Client) -> int:
    """A heritage work whose content is a WAV recording, registered by a steward through the relay
    (demo mode signs for the steward); its work id. The demo catalogue holds only ABC scores."""
    community = next(c for c in http.get("/communities").json()["items"] if c["threshold"] == 1)
    steward = community["stewards"][0]
    cid = upload(http, "tone.wav", tone_wav(), "audio/wav")
    r = http.post("/works/drafts", json={"community_id": community["community_id"], "steward": steward, "content_cid": cid,
                                         "title": "A test tone", "region": "the test suite", "instruments": ["sine"]})
    assert r.status_code == 200, r.text
    typed = r.json()["typed_data"]
    r = http.post("/demo/sign", json={"account": DEV_ACCOUNTS.index(steward), "typed_data": typed})
    assert r.status_code == 200, r.text
    r = http.post("/works", json={"typed_data": typed, "signer": steward, "signature": r.json()["signature"]})
    assert r.status_code == 201, r.text
    return int(r.json()["work_id"])


def register_midi_derivative(http: httpx.Client, parents: list[tuple[int, int]]) -> int:
    """A machine-made derivative with MIDI content, signed by its creator (demo mode) and relayed; its work id."""
    creator = DEV_ACCOUNTS[9]
    cid = upload(http, "air.mid", one_note_midi(), "audio/midi")
    model = upload(http, "model.json", json.dumps({"model": "test markov chain"}).encode(), "application/json")
    r = http.post("/derivatives/drafts", json={"creator": creator, "content_cid": cid, "title": "A machine air",
                                               "parents": [{"work_id": w, "ppm": ppm} for w, ppm in parents],
                                               "model_cid": model, "model_architecture": "markov", "seed": 1})
    assert r.status_code == 200, r.text
    r = http.post("/demo/sign", json={"account": 9, "transaction": r.json()["transaction"]})
    assert r.status_code == 200, r.text
    r = http.post("/transactions", json={"raw": r.json()["raw"]})
    assert r.status_code == 201, r.text
    return int(r.json()["work_id"])
