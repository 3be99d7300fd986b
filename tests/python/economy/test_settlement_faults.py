"""On-chain settlement through a flaky link to a real anvil: requests refused and answers lost
after the node acted. Every failure is counted and retried, no usage event is dropped and none
is paid twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
import pytest
import requests

from chain.client import connect
from core.blockstore import open_store
from core.config import Settings
from core.errors import ChainError
from economy.catalogue import build
from economy.listeners import DAY
from economy.scenario import CatalogueSpec, OnchainSpec
from economy.settlement import settle_onchain


class Flaky:
    """An HTTP relay to the node. While `on`, every 4th request on the payment path (sending,
    receipts, the block clock) is refused (503, never reaches the node) and every 3rd
    eth_sendRawTransaction is executed but its answer lost (502)."""

    def __init__(self, target: str) -> None:
        self.target, self.on, self.count, self.sends = target, False, 0, 0
        self.refused = self.lost = 0
        self.die_after_sends: int | None = None
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                payment_path = any(m in body for m in (b"eth_sendRawTransaction", b"eth_getTransactionReceipt",
                                                       b"evm_setNextBlockTimestamp"))
                relay.count += payment_path
                if relay.on and payment_path and relay.count % 4 == 0:
                    relay.refused += 1
                    return self._answer(503, b"node unavailable")
                answer = requests.post(relay.target, data=body, headers={"Content-Type": "application/json"}, timeout=30)
                if b"eth_sendRawTransaction" in body and relay.die_after_sends is not None:
                    relay.die_after_sends -= 1
                    if relay.die_after_sends == 0:
                        relay.target = "http://127.0.0.1:9"  # the node is gone: nothing answers there
                if relay.on and b"eth_sendRawTransaction" in body:
                    relay.sends += 1
                    if relay.sends % 3 == 0:
                        relay.lost += 1
                        return self._answer(502, b"answer lost")
                self._answer(answer.status_code, answer.content)

            def _answer(self, status: int, content: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


@pytest.fixture()
def node(tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    settings = Settings(data_dir=tmp_path / "data", deployments_dir=tmp_path / "data" / "deployments")
    chain = connect(settings)  # the embedded anvil, deployed
    try:
        yield settings, str(chain.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    finally:
        chain.close()


def _streams(n_items: int, t0: float, seed: int = 0, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"listener": rng.integers(50, size=n), "item": rng.integers(n_items, size=n),
                         "time": np.sort(t0 + rng.uniform(0, 6 * DAY, size=n))})


def test_failures_are_counted_retried_and_never_paid_twice(node: tuple[Settings, str], tmp_path: Path) -> None:
    settings, url = node
    with Flaky(url) as relay:
        chain = connect(settings.model_copy(update={"rpc_url": relay.url}))
        cat = build(chain, open_store(settings), CatalogueSpec(communities=2, max_works_per_community=5, derivative_share=0.4), 1)
        t0 = float(chain.w3.eth.get_block("latest")["timestamp"]) + 3600
        streams = _streams(len(cat.items), t0)
        before = chain.w3.eth.get_balance(chain.router.address)
        relay.on = True
        price = 10**12
        spec = OnchainSpec(batch_hours=12, max_entries_per_tx=8, retries=6)
        settled = settle_onchain(streams, cat, chain, spec, price, t0=t0, epoch_days=2, backoff_s=0.01)
        relay.on = False
        after = chain.w3.eth.get_balance(chain.router.address)
    assert relay.refused > 0 and relay.lost > 0
    assert settled.extra["failures"] > 0 and 0 < settled.extra["failure_rate"] < 1
    assert settled.unsettled == 0 and settled.latency_days.size == len(streams)
    assert after - before == len(streams) * price, "a batch was paid twice or not at all"
    assert settled.payouts["wei"].sum() == len(streams) * price


def test_a_node_that_stays_down_stops_the_run_with_what_was_settled(node: tuple[Settings, str]) -> None:
    settings, url = node
    with Flaky(url) as relay:
        chain = connect(settings.model_copy(update={"rpc_url": relay.url}))
        cat = build(chain, open_store(settings), CatalogueSpec(communities=2, max_works_per_community=3, derivative_share=0), 2)
        t0 = float(chain.w3.eth.get_block("latest")["timestamp"]) + 3600
        relay.die_after_sends = 2  # two batches go through, then the node goes away
        with pytest.raises(ChainError, match=r"settlement stopped: .* usage events were settled before it"):
            settle_onchain(_streams(len(cat.items), t0, n=50), cat, chain, OnchainSpec(batch_hours=12, retries=2), 10**12,
                           t0=t0, epoch_days=2, backoff_s=0.01)
