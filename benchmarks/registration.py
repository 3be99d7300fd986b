"""Registration throughput through the whole path, against the node's raw transaction rate, with
the send window and without it, on anvil and on Hardhat's node.

    .venv/bin/python -m benchmarks.registration [--works 10000] [--batch 50] [--raw 5000]
        [--window 16] [--nodes anvil,hardhat] [--unbounded-timeout 60]

Per node, one fresh process, one run, measured side by side:

- raw: `--raw` pre-signed ETH transfers sent through the send window (at most `--window` in
  flight, the next sent as receipts arrive; chain/window.py) — the node's ceiling for simple
  transactions as the platform sends them;
- full path: for each of `--works` works, hash the content (CID), store content and manifest in
  the block store, commit to each (`commitRegistration`, one transaction per work, sent by another
  account through the window and mined before the batch is sent: commit–reveal), then
  `registerHeritageWorks` transactions of `--batch` works each, signed
  locally, sent through the same window as they are produced, receipts awaited, and every event
  indexed into SQLite. Timed from the first byte hashed to the last event indexed. Hashing and
  storing run in a producer thread while earlier batches are mined;
- unbounded (today's flood before issue 28, for comparison): the same registrations, then the same
  transfers, each sent as soon as it is signed and only then awaited, stopped after
  `--unbounded-timeout` seconds without all receipts (a stall; the node is then stopped).

Writes benchmarks/results/registration.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import queue
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from web3 import Web3

from chain import calls
from chain import gateway as gw
from chain.anvil import ARBITRATOR_ACCOUNTS, Anvil
from chain.client import Chain, registry_abi
from chain.compile import Artifact, compile_contracts
from chain.deploy import contract, deploy
from chain.errors import ErrorDecoder
from chain.hardhat import Hardhat
from chain.indexer import Index
from chain.sender import DEFAULT_WINDOW, Fees, Sender, dev_account
from chain.types import OPEN, HeritageParams, everything_to
from core.blockstore import BlockStore
from core.cid import from_text
from core.config import Settings
from core.errors import ChainError
from core.manifest import HeritageManifest, to_bytes
from core.paths import REPO_ROOT
from core.types import CommunityId

RESULTS = Path(__file__).parent / "results"


def tune(i: int) -> bytes:
    """A small, unique ABC tune: real-sized content for the store and the CID."""
    notes = "".join("CDEFGABc"[(i >> (3 * k)) % 8] for k in range(8))
    return f"X:{i}\nT:Benchmark air {i}\nM:2/4\nL:1/8\nK:G\n|:{notes} {notes[::-1]}:|\n".encode()


def raw_rate(w3: Web3, url: str, n: int, *, account: int, window: int | None, timeout_s: float) -> dict[str, Any]:
    """`n` transfers through the window, or (`window=None`) all sent before any is awaited."""
    sender = Sender(w3, url, dev_account(account), timeout_s=timeout_s, window=window or 1)
    to = dev_account(9).address
    fees = Fees.current(w3)
    first = sender.nonces.take(sender.account.address, n)
    raws = [sender.sign(to, b"", gas=21_000, value=1, nonce=first + i, fees=fees) for i in range(n)]
    t0 = time.perf_counter()
    try:
        if window is None:
            sender.wait(sender.send_raw(raws, first_nonce=first))
        else:
            sender.submit(raws)
    except ChainError as err:
        seconds = time.perf_counter() - t0
        return {"transactions": n, "stalled": _stalled(err), "stopped_after_s": seconds,
                "mined": _mined(w3, sender, first), "error": str(err)[:300]}
    seconds = time.perf_counter() - t0
    return {"transactions": n, "seconds": seconds, "tx_per_s": n / seconds, "window": window}


def _stalled(err: ChainError) -> bool:
    """Stopped by the time-out (False: the node refused a transaction)."""
    return "not mined within" in str(err) or "did not answer" in str(err)


def _mined(w3: Web3, sender: Sender, first: int) -> int | None:
    try:
        answer = sender.rpc_batch([("eth_getTransactionCount", [sender.account.address, "latest"])])[0]
        return int(answer, 16) - first
    except ChainError:
        return None  # the node does not answer any more


def register(chain: Chain, url: str, tmp: Path, community: int, *, works: range, batch: int, window: int | None,
             timeout_s: float) -> dict[str, Any]:
    """Register `works` through the whole path; `window=None` floods (signs and sends each batch as
    it is produced, awaits them all at the end)."""
    w3 = chain.w3
    steward = dev_account(1)
    treasury = dev_account(2).address
    store = BlockStore(tmp / "blocks")
    index = Index(tmp / f"index-{window}.sqlite")
    sender = Sender(w3, url, steward, timeout_s=timeout_s, window=window or 1)
    committer = Sender(w3, url, dev_account(3), timeout_s=timeout_s)  # anyone may commit for the steward
    start_block = int(w3.eth.block_number) + 1
    batches = [range(lo, min(lo + batch, works.stop)) for lo in range(works.start, works.stop, batch)]
    timings = {"hash_store": 0.0, "sign_send_mine": 0.0, "index": 0.0}
    pool = ThreadPoolExecutor(max_workers=4)  # block writes are file creations: I/O, not CPU

    def prepare(i: int) -> HeritageParams:
        cid = store.put_bytes(tune(i))
        manifest = HeritageManifest(title=f"Benchmark air {i}", content_cid=cid, community="Benchmark singers",
                                    community_id=community, tradition="benchmark")
        return HeritageParams(CommunityId(community), from_text(cid), from_text(store.put_bytes(to_bytes(manifest))), OPEN,
                              everything_to(treasury))

    def produce(out: queue.Queue[bytes | None]) -> None:
        """Hash, store and encode batches while earlier ones are being mined."""
        for rng in batches:
            t1 = time.perf_counter()
            batch = list(pool.map(prepare, rng))
            # Commit–reveal: the batch's commitments are mined before its registration is sent.
            committer.transact_many(chain.registry.address, [calls.commit_calldata(chain, steward.address, p.content, p.salt)
                                                             for p in batch], gas=80_000)
            out.put(calls.heritage_batch_calldata(chain, batch))
            timings["hash_store"] += time.perf_counter() - t1
        out.put(None)

    t0 = time.perf_counter()
    ready: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
    producer = threading.Thread(target=produce, args=(ready,), daemon=True)
    producer.start()
    first = ready.get()
    assert first is not None
    gas = int(w3.eth.estimate_gas({"from": steward.address, "to": chain.registry.address, "data": first}, "pending") * 1.2)

    def datas() -> Iterator[bytes]:
        item: bytes | None = first
        while item is not None:
            yield item
            item = ready.get()

    t1 = time.perf_counter()
    try:
        if window is not None:
            receipts = sender.transact_many(chain.registry.address, datas(), gas=gas)
        else:
            fees = Fees.current(w3)
            hashes: list[str] = []
            for data in datas():
                nonce = sender.nonces.take(steward.address)
                hashes += sender.send_raw([sender.sign(chain.registry.address, data, gas=gas, nonce=nonce, fees=fees)])
            receipts = sender.wait(hashes)
    except ChainError as err:
        return {"works": len(works), "stalled": _stalled(err), "stopped_after_s": time.perf_counter() - t0,
                "error": str(err)[:300]}
    finally:
        producer.join(timeout=timeout_s)
        pool.shutdown()
    timings["sign_send_mine"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    events = index.sync(w3, {"HeritageRegistry": chain.registry, "RoyaltyRouter": chain.router}, start=start_block)
    timings["index"] = time.perf_counter() - t1
    seconds = time.perf_counter() - t0
    gas_used = sum(int(str(r["gasUsed"]), 16) for r in receipts)
    return {"works": len(works), "seconds": seconds, "works_per_s": len(works) / seconds, "window": window,
            "transactions": len(receipts), "stages_seconds": timings, "events_indexed": events,
            "gas_per_work": gas_used / len(works),
            "max_in_flight": sender.last_outcome.max_in_flight if sender.last_outcome else len(receipts)}


def on_node(kind: str, args: argparse.Namespace, artifacts: dict[str, Artifact], console: Console) -> dict[str, Any]:
    node: Anvil | Hardhat = (Anvil(gas_limit=args.block_gas, prune_history=64) if kind == "anvil"  # see chain/anvil.py
                             else Hardhat(gas_limit=args.block_gas))
    out: dict[str, Any] = {"node": kind}
    with tempfile.TemporaryDirectory() as tmp, node:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 600}))
        out["client_version"] = str(w3.client_version)
        dep = deploy(w3, artifacts, sender=w3.eth.accounts[0],
                     arbitrators=[w3.eth.accounts[i] for i in ARBITRATOR_ACCOUNTS])
        registry = w3.eth.contract(address=dep.registry, abi=registry_abi(artifacts))
        router = contract(w3, artifacts["RoyaltyRouter"], dep.router)
        decoder = ErrorDecoder(*(a.abi for a in artifacts.values()))
        chain = Chain(w3, registry, router, dep, Settings(data_dir=Path(tmp), tx_timeout_s=600), decoder,
                      _disputes=contract(w3, artifacts["HeritageDisputes"], dep.disputes),
                      _arbitrator=contract(w3, artifacts["CommitteeArbitrator"], dep.arbitrator))
        community = gw.register_community(chain, name="Benchmark singers", stewards=[dev_account(1).address],
                                          threshold=1, treasury=dev_account(2).address, sender=w3.eth.accounts[0])
        console.print(f"[{kind}] raw: {args.raw} transfers through a window of {args.window}")
        out["raw_window"] = raw_rate(w3, node.url, args.raw, account=8, window=args.window, timeout_s=600)
        console.print(f"[{kind}] full path: {args.works} works, {args.batch} per transaction, window {args.window}")
        out["registration_window"] = register(chain, node.url, Path(tmp), community, works=range(args.works),
                                              batch=args.batch, window=args.window, timeout_s=600)
        if gw.work_count(chain) != args.works:
            raise SystemExit(f"[{kind}] only {gw.work_count(chain)} of {args.works} works registered")
        if args.unbounded_timeout > 0:
            console.print(f"[{kind}] unbounded: the same registrations, then transfers, stopped after "
                          f"{args.unbounded_timeout:.0f} s without all receipts")
            out["registration_unbounded"] = register(chain, node.url, Path(tmp), community,
                                                     works=range(args.works, 2 * args.works), batch=args.batch,
                                                     window=None, timeout_s=args.unbounded_timeout)
            out["raw_unbounded"] = raw_rate(w3, node.url, args.raw, account=7, window=None,
                                            timeout_s=args.unbounded_timeout)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=10_000, help="Heritage works to register (default 10,000).")
    parser.add_argument("--batch", type=int, default=50, help="Works per registerHeritageWorks transaction.")
    parser.add_argument("--raw", type=int, default=5_000, help="Raw transfers for the baseline (default 5,000).")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW,
                        help=f"Transactions in flight per account (default {DEFAULT_WINDOW}, as HERITAGE_TX_WINDOW).")
    parser.add_argument("--nodes", default="anvil,hardhat", help="Nodes to run on, comma-separated (anvil, hardhat).")
    parser.add_argument("--unbounded-timeout", type=float, default=60.0,
                        help="Seconds before the unbounded comparison counts as stalled; 0 skips it (default 60).")
    parser.add_argument("--block-gas", type=int, default=300_000_000,
                        help="Block gas limit of the benchmark's nodes (default 300M, ten mainnet blocks).")
    args = parser.parse_args()
    console = Console()
    artifacts = compile_contracts(cache_dir=REPO_ROOT / ".data" / "artifacts")
    runs = [on_node(kind.strip(), args, artifacts, console) for kind in args.nodes.split(",") if kind.strip()]
    result = {
        "benchmark": "registration",
        "works": args.works,
        "works_per_tx": args.batch,
        "raw_transfers": args.raw,
        "window": args.window,
        "block_gas_limit": args.block_gas,
        "unbounded_timeout_s": args.unbounded_timeout,
        "nodes": runs,
        "stages_note": "hash_store runs in a producer thread, overlapped with sign_send_mine; index after",
        "aim_works_per_s": 300,
        "python": platform.python_version(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "registration.json").write_text(json.dumps(result, indent=2) + "\n")
    for run in runs:
        reg, raw = run["registration_window"], run["raw_window"]
        line = (f"[{run['node']}] window {args.window}: {args.works} works in {reg['seconds']:.1f} s = "
                f"{reg['works_per_s']:.0f} works/s; raw {raw['tx_per_s']:.0f} tx/s")
        for what in ("registration_unbounded", "raw_unbounded"):
            u = run.get(what)
            if u is not None:
                line += f"; {what.replace('_', ' ')}: " + (
                    f"{u['seconds']:.1f} s" if "seconds" in u else
                    f"{'stalled' if u['stalled'] else 'refused'} (stopped after {u['stopped_after_s']:.0f} s)")
        console.print(line)


if __name__ == "__main__":
    main()
