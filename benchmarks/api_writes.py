"""Signed registrations through the API: batched relays against one at a time, in one run.

    .venv/bin/python -m benchmarks.api_writes [--writers 20] [--each 500] [--baseline-each 25] [--workers 1]

One embedded anvil (this process owns the data directory's node; every service attaches to it).
Each configuration is `heritage api` in its own processes; `--writers` stewards, each of a
community of its own, register at once through upload → draft → EIP-712 signature → relay
(benchmarks/api_load.py `write_load`: every CID checked registered exactly once), timed two ways:

- relays: each steward uploads, drafts and signs all its works first (its k-th registration
  signed with its k-th next nonce), then the clock runs while it posts them one after another
  (`POST /works`, each answered before the next is sent);
- upload to relay: the clock runs over upload → draft → signature → relay of each work.

Each both one at a time (`HERITAGE_API_RELAY_BATCH=1`: each relay its own commitment, then its own
registration, as before batching; `--baseline-each` per steward, since it is slow) and batched
(the default `api_relay_batch`, with `--workers` workers; `--each` per steward for the relays,
`--end-to-end-each` for upload to relay).

The node mines a block per transaction (anvil's automine) unless `HERITAGE_ANVIL_BLOCK_TIME_S` sets
a block time (a block every so often with every pending transaction, as a real chain).

Works/s (wall clock, first upload to last answer), lost and duplicated works, failed requests, and
the CPU time per work of the service and of the node over the timed part.
Writes benchmarks/results/api_writes.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.api_load import write_load
from benchmarks.index_reads import serve, settle
from chain.anvil import stop_process
from chain.client import connect
from core.config import Settings

RESULTS = Path(__file__).parent / "results"
console = Console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, default=20, help="stewards registering at once, each of its own community (default 20)")
    parser.add_argument("--each", type=int, default=500, help="works per steward in the batched relays run (default 500)")
    parser.add_argument("--baseline-each", type=int, default=25,
                        help="works per steward one relay at a time (slow; default 25)")
    parser.add_argument("--end-to-end-each", type=int, default=25,
                        help="works per steward timed from upload to relay (default 25)")
    parser.add_argument("--workers", type=int, default=1, help="API worker processes of the batched service (default 1)")
    args = parser.parse_args()
    out: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
                           "writers": args.writers, "load_average_before": os.getloadavg()}
    one, batched = {"HERITAGE_API_RELAY_BATCH": "1"}, f"batched, {args.workers} worker{'s' * (args.workers > 1)}"
    configs = [("relays, one at a time", 1, args.baseline_each, one, True),
               (f"relays, {batched}", args.workers, args.each, {}, True),
               ("upload to relay, one at a time", 1, args.baseline_each, one, False),
               (f"upload to relay, {batched}", args.workers, args.end_to_end_each, {}, False)]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        settings = Settings(data_dir=data, deployments_dir=data / "deployments", tx_timeout_s=600)
        out["anvil_block_time_s"] = settings.anvil_block_time_s  # HERITAGE_ANVIL_BLOCK_TIME_S; None: automine
        chain = connect(settings)  # owns the node
        try:
            for name, workers, each, env, prepared in configs:
                proc, url = serve(data, workers, None, **env)
                try:
                    settle(proc)
                    console.print(f"{name}: {args.writers} stewards × {each} signed registrations")
                    watch = {"service": proc.pid, **({"node": chain.anvil.pid} if chain.anvil and chain.anvil.pid else {})}
                    out[name] = {"workers": workers, **write_load(url, args.writers, each, prepared=prepared, watch=watch)}
                    console.print(out[name])
                finally:
                    stop_process(proc)
        finally:
            chain.close()
    out["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "api_writes.json").write_text(json.dumps(out, indent=2))
    t = Table(title=f"Signed registrations through the API, {args.writers} stewards at once")
    for col in ("timed", "registrations", "works/s", "lost", "duplicated", "failed requests", "CPU ms/work service, node",
                "load"):
        t.add_column(col, justify="right")
    for name, *_ in configs:
        r = out[name]
        cpu = r["cpu_ms_per_work"]
        t.add_row(name, str(r["registrations"]), f"{r['works_per_s']:.1f}", str(r["lost"]), str(r["duplicated"]),
                  str(r["failed_requests"]), f"{cpu.get('service', 0):.1f}, {cpu.get('node', 0):.1f}",
                  f"{r['load_average_at_end'][0]:.1f}")
    console.print(t)


if __name__ == "__main__":
    main()
