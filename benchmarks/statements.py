"""A large usage statement end to end, against paying the same usage one payment per line.

    .venv/bin/python -m benchmarks.statements [--lines 1000000] [--works 200] [--unmatched 50]
        [--baseline 200] [--proofs 1000]

One fresh anvil, one run, side by side:

- `--works` heritage works are registered (setup, not timed); a DSR-shaped file of `--lines`
  lines is generated, each line naming a random work (by id), or, for about 1 % of the lines, one
  of `--unmatched` unregistered content CIDs;
- statement path, timed per stage: validation (`dsr.parse`), the Merkle tree (OpenZeppelin
  StandardMerkleTree layout) and matching of the distinct identifiers on chain, anchoring (one
  transaction), settlement (one `settle` transaction per 256 works through the router's
  `payBatch`) and suspense (`hold`); gas per line = all its transactions' gas / lines;
- baseline, same chain: `--baseline` lines paid one router `pay` each (gas per line, median);
- proofs: generation and verification (Python) of `--proofs` random lines, and the contract's
  `verifyLine` (eth_call) on 100 of them.

Writes benchmarks/results/statements.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from chain import gateway as gw
from chain import statements as cs
from chain.anvil import Anvil
from chain.client import connect
from chain.types import HeritageParams, everything_to
from core.cid import RAW, cid_bytes, to_text
from core.config import Settings
from core.paths import REPO_ROOT
from core.types import CommunityId, Wei, WorkId
from economy.statements import merkle
from economy.statements.dsr import parse
from economy.statements.submit import plan, tree_of

HEADER = "period_start\tperiod_end\tservice\tterritory\twork\tusage_type\tcount\tamount_wei"
RESULTS = REPO_ROOT / "benchmarks" / "results" / "statements.json"


def usage_file(lines: int, works: Sequence[WorkId], unmatched: Sequence[str], seed: int = 7) -> bytes:
    rng = random.Random(seed)
    territories = ("CN", "IE", "KZ", "FR", "US")
    out = [HEADER]
    for _ in range(lines):
        work = rng.choice(unmatched) if rng.random() < 0.01 else str(rng.choice(works))
        count = rng.randrange(1, 500)
        out.append(f"2026-10-01\t2026-10-31\tBenchStream\t{rng.choice(territories)}\t{work}\tstream\t{count}\t"
                   f"{count * 3_000_000_000}")
    return ("\n".join(out) + "\n").encode()


def _timed(what: dict[str, float], name: str, t0: float) -> float:
    now = time.perf_counter()
    what[name] = round(now - t0, 3)
    return now


def run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, Anvil() as node:
        settings = Settings(data_dir=Path(tmp), deployments_dir=Path(tmp) / "deployments", rpc_url=node.url)
        chain = connect(settings)
        accounts = chain.accounts()
        steward, service, treasury = accounts[1], accounts[5], accounts[2]
        community = gw.register_community(chain, name="Bench", stewards=[steward], threshold=1, treasury=treasury,
                                          sender=steward)
        works: list[WorkId] = []
        console.print(f"registering {args.works} works")
        for start in range(0, args.works, 50):
            batch = [HeritageParams(CommunityId(community), cid_bytes(RAW, f"bench work {i}".encode()),
                                    split=everything_to(treasury)) for i in range(start, min(args.works, start + 50))]
            works.extend(w for w in gw.register_heritage_batch(chain, batch, sender=steward) if w is not None)
        unknown = [to_text(cid_bytes(RAW, f"unregistered {i}".encode())) for i in range(args.unmatched)]
        data = usage_file(args.lines, works, unknown)
        console.print(f"statement of {args.lines:,} lines, {len(data) / 2**20:.1f} MiB")

        times: dict[str, float] = {}
        t = time.perf_counter()
        statement = parse(data)
        t = _timed(times, "validation_s", t)
        tree = tree_of(statement)
        t = _timed(times, "merkle_tree_s", t)
        p = plan(statement, lambda ident: cs.work_of(chain, ident))
        t = _timed(times, "merkle_and_match_s", t)  # plan() builds the tree again, then matches
        times["matching_s"] = round(times["merkle_and_match_s"] - times["merkle_tree_s"], 3)
        sid, anchored = cs.anchor(chain, root=p.root, period_start=statement.period_start, period_end=statement.period_end,
                                  line_count=len(statement.lines), total=statement.total, sender=service)
        t = _timed(times, "anchoring_s", t)
        settle_gas = hold_gas = 0
        matched = list(p.matched.items())
        for i in range(0, len(matched), cs.MAX_BATCH):
            chunk = matched[i:i + cs.MAX_BATCH]
            settle_gas += cs.settle(chain, sid, [w for w, _ in chunk], [a for _, a in chunk], sender=service).gas_used
        t = _timed(times, "settlement_s", t)
        held = list(p.unmatched.items())
        for i in range(0, len(held), cs.MAX_BATCH):
            chunk_h = held[i:i + cs.MAX_BATCH]
            hold_gas += cs.hold(chain, sid, [k for k, _ in chunk_h], [a for _, a in chunk_h], sender=service).gas_used
        _timed(times, "suspense_s", t)
        total_gas = anchored.gas_used + settle_gas + hold_gas
        console.print(times)

        console.print(f"baseline: {args.baseline} lines paid one router payment each")
        rng = random.Random(11)
        matched_lines = [line for line in statement.lines if line.work.work_id is not None]
        per_line, per_line_s = [], []
        for line in rng.sample(matched_lines, args.baseline):
            t0 = time.perf_counter()
            sent = gw.pay(chain, WorkId(line.work.work_id or 0), Wei(line.amount), usage_ref=line.line_hash,
                          usage_time=statement.period_end, sender=service)
            per_line_s.append(time.perf_counter() - t0)
            per_line.append(sent.gas_used)

        sample = rng.sample(range(len(statement.lines)), args.proofs)
        t0 = time.perf_counter()
        proofs = [tree.proof(i) for i in sample]
        gen_us = (time.perf_counter() - t0) / len(sample) * 1e6
        leaves = [merkle.leaf(statement.lines[i].number, statement.lines[i].line_hash, statement.lines[i].amount)
                  for i in sample]
        t0 = time.perf_counter()
        assert all(merkle.verify(tree.root, leaf, proof) for leaf, proof in zip(leaves, proofs, strict=True))
        verify_us = (time.perf_counter() - t0) / len(sample) * 1e6
        t0 = time.perf_counter()
        for i, proof in zip(sample[:100], proofs[:100], strict=True):
            line = statement.lines[i]
            assert cs.verify_line(chain, sid, proof, line=line.number, line_hash=line.line_hash, amount=line.amount)
        call_ms = (time.perf_counter() - t0) / 100 * 1e3
        chain.close()

    lines = len(statement.lines)
    return {
        "command": "python -m benchmarks.statements " + " ".join(f"--{k} {v}" for k, v in vars(args).items()),
        "machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}",
        "lines": lines, "bytes": len(data), "works": len(works), "matched_works": len(p.matched),
        "unmatched_identifiers": len(p.unmatched), "times_s": times,
        "gas": {"anchor": anchored.gas_used, "settle": settle_gas, "hold": hold_gas, "total": total_gas,
                "per_line": round(total_gas / lines, 2),
                "baseline_per_line_median": statistics.median(per_line),
                "baseline_lines": args.baseline,
                "ratio": round(statistics.median(per_line) / (total_gas / lines), 1)},
        "baseline_s_per_line_median": round(statistics.median(per_line_s), 4),
        "baseline_extrapolated_s": round(statistics.median(per_line_s) * lines, 1),
        "proof": {"depth_median": statistics.median(len(pr) for pr in proofs), "generate_us": round(gen_us, 1),
                  "verify_us": round(verify_us, 1), "contract_verify_ms": round(call_ms, 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines of the generated usage statement (default 1,000,000)")
    parser.add_argument("--works", type=int, default=200, help="heritage works registered for the lines to name (default 200)")
    parser.add_argument("--unmatched", type=int, default=50,
                        help="unregistered content CIDs that about 1 %% of the lines name (default 50)")
    parser.add_argument("--baseline", type=int, default=200, help="lines paid one router `pay` each, the baseline (default 200)")
    parser.add_argument("--proofs", type=int, default=1000, help="random lines whose proofs are made and checked (default 1,000)")
    args = parser.parse_args()
    console = Console()
    result = run(args, console)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    console.print_json(json.dumps(result))


if __name__ == "__main__":
    main()
