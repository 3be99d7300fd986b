"""The API under load, on loopback: reads from the index, and concurrent signed registrations.

    .venv/bin/python -m benchmarks.api_load [--clients 50] [--seconds 20] [--writers 20] [--each 50]

The service runs as its own process (`heritage api`, uvicorn, one worker) over the demo's
catalogue, so the load generator does not share its interpreter. Two configurations of the same
service, side by side in one run:

- baseline: `api_index_refresh_s=0`: every read syncs the index with the node first (what a
  service without a read cache pays);
- ours: the default 0.5 s refresh: reads are answered from the folded catalogue.

Reads: `--clients` concurrent clients for `--seconds` each, cycling through a work list page,
a work, its lineage, the communities and the metrics; requests/s and p50/p99 latency.
Writes (ours only): `--writers` stewards at once, each registering `--each` heritage works
through upload → draft → EIP-712 signature → relay; works/s, and a check that no registration
was lost or duplicated (every CID registered exactly once, the count exact).

Writes benchmarks/results/api_load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from chain.anvil import free_port
from chain.sender import dev_account
from chain.signatures import sign
from tests.python.services import answers_health

RESULTS = Path(__file__).parent / "results"
HERITAGE = str(Path(sys.executable).parent / "heritage")
console = Console()


class Service:
    """`heritage api` in a subprocess, on a free loopback port."""

    def __init__(self, data_dir: Path, refresh_s: float) -> None:
        self.port = free_port()
        env = {**os.environ, "HERITAGE_API_INDEX_REFRESH_S": str(refresh_s), "HERITAGE_API_WRITES_PER_MINUTE": "1000000"}
        self.proc = subprocess.Popen([HERITAGE, "api", "--port", str(self.port), "--demo",
                                      "--data-dir", str(data_dir)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{self.port}"
        if answers_health(self.url, timeout=90, proc=self.proc, poll=0.3):
            return
        self.stop()
        raise RuntimeError(f"the API did not start in 90 s: {self.proc.stderr.read().decode()[-2000:] if self.proc.stderr else ''}")

    def stop(self) -> None:
        from chain.anvil import stop_process

        stop_process(self.proc)


def read_load(url: str, clients: int, seconds: float, work_ids: list[int]) -> dict[str, Any]:
    paths = ["/works?limit=50", "/communities", "/metrics"]
    paths += [p for w in work_ids[:20] for p in (f"/works/{w}", f"/works/{w}/lineage")]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            k = i
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                r = c.get(paths[k % len(paths)])
                latencies[i].append(time.perf_counter() - t0)
                errors[i] += r.status_code != 200
                k += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    flat = sorted(x for xs in latencies for x in xs)
    return {"requests": len(flat), "errors": sum(errors), "seconds": round(wall, 2), "requests_per_s": round(len(flat) / wall, 1),
            "p50_ms": round(1000 * statistics.median(flat), 2), "p99_ms": round(1000 * flat[int(0.99 * (len(flat) - 1))], 2)}


def cpu_seconds(pid: int) -> float:
    """CPU time of `pid` and its descendants."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") + sum(cpu_seconds(int(c)) for c in children)


def write_load(url: str, writers: int, each: int, *, prepared: bool = False, watch: dict[str, int] | None = None) -> dict[str, Any]:
    """`writers` stewards, each of its own community, register `each` works at once. With
    `prepared`, each steward uploads, drafts and signs all its works first (the k-th signed with
    its k-th next nonce) and the clock runs only over the relays. `watch`: processes (name → pid,
    with their descendants) whose CPU time per registration over the timed part is reported,
    with the load average at its end."""
    stewards: list[LocalAccount] = [Account.create() for _ in range(writers)]
    funder = dev_account(0)
    with httpx.Client(base_url=url, timeout=60) as c:
        communities = []
        for i, s in enumerate(stewards):
            draft = c.post("/communities/drafts", json={"sender": funder.address, "name": f"Benchmark community {i}",
                                                        "stewards": [s.address], "threshold": 1, "treasury": s.address})
            raw = funder.sign_transaction(draft.json()["transaction"]).raw_transaction.to_0x_hex()
            c.post("/transactions", json={"raw": raw}).raise_for_status()
            communities.append(c.get("/communities").json()["total"])
        before = c.get("/metrics").json()["works"]
    cids: list[list[str]] = [[] for _ in range(writers)]
    failures: list[str] = []
    start = threading.Barrier(writers + 1)

    def signed(c: httpx.Client, i: int, n: int, nonce_ahead: int) -> dict[str, Any]:
        data = f"benchmark {i} {n} {os.urandom(8).hex()}".encode() * 50
        cid = c.post("/content", files={"file": (f"w{i}-{n}.wav", data, "audio/wav")}).json()["cid"]
        doc = c.post("/works/drafts", json={"community_id": communities[i], "steward": stewards[i].address,
                                            "content_cid": cid, "title": f"benchmark {i}/{n}"}).json()["typed_data"]
        doc["message"]["nonce"] += nonce_ahead
        cids[i].append(cid)
        return {"typed_data": doc, "signer": stewards[i].address, "signature": "0x" + sign(doc, stewards[i].key).hex()}

    def writer(i: int, progress: Any, task: Any) -> None:
        try:
            with httpx.Client(base_url=url, timeout=120) as c:
                ready = [signed(c, i, n, n) for n in range(each)] if prepared else []
        except BaseException:
            start.abort()  # the others stop waiting for this one
            raise
        start.wait()
        with httpx.Client(base_url=url, timeout=120) as c:  # a new connection: the server closes idle ones
            for n in range(each):
                r = c.post("/works", json=ready[n] if prepared else signed(c, i, n, 0))
                if r.status_code != 201:
                    failures.append(r.text)
                progress.advance(task)

    with Progress(console=console) as progress, ThreadPoolExecutor(writers) as pool:
        task = progress.add_task("registrations", total=writers * each)
        done = pool.map(lambda i: writer(i, progress, task), range(writers))
        start.wait()
        started, cpu = time.perf_counter(), {name: cpu_seconds(pid) for name, pid in (watch or {}).items()}
        list(done)
    wall = time.perf_counter() - started
    cpu_ms = {name: round(1000 * (cpu_seconds(pid) - cpu[name]) / (writers * each), 1) for name, pid in (watch or {}).items()}
    with httpx.Client(base_url=url, timeout=60) as c:
        after = c.get("/metrics").json()["works"]
        registered: dict[str, int] = {}
        offset = 0
        while page := c.get("/works", params={"offset": offset, "limit": 500}).json()["items"]:
            for w in page:
                registered[w["content_cid"] or ""] = registered.get(w["content_cid"] or "", 0) + 1
            offset += len(page)
    mine = [cid for xs in cids for cid in xs]
    lost = sum(1 for cid in mine if registered.get(cid, 0) == 0)
    duplicated = sum(1 for cid in mine if registered.get(cid, 0) > 1)
    return {"writers": writers, "each": each, "prepared": prepared, "registrations": writers * each,
            "failed_requests": len(failures),
            "first_failure": failures[0][:300] if failures else None, "new_works": after - before, "lost": lost,
            "duplicated": duplicated, "seconds": round(wall, 2), "works_per_s": round(writers * each / wall, 1),
            "cpu_ms_per_work": cpu_ms, "load_average_at_end": os.getloadavg()}


def report_reads(name: str, out: dict[str, Any], *, title: str) -> None:
    """Write `out` to results/<name>.json and print a row for each read run in it (`read_load`'s figures)."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=2))
    t = Table(title=title)
    for col in ("service", "requests/s", "p50 ms", "p99 ms", "errors"):
        t.add_column(col, justify="right")
    for run, r in out.items():
        if isinstance(r, dict) and "requests_per_s" in r:
            t.add_row(run, f"{r['requests_per_s']:.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", str(r["errors"]))
    console.print(t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50, help="concurrent read clients (default 50)")
    parser.add_argument("--seconds", type=float, default=20, help="how long each read configuration runs, in seconds (default 20)")
    parser.add_argument("--writers", type=int, default=20, help="stewards registering at once (default 20)")
    parser.add_argument("--each", type=int, default=50, help="heritage works each steward registers (default 50)")
    args = parser.parse_args()
    out: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "clients": args.clients}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        console.print("building the demo catalogue (heritage demo)")
        subprocess.run([HERITAGE, "demo", "--data-dir", str(data)], check=True, stdout=subprocess.DEVNULL)
        for name, refresh in (("baseline (sync per read)", 0.0), ("ours (0.5 s refresh)", 0.5)):
            service = Service(data, refresh)
            try:
                ids = [w["work_id"] for w in httpx.get(service.url + "/works?limit=500").json()["items"]]
                console.print(f"reads, {name}: {args.clients} clients for {args.seconds:g} s")
                out[name] = read_load(service.url, args.clients, args.seconds, ids)
                if refresh > 0:
                    console.print(f"writes: {args.writers} stewards × {args.each} registrations")
                    out["writes"] = write_load(service.url, args.writers, args.each)
            finally:
                service.stop()
    report_reads("api_load", out, title=f"API reads, {args.clients} concurrent clients on loopback")
    console.print(out["writes"])


if __name__ == "__main__":
    main()
