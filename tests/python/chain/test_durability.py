"""Faults on one machine: a `kill -9` of the embedded node during a burst of writes loses no
acknowledged write (the journal is replayed); a node restored from an older state rolls the
index back; a second process on the same data directory uses the first one's node."""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from chain import gateway as gw
from chain.client import Chain, connect
from chain.journal import Journal
from chain.types import OPEN, HeritageParams, everything_to
from core.config import Settings
from core.errors import ChainError
from core.types import CommunityId


def cid(i: int) -> bytes:
    return bytes([0x01, 0x55, 0x12, 0x20]) + i.to_bytes(32, "big")


def settings_for(tmp: Path) -> Settings:
    # A dump every 5 s (the default is 60): the kill below comes after one, so the restart loads it
    # and replays the rest from the journal.
    return Settings(data_dir=tmp, deployments_dir=tmp / "deployments", tx_timeout_s=20, anvil_state_interval_s=5)


def singers(c: Chain) -> list[str]:
    """Register community 1, "Singers" (steward account 1, treasury account 2, k = 1); the node's accounts."""
    acc = c.accounts()
    c.send(c.registry.functions.registerCommunity("Singers", [acc[1]], 1, acc[2]), acc[0])
    return acc


def register(c: Chain, i: int, community: int = 1) -> int:
    """Register heritage work `i` through the gateway (commit, then reveal in a later block)."""
    acc = c.accounts()
    work = gw.register_heritage(c, HeritageParams(CommunityId(community), cid(i), cid(10**6 + i), OPEN, everything_to(acc[2])),
                                sender=acc[1])
    assert work is not None  # a 1-of-1 community registers at once
    return int(work)


def index_matches_chain(c: Chain) -> None:
    idx = c.index()
    works = sorted({e["work_id"] for e in idx.events("HeritageWorkRegistered")})
    assert works == list(range(1, int(c.registry.functions.workCount().call()) + 1))
    for number, block_hash in idx.block_hashes().items():
        assert c.w3.eth.get_block(number)["hash"].to_0x_hex() == block_hash
    for e in idx.events("HeritageWorkRegistered"):
        assert int(c.registry.functions.workByContent(bytes.fromhex(e["args"]["contentCid"][2:])).call()) == e["work_id"]


def test_kill_9_of_the_node_during_a_burst_loses_no_acknowledged_write(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    c = connect(settings)
    assert c.anvil is not None and c.dev_keys and c.journal is not None
    singers(c)
    started = time.monotonic()
    acked: list[tuple[int, int]] = []
    stop = threading.Event()

    def burst() -> None:
        for i in range(1, 10_000):
            if stop.is_set():
                return
            try:
                acked.append((i, register(c, i)))
            except ChainError:  # the node was killed under it
                return

    writer = threading.Thread(target=burst)
    writer.start()
    while len(acked) < 8 or time.monotonic() - started < 6.5:  # past one of anvil's state dumps (every 5 s)
        assert writer.is_alive() or len(acked) >= 8, "the burst stopped before eight writes were acknowledged"
        assert time.monotonic() - started < 120, f"only {len(acked)} writes acknowledged in 120 s"
        time.sleep(0.05)
    c.index()  # the index has seen blocks the node is about to lose
    pid = c.anvil.pid
    assert pid is not None
    assert "--state-interval\x005\x00" in Path(f"/proc/{pid}/cmdline").read_text(), "the setting reaches the node"
    os.kill(pid, signal.SIGKILL)
    writer.join(timeout=30)
    stop.set()
    c.close()

    again = connect(settings)
    try:
        assert again.replayed is not None and again.replayed.replayed > 0, again.replayed
        assert not again.replayed.lost
        for i, work_id in acked:  # every acknowledged write is back, with its id
            assert int(again.registry.functions.workByContent(cid(i)).call()) == work_id
        index_matches_chain(again)
        after = register(again, 10**5)  # and the chain goes on from there
        assert after == int(again.registry.functions.workCount().call())
    finally:
        again.close()


def test_index_rolls_back_when_the_node_comes_back_from_an_older_state(tmp_path: Path) -> None:
    with closing(connect(settings_for(tmp_path))) as c:
        singers(c)
        register(c, 1)
        snapshot = c.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        for i in range(2, 5):
            register(c, i)
        idx = c.index()
        assert len(idx.events("HeritageWorkRegistered")) == 4
        epoch = idx.epoch()
        c.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
        c.sync(idx)
        assert idx.epoch() == epoch + 1
        assert [e["work_id"] for e in idx.events("HeritageWorkRegistered")] == [1]
        other = register(c, 99)  # a different work takes id 2 on the new branch
        assert other == 2
        index_matches_chain(c)
        from chain.catalogue import load

        assert load(idx).work(2).content_cid is not None


def test_second_process_attaches_to_the_data_directorys_node(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    first = connect(settings)
    try:
        second = connect(settings)  # the same process stands in for a CLI beside the API: it cannot take the lock
        assert second.anvil is None and second.w3.provider.endpoint_uri == first.anvil.url  # type: ignore[union-attr, attr-defined]
        singers(second)
        assert int(first.registry.functions.communityCount().call()) == 1
        register(first, 1)
        assert register(second, 2) == 2  # nonces of one account shared by two writers
        second.close()
    finally:
        first.close()


def test_a_retry_after_a_lost_answer_signs_nothing_twice(tmp_path: Path) -> None:
    with closing(connect(settings_for(tmp_path))) as c:
        assert c.journal is not None
        acc = c.accounts()
        fn = c.registry.functions.registerCommunity("Singers", [acc[1]], 1, acc[2])
        original: Any = c.journal.send

        def lost_answer(*args: Any, **kwargs: Any) -> str:
            original(*args, **kwargs)
            raise ChainError("the EVM node stopped answering")

        c.journal.send = lost_answer  # type: ignore[method-assign]
        with pytest.raises(ChainError):
            c.send(fn, acc[0])
        c.journal.send = original  # type: ignore[method-assign]
        c.send(fn, acc[0])  # the retry finds the journalled transaction on chain and waits for it
        assert int(c.registry.functions.communityCount().call()) == 1
        assert len([e for e in Journal(c.journal.path).entries() if e.sender == acc[0].lower()]) >= 1


def test_the_audit_fails_loudly_when_the_index_disagrees_with_the_chain(tmp_path: Path) -> None:
    from chain.indexaudit import audit_index

    with closing(connect(settings_for(tmp_path))) as c:
        acc = singers(c)
        work = register(c, 1)
        register(c, 2)
        c.send(c.router.functions.pay(work, b"\x01" * 32, 7), acc[3], value=10**15)
        verdict = audit_index(c)
        assert verdict.ok, verdict.to_json()
        idx = c.index()
        with idx.tx() as db:  # the index loses a payment and a work behind the chain's back
            db.execute(text("DELETE FROM events WHERE name = 'Paid'"))
            db.execute(text("DELETE FROM events WHERE name = 'HeritageWorkRegistered' AND work_id = 2"))
        verdict = audit_index(c)
        failed = {v.check for v in verdict.verdicts if not v.ok}
        assert failed == {"index: works", "index: records", "index: payments"}, verdict.to_json()


def test_a_chain_up_node_killed_is_taken_over_with_the_journal(tmp_path: Path) -> None:
    import json as json_

    from chain.node import down, up

    settings = settings_for(tmp_path)
    url = up(settings)
    try:
        attached = connect(settings)  # the node `chain up` started holds the directory's lock
        assert attached.anvil is None and attached.node_lock is None
        singers(attached)
        work = register(attached, 1)
        attached.close()
        pid = int(json_.loads((tmp_path / "node.json").read_text())["pid"])
        os.kill(pid, signal.SIGKILL)  # within anvil's 5-s dump interval: its state may lack the work
        try:
            os.waitpid(pid, 0)  # `up` ran in this process here, so its node is this process's child to reap
        except ChildProcessError:
            pass
        owner = connect(settings)  # the lock died with the node: this process takes over, replaying the journal
        try:
            assert owner.anvil is not None and owner.anvil.url != url
            assert int(owner.registry.functions.workByContent(cid(1)).call()) == work
        finally:
            owner.close()
    finally:
        down(settings)
