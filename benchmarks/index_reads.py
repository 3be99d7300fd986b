"""Reads past one process: the API at 50 clients over a large catalogue, on the SQLite index in one
process (today's default) against the PostgreSQL index with 1, 2 and 4 workers.

    .venv/bin/python -m benchmarks.index_reads [--works 10000] [--clients 50] [--seconds 20]

One run, side by side, on this machine: an embedded anvil (this process owns the data directory's
node; every service attaches to it), `--works` heritage works registered through the batched path
(benchmarks/registration.py: commitments, then `registerHeritageWorks` of 50, content and manifests
in the block store), a throwaway PostgreSQL cluster (tests/python/postgres.py). Each service is
`heritage api [--workers N]` in its own processes; the load is benchmarks/api_load.py's read mix
(work list page, works, lineages, communities, metrics) from `--clients` threads for `--seconds`.
Requests/s, p50, p99 and errors per configuration.

Writes benchmarks/results/index_reads.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from benchmarks.api_load import cpu_seconds, read_load, report_reads
from benchmarks.registration import register
from chain import gateway as gw
from chain.anvil import free_port, stop_process
from chain.client import connect
from chain.sender import dev_account
from core.config import Settings
from core.paths import REPO_ROOT
from tests.python.postgres import cluster
from tests.python.services import answers_health

console = Console()


def serve(data: Path, workers: int, index_url: str | None, **extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """`heritage api` attached to the data directory's node; `extra`: more HERITAGE_* settings."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HERITAGE_API_WRITES_PER_MINUTE": "1000000", **extra}
    env.pop("HERITAGE_INDEX_URL", None)
    if index_url:
        env["HERITAGE_INDEX_URL"] = index_url
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "api", "--workers", str(workers), "--port", str(port),
                             "--data-dir", str(data)], cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(data.parent / f"api-{workers}.log", "ab"))
    url = f"http://127.0.0.1:{port}"
    if answers_health(url, timeout=600, proc=proc, poll=0.5):
        return proc, url
    stop_process(proc, timeout=60)
    raise SystemExit(f"the API did not start; see {data.parent}/api-{workers}.log")


def settle(proc: subprocess.Popen[bytes], *, limit_s: float = 180) -> None:
    """Wait until every worker has started (the service's processes are idle for a second):
    the first worker answers while the others still import."""
    end, last = time.monotonic() + limit_s, cpu_seconds(proc.pid)
    while time.monotonic() < end:
        time.sleep(1.0)
        now = cpu_seconds(proc.pid)
        if now - last < 0.15:
            return
        last = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=10_000, help="heritage works in the catalogue (default 10,000)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent read clients (default 50)")
    parser.add_argument("--seconds", type=float, default=20, help="how long each configuration is read, in seconds (default 20)")
    args = parser.parse_args()
    out: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "clients": args.clients,
                           "seconds": args.seconds, "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as tmp, cluster() as pg:
        data = Path(tmp) / "data"
        settings = Settings(data_dir=data, deployments_dir=data / "deployments", tx_timeout_s=600)
        chain = connect(settings)  # owns the node: every service below attaches to it
        try:
            community = gw.register_community(chain, name="Benchmark singers", stewards=[dev_account(1).address],
                                              threshold=1, treasury=dev_account(2).address, sender=chain.accounts()[0])
            console.print(f"registering {args.works} works (batched path)")
            t0 = time.perf_counter()
            url = str(getattr(chain.w3.provider, "endpoint_uri", ""))
            built = register(chain, url, data, community, works=range(args.works), batch=50, window=16, timeout_s=600)
            out["catalogue"] = {"works": gw.work_count(chain), "build_seconds": round(time.perf_counter() - t0, 1),
                                "build_works_per_s": round(built.get("works_per_s", 0), 1)}
            index_url = pg.new_database()
            configs = [("sqlite, 1 process", 1, None)] + [(f"postgresql, {n} worker{'s' * (n > 1)}", n, index_url)
                                                          for n in (1, 2, 4)]
            for name, workers, db in configs:
                proc, service = serve(data, workers, db)
                try:
                    settle(proc)
                    ids = [w["work_id"] for w in httpx.get(service + "/works?limit=500", timeout=60).json()["items"]]
                    total = httpx.get(service + "/metrics", timeout=60).json()["works"]
                    console.print(f"{name}: {total} works indexed; {args.clients} clients for {args.seconds:g} s")
                    out[name] = {"workers": workers, "works_indexed": total,
                                 **read_load(service, args.clients, args.seconds, ids)}
                finally:
                    stop_process(proc, timeout=60)
        finally:
            chain.close()
    report_reads("index_reads", out,
                 title=f"API reads over {out['catalogue']['works']} works, {args.clients} clients on loopback")


if __name__ == "__main__":
    main()
