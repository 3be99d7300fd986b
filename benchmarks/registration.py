"""Registration throughput through the whole path, against anvil's raw transaction rate.

    .venv/bin/python -m benchmarks.registration [--works 10000] [--batch 50] [--raw 5000]

One fresh anvil, one run, two measurements side by side:

- raw: `--raw` pre-signed ETH transfers sent as JSON-RPC batches and awaited — the node's
  ceiling for simple transactions;
- full path: for each of `--works` works, hash the content (CID), store content and manifest in
  the block store, then `registerHeritageWorks` transactions of `--batch` works each, signed
  locally with nonces from the nonce manager, sent as JSON-RPC batches, receipts awaited, and
  every event indexed into SQLite. Timed from the first byte hashed to the last event indexed.
  Hashing and storing run in a producer thread while earlier batches are mined. (Indexing in a
  follower thread as blocks are mined was tried and was slower on 2 cores: 182 vs 342 works/s.)

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from web3 import Web3

from chain.abi import Encoder
from chain.anvil import Anvil
from chain.compile import compile_contracts
from chain.deploy import contract, deploy
from chain.indexer import Index
from chain.sender import Fees, Sender, dev_account
from core.blockstore import BlockStore
from core.cid import from_text
from core.manifest import HeritageManifest, to_bytes
from core.paths import REPO_ROOT

RESULTS = Path(__file__).parent / "results"
OPEN = (True, False, True, True, True, False, 100_000, 0, 1)


def tune(i: int) -> bytes:
    """A small, unique ABC tune: real-sized content for the store and the CID."""
    notes = "".join("CDEFGABc"[(i >> (3 * k)) % 8] for k in range(8))
    return f"X:{i}\nT:Benchmark air {i}\nM:2/4\nL:1/8\nK:G\n|:{notes} {notes[::-1]}:|\n".encode()


def raw_rate(w3: Web3, url: str, n: int) -> dict[str, float]:
    sender = Sender(w3, url, dev_account(8), timeout_s=600)
    to = dev_account(9).address
    fees = Fees.current(w3)
    first = sender.nonces.take(sender.account.address, n)
    raws = [sender.sign(to, b"", gas=21_000, value=1, nonce=first + i, fees=fees) for i in range(n)]
    t0 = time.perf_counter()
    sender.wait(sender.send_raw(raws, first_nonce=first))
    seconds = time.perf_counter() - t0
    return {"transactions": n, "seconds": seconds, "tx_per_s": n / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=10_000, help="Heritage works to register (default 10,000).")
    parser.add_argument("--batch", type=int, default=50, help="Works per registerHeritageWorks transaction.")
    parser.add_argument("--raw", type=int, default=5_000, help="Raw transfers for the baseline (default 5,000).")
    parser.add_argument("--block-gas", type=int, default=300_000_000,
                        help="Block gas limit of the benchmark's anvil (default 300M, ten mainnet blocks).")
    args = parser.parse_args()
    console = Console()
    artifacts = compile_contracts(cache_dir=REPO_ROOT / ".data" / "artifacts")
    node = Anvil(gas_limit=args.block_gas, prune_history=64)  # see chain/anvil.py on prune_history
    with tempfile.TemporaryDirectory() as tmp, node:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 600}))
        dep = deploy(w3, artifacts, sender=w3.eth.accounts[0])
        registry = contract(w3, artifacts["HeritageRegistry"], dep.registry)
        router = contract(w3, artifacts["RoyaltyRouter"], dep.router)
        steward = dev_account(1)
        treasury = dev_account(2).address
        tx = registry.functions.registerCommunity("Benchmark singers", [steward.address], 1, treasury).transact(
            {"from": w3.eth.accounts[0]})
        w3.eth.wait_for_transaction_receipt(tx)

        console.print(f"raw baseline: {args.raw} pre-signed transfers in JSON-RPC batches")
        raw = raw_rate(w3, node.url, args.raw)

        store = BlockStore(Path(tmp) / "blocks")
        index_path = Path(tmp) / "index.sqlite"
        index = Index(index_path)
        sender = Sender(w3, node.url, steward, timeout_s=600)
        start_block = int(w3.eth.block_number) + 1
        encoder = Encoder(artifacts["HeritageRegistry"].abi)
        batches = [range(lo, min(lo + args.batch, args.works)) for lo in range(0, args.works, args.batch)]
        gas_per_tx = 0
        t0 = time.perf_counter()
        timings = {"hash_store": 0.0, "sign_send_mine": 0.0, "index": 0.0}
        gas_used = 0
        pool = ThreadPoolExecutor(max_workers=4)  # block writes are file creations: I/O, not CPU

        def prepare(i: int) -> tuple[object, ...]:
            cid = store.put_bytes(tune(i))
            manifest = HeritageManifest(title=f"Benchmark air {i}", content_cid=cid, community="Benchmark singers",
                                        community_id=1, tradition="benchmark")
            return (1, from_text(cid), from_text(store.put_bytes(to_bytes(manifest))), OPEN, [(treasury, 1_000_000)])

        def produce(out: queue.Queue[bytes | None]) -> None:
            """Hash, store and encode batches while earlier ones are being mined."""
            for rng in batches:
                t1 = time.perf_counter()
                out.put(encoder.calldata("registerHeritageWorks", list(pool.map(prepare, rng))))
                timings["hash_store"] += time.perf_counter() - t1
            out.put(None)

        contracts = {"HeritageRegistry": registry, "RoyaltyRouter": router}
        with Progress(console=console) as progress:
            task = progress.add_task(f"registering {args.works} works", total=args.works)
            ready: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
            producer = threading.Thread(target=produce, args=(ready,), daemon=True)
            producer.start()
            first = ready.get()
            assert first is not None
            gas_per_tx = int(w3.eth.estimate_gas({"from": steward.address, "to": registry.address, "data": first}) * 1.2)
            # Anvil's automine mines what fits in a block when a transaction arrives; what does not
            # fit waits for the next arrival. Keep one round trip within one block's gas.
            window = max(1, args.block_gas // gas_per_tx)
            receipts: list[dict[str, object]] = []
            pending: list[bytes] = [first]
            done = False
            while True:
                # Take what is ready, up to a window; wait only when there is nothing to send.
                while not done and len(pending) < window:
                    try:
                        item = ready.get(block=not pending)
                    except queue.Empty:
                        break
                    if item is None:
                        done = True
                    else:
                        pending.append(item)
                if not pending:
                    break
                t1 = time.perf_counter()
                receipts += sender.transact_many(registry.address, pending, gas=gas_per_tx)
                timings["sign_send_mine"] += time.perf_counter() - t1
                progress.update(task, completed=min(len(receipts) * args.batch, args.works))
                pending = []
            producer.join()
            pool.shutdown()
            gas_used = sum(int(str(r["gasUsed"]), 16) for r in receipts)
            t1 = time.perf_counter()
            events = index.sync(w3, contracts, start=start_block)
            timings["index"] = time.perf_counter() - t1
        seconds = time.perf_counter() - t0
        registered = int(registry.functions.workCount().call())
        if registered != args.works:
            raise SystemExit(f"only {registered} of {args.works} works registered")
    result = {
        "benchmark": "registration",
        "works": args.works,
        "works_per_tx": args.batch,
        "block_gas_limit": args.block_gas,
        "seconds": seconds,
        "works_per_s": args.works / seconds,
        "stages_seconds": timings,
        "stages_note": "hash_store runs in a producer thread, overlapped with sign_send_mine; index after",
        "events_indexed": events,
        "gas_per_work": gas_used / args.works,
        "raw_baseline": raw,
        "aim_works_per_s": 300,
        "python": platform.python_version(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "registration.json").write_text(json.dumps(result, indent=2) + "\n")
    console.print(
        f"full path: {args.works} works in {seconds:.1f} s = {result['works_per_s']:.0f} works/s "
        f"({args.batch} per transaction, {result['gas_per_work']:.0f} gas per work, {events} events indexed); "
        f"raw anvil baseline in the same run: {raw['tx_per_s']:.0f} tx/s"
    )


if __name__ == "__main__":
    main()
