"""Faults injected into a running service, and what survives them.

    .venv/bin/python -m benchmarks.durability [--writers 4] [--seconds 8]

`heritage api` runs as its own process on a fresh data directory; `--writers` stewards register
heritage works through it at once (upload → draft → EIP-712 signature → relay), and every 201 is
recorded with its work id and content CID. Two faults, each in the middle of that burst:

1. `kill -9` of the embedded anvil, `--seconds` after the burst started (past at least one of
   anvil's 5-s state dumps, so that its state file is behind): the service's supervisor reaps
   it, starts it again on its saved state and replays the journal; the writers carry on.
2. `kill -9` of the API process and of its anvil at once: then `heritage api` is started again
   on the same directory, as an operator would.

After each: every acknowledged registration must be on chain with its id (read back through
the API's index: the work's content CID), the index must equal the chain (`heritage audit --all`,
run beside the API on the same directory, checks it), and the time from the fault to the first
201 after it (recovery) is measured. Writes benchmarks/results/durability.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from chain.anvil import free_port
from chain.sender import dev_account
from chain.signatures import sign
from core.paths import REPO_ROOT
from tests.python.services import answers_health

OUT = REPO_ROOT / "benchmarks" / "results" / "durability.json"
CLI = [sys.executable, "-m", "cli.main"]


def _start_api(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HERITAGE_API_WRITES_PER_MINUTE": "100000"}
    proc = subprocess.Popen([*CLI, "api", "--data-dir", str(data), "--port", str(port)], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(data.parent / "api.log", "ab"))
    if answers_health(f"http://127.0.0.1:{port}", timeout=180, poll=0.1):
        return proc
    raise SystemExit("the API did not start; see api.log")


class Burst:
    """Writers registering works until stopped; every 201 and the time of each."""

    def __init__(self, url: str, stewards: list[LocalAccount], community: int) -> None:
        self.url, self.stewards, self.community = url, stewards, community
        self.acked: dict[int, str] = {}
        self.paid = 0
        self.times: list[float] = []
        self.refused: dict[int, int] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._write, args=(s,)) for s in stewards]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=120)

    def _write(self, steward: LocalAccount) -> None:
        client = httpx.Client(base_url=self.url, timeout=60)
        while not self._stop.is_set():
            try:
                cid = client.post("/content", files={"file": ("s.wav", b"RIFF" + os.urandom(600), "audio/wav")}).json()["cid"]
                draft = client.post("/works/drafts", json={"community_id": self.community, "steward": steward.address,
                                                           "content_cid": cid, "title": "A song"}).json()
                sig = "0x" + sign(draft["typed_data"], steward.key).hex()
                r = client.post("/works", json={"typed_data": draft["typed_data"], "signer": steward.address, "signature": sig})
            except (httpx.HTTPError, KeyError, ValueError):
                time.sleep(0.2)  # the service is down (fault 2) or answered a problem mid-way
                continue
            with self._lock:
                if r.status_code == 201:
                    self.acked[int(r.json()["work_id"])] = draft["typed_data"]["message"]["contentCid"]
                    self.times.append(time.monotonic())
                else:
                    self.refused[r.status_code] = self.refused.get(r.status_code, 0) + 1
                    time.sleep(0.2)
                    continue
            try:  # and the steward pays it 1 gwei: a user's own signed transaction, relayed
                tx = client.post("/payments/drafts", json={"payer": steward.address, "work_id": int(r.json()["work_id"]),
                                                           "amount_wei": 10**9}).json()["transaction"]
                p = client.post("/transactions", json={"raw": steward.sign_transaction(tx).raw_transaction.to_0x_hex()})
            except (httpx.HTTPError, KeyError, ValueError):
                continue
            with self._lock:
                if p.status_code == 201:
                    self.paid += 1
                    self.times.append(time.monotonic())

    def first_ack_after(self, t: float) -> float | None:
        with self._lock:
            later = [x for x in self.times if x > t]
        return min(later) - t if later else None


def _check(url: str, data: Path, acked: dict[int, str], paid: int) -> dict[str, Any]:
    from core.cid import to_text

    found = 0
    for work_id, content in acked.items():
        r = httpx.get(f"{url}/works/{work_id}", timeout=30)
        if r.status_code == 200 and r.json()["content_cid"] == to_text(bytes.fromhex(content[2:])):
            found += 1
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    audit = subprocess.run([*CLI, "audit", "--all", "--json", "--data-dir", str(data)], cwd=REPO_ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
    summary = json.loads(audit.stdout)["summary"] if audit.stdout.strip().startswith("{") else {}
    metrics = httpx.get(f"{url}/metrics", timeout=30).json()
    replays = [line.split("journal ")[-1] for line in (data.parent / "api.log").read_text().splitlines() if "replayed" in line]
    return {"registrations_acknowledged": len(acked), "registrations_found_after_restart": found,
            "payments_acknowledged": paid, "payments_on_chain_and_indexed": metrics["payments"],
            "journal_replays": replays, "audit_exit": audit.returncode,
            "index_equals_chain": summary.get("index_ok"), "index_checks": summary.get("index")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writers", type=int, default=4, help="stewards registering at once through the API (default 4)")
    ap.add_argument("--seconds", type=float, default=8.0,
                    help="seconds into the burst before anvil is killed; past its 5-s state dump (default 8)")
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="durability-")) / "data"
    data.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    api = _start_api(data, port)
    stewards = [dev_account(i) for i in range(1, 1 + args.writers)]
    payer = dev_account(0)
    draft = httpx.post(f"{url}/communities/drafts", json={"sender": payer.address, "name": "Singers", "threshold": 1,
                                                          "stewards": [s.address for s in stewards],
                                                          "treasury": dev_account(9).address}, timeout=60).json()
    raw = payer.sign_transaction(draft["transaction"]).raw_transaction.to_0x_hex()
    assert httpx.post(f"{url}/transactions", json={"raw": raw}, timeout=60).status_code == 201
    community = int(httpx.get(f"{url}/communities", timeout=30).json()["total"])
    results: dict[str, Any] = {"machine": platform.platform(), "writers": args.writers, "faults": {}}

    # Fault 1: kill -9 of the node under the running service.
    burst = Burst(url, stewards, community)
    burst.start()
    time.sleep(args.seconds)
    before = len(burst.acked)
    node = json.loads((data / "node.json").read_text())
    t_kill = time.monotonic()
    os.kill(int(node["pid"]), signal.SIGKILL)
    time.sleep(args.seconds / 2)
    burst.stop()
    recovery = burst.first_ack_after(t_kill)
    results["faults"]["kill -9 of the node"] = {
        "acknowledged_before_fault": before, "seconds_to_first_write_after_fault": recovery,
        "refusals_meanwhile": burst.refused, **_check(url, data, burst.acked, burst.paid)}

    # Fault 2: kill -9 of the service and its node at once; the operator starts it again.
    burst2 = Burst(url, stewards, community)
    burst2.start()
    time.sleep(args.seconds)
    node = json.loads((data / "node.json").read_text())
    t_kill = time.monotonic()
    api.send_signal(signal.SIGKILL)
    os.kill(int(node["pid"]), signal.SIGKILL)
    api.wait()
    before = len(burst2.acked)
    api = _start_api(data, port)
    t_up = time.monotonic() - t_kill
    time.sleep(args.seconds / 2)
    burst2.stop()
    results["faults"]["kill -9 of the service and its node"] = {
        "acknowledged_before_fault": before, "seconds_until_serving_again": round(t_up, 2),
        "seconds_to_first_write_after_fault": burst2.first_ack_after(t_kill), "refusals_meanwhile": burst2.refused,
        **_check(url, data, {**burst.acked, **burst2.acked}, burst.paid + burst2.paid)}
    api.send_signal(signal.SIGTERM)
    api.wait(timeout=60)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
