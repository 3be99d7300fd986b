"""The typed gateway (chain/types.py, chain/calls.py, chain/gateway.py) against a real anvil."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

import pytest

from chain import calls, disputes
from chain import gateway as gw
from chain.anvil import Anvil
from chain.client import Chain
from chain.errors import ContractRevert
from chain.signatures import PROTOCOL, heritage_message, heritage_params
from chain.types import (
    PRESETS,
    DerivativeParams,
    HeritageParams,
    Protocol,
    Recipient,
    WorkView,
    everything_to,
    parameters_hash,
)
from core.blockstore import ContentStore, open_store
from core.cid import from_text
from core.types import ETH, PPM, CommunityId, Ppm, Wei, WorkId, WorkKind, WorkStatus
from tests.python.chain.connected import connected

_fresh = itertools.count()


class Env:
    def __init__(self, chain: Chain, store: ContentStore) -> None:
        self.chain, self.store = chain, store
        self.acct = [str(a) for a in chain.w3.eth.accounts]
        self.steward, self.treasury, self.creator = self.acct[1], self.acct[2], self.acct[9]
        self.community = gw.register_community(chain, name=f"Gateway singers {next(_fresh)}", stewards=[self.steward],
                                               threshold=1, treasury=self.treasury, sender=self.acct[0])

    def content(self) -> bytes:
        return from_text(self.store.put_bytes(f"X:{next(_fresh)}\nT:gateway\nK:D\nDEFG|\n".encode()))

    def heritage(self, protocol: Protocol = PRESETS["open"]) -> WorkId:
        params = HeritageParams(self.community, self.content(), b"", protocol, everything_to(self.treasury))
        return gw.register_heritage(self.chain, params, sender=self.steward)

    def derivative(self, *parents: WorkId, ppm: int = 200_000, **kw: Any) -> WorkId:
        params = DerivativeParams(self.content(), b"", parents, tuple(Ppm(ppm) for _ in parents),
                                  everything_to(self.creator), **kw)
        return gw.register_derivative(self.chain, params, sender=self.creator)


@pytest.fixture(scope="module")
def env(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with connected(anvil, tmp_path_factory, "gateway") as (chain, settings):
        yield Env(chain, open_store(settings))


def _components(chain: Chain, struct: str) -> list[tuple[str, str]]:
    """(name, type) of a struct's components as the compiled ABI states them."""
    abi: list[dict[str, Any]] = [*chain.registry.abi, *chain.router.abi]  # type: ignore[list-item]
    args = [a for item in abi for a in (*item.get("inputs", []), *item.get("outputs", []))]
    while args:
        arg = args.pop()
        if arg.get("internalType", "").removesuffix("[]").split(" ")[-1].split(".")[-1] == struct:
            return [(c["name"], c["type"]) for c in arg["components"]]
        args.extend(arg.get("components", []))
    raise AssertionError(f"no struct {struct} in the ABI")


def test_types_mirror_the_compiled_structs(env: Env) -> None:
    """A field added to a contract struct fails here until chain/types.py carries it."""
    assert _components(env.chain, "Protocol") == list(Protocol.ABI)
    assert _components(env.chain, "Recipient") == list(Recipient.ABI)
    assert [f["name"] for f in PROTOCOL] == [name for name, _ in Protocol.ABI]
    assert len(_components(env.chain, "HeritageParams")) == len(fields(HeritageParams))
    assert len(_components(env.chain, "DerivativeParams")) == len(fields(DerivativeParams))
    assert len(_components(env.chain, "WorkView")) == len(fields(WorkView)) - 1  # + work_id


def test_community_and_heritage_round_trip(env: Env) -> None:
    view = gw.community(env.chain, env.community)
    assert (view.name.startswith("Gateway singers"), view.stewards, view.threshold, view.treasury) == \
        (True, (env.steward,), 1, env.treasury)
    assert gw.community_count(env.chain) >= env.community
    assert gw.is_steward(env.chain, env.community, env.steward) and not gw.is_steward(env.chain, env.community, env.creator)
    protocol = Protocol.preset("no-ml", floor_ppm=Ppm(150_000), labels=5)
    content = env.content()
    work = gw.register_heritage(env.chain, HeritageParams(env.community, content, b"", protocol,
                                                          everything_to(env.treasury)), sender=env.steward)
    assert gw.work_by_content(env.chain, content) == work == gw.work_count(env.chain)
    assert gw.protocol_of(env.chain, work) == protocol
    w = gw.work(env.chain, work)
    assert (w.kind, w.status, w.community, w.registrant, w.content, w.manifest_cid) == \
        (WorkKind.HERITAGE, WorkStatus.ACTIVE, env.community, env.steward, content, None)
    assert gw.roots_of(env.chain, work) == (work,)
    assert gw.split_of(env.chain, work) == (Recipient(env.treasury, PPM),)
    assert gw.work_by_content(env.chain, env.content()) is None


def test_a_batch_answers_its_ids_in_order(env: Env) -> None:
    contents = [env.content() for _ in range(3)]
    ids = gw.register_heritage_batch(env.chain, [HeritageParams(env.community, c, b"", split=everything_to(env.treasury))
                                                 for c in contents], sender=env.steward)
    assert ids == [gw.work_by_content(env.chain, c) for c in contents]
    assert ids == list(range(ids[0], ids[0] + 3))


def test_the_id_comes_from_the_event_when_another_registration_lands_in_the_same_block(env: Env) -> None:
    """workCount() read afterwards would name the other registration: the id is the receipt's."""
    w3 = env.chain.w3
    mine = HeritageParams(env.community, env.content(), b"", split=everything_to(env.treasury))
    theirs = HeritageParams(env.community, env.content(), b"", split=everything_to(env.treasury))
    for params in (mine, theirs):  # committed beforehand: the gateway sees the live commitment and reveals only
        gw.commit_registration(env.chain, env.steward, params.content, params.salt, sender=env.steward)
    other = calls.register_heritage(env.chain, theirs)
    got: list[WorkId | None] = []
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        sender = threading.Thread(target=lambda: got.append(gw.register_heritage(env.chain, mine, sender=env.steward)))
        sender.start()
        before = w3.eth.get_transaction_count(env.steward, "pending")  # type: ignore[arg-type]
        while w3.eth.get_transaction_count(env.steward, "pending") == before:  # type: ignore[arg-type]
            time.sleep(0.02)  # until ours is in the pool
        other.fn.transact({"from": env.steward, "gas": 1_000_000})
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        sender.join(timeout=30)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    assert got == [gw.work_by_content(env.chain, mine.content)]
    assert gw.work_count(env.chain) == got[0] + 1  # the other one came after it, in the same block


def test_derivative_consent_provenance_and_views(env: Env) -> None:
    consent = env.heritage(Protocol.preset("consent"))
    model = from_text(env.store.put_bytes(b"gateway model weights"))
    params_hash = parameters_hash({"temperature": "0.9"}, 7)
    work = env.derivative(consent, model=model, params_hash=params_hash)
    assert gw.status_of(env.chain, work) == WorkStatus.PENDING
    assert gw.work(env.chain, work).kind == WorkKind.DERIVATIVE
    assert gw.consent_needed(env.chain, work, env.community) and gw.pending_consents_of(env.chain, work) == 1
    made = gw.provenance_of(env.chain, work)
    assert (made.model, made.params_hash) == (model, params_hash)
    assert gw.approve_derivative(env.chain, work, env.community, sender=env.steward) == WorkStatus.ACTIVE
    assert [(p.work, p.ppm) for p in gw.parents_of(env.chain, work)] == [(consent, 200_000)]
    assert gw.roots_of(env.chain, work) == (consent,)
    node = gw.node_of(env.chain, work)
    assert (node.status, node.depth, node.route_size, node.upstream_ppm, node.held_by) == \
        (WorkStatus.ACTIVE, 1, 2, 200_000, None)


def test_pay_dispute_escrow_and_withdraw(env: Env) -> None:
    root = env.heritage()
    work = env.derivative(root)
    gw.pay(env.chain, root, Wei(10**15), usage_ref=b"\1" * 32, usage_time=1, sender=env.acct[0])
    dispute = disputes.raise_claim(env.chain, work, env.community, sender=env.steward)
    assert disputes.open_dispute_of(env.chain, work) == disputes.dispute(env.chain, dispute)
    assert gw.node_of(env.chain, work).held_by == dispute
    gw.pay(env.chain, work, Wei(10**15), usage_ref=b"\2" * 32, usage_time=1, sender=env.acct[0])
    assert gw.escrow_of(env.chain, work, ETH) == 10**15 * 800_000 // PPM
    case = disputes.dispute(env.chain, dispute).arbitrator_id
    ruled = [disputes.vote(env.chain, case, disputes.DISMISSED, sender=m) for m in disputes.members(env.chain)[:2]]
    assert ruled == [False, True]
    assert disputes.open_dispute_of(env.chain, work) is None
    assert disputes.release_escrow(env.chain, work, ETH, sender=env.acct[0]) == 10**15 * 800_000 // PPM
    owed = gw.balance_of(env.chain, env.treasury)
    assert owed > 0
    assert gw.withdraw(env.chain, ETH, sender=env.treasury) == owed
    assert gw.balance_of(env.chain, env.treasury) == 0


def test_restricted_work_is_a_commitment_only(env: Env) -> None:
    commitment = hashlib.sha256(f"salt {next(_fresh)}".encode()).digest()
    work = gw.register_restricted(env.chain, community=env.community, commitment=commitment, labels=1 << 14,
                                  sender=env.steward)
    view = gw.work(env.chain, work)
    assert (view.content_cid, view.status, view.commitment) == (None, WorkStatus.RESTRICTED, commitment)
    assert gw.work_by_content(env.chain, commitment) == work
    assert gw.protocol_of(env.chain, work).restricted


@pytest.mark.parametrize(("action", "error"), [
    ("duplicate content", "RegistryContentAlreadyRegistered"),
    ("not a steward", "RegistryNotSteward"),
    ("derivative of a restricted work", "RegistryAncestorRestricted"),
    ("model on a no-ML work", "RegistryMachineLearningNotAllowed"),
    ("below the floor", "RegistryFloorNotMet"),
])
def test_refusals_raise_the_contracts_named_errors_and_send_nothing(env: Env, action: str, error: str) -> None:
    root = env.heritage(Protocol.preset("no-ml", floor_ppm=Ppm(300_000)))
    before = gw.work_count(env.chain)
    with pytest.raises(ContractRevert, match=error):
        if action == "duplicate content":
            content = gw.work(env.chain, root).content
            gw.register_heritage(env.chain, HeritageParams(env.community, content, split=everything_to(env.treasury)),
                                 sender=env.steward)
        elif action == "not a steward":
            gw.register_heritage(env.chain, HeritageParams(env.community, env.content(), split=everything_to(env.treasury)),
                                 sender=env.creator)
        elif action == "derivative of a restricted work":
            commitment = hashlib.sha256(f"salt {next(_fresh)}".encode()).digest()
            secret = gw.register_restricted(env.chain, community=env.community, commitment=commitment, sender=env.steward)
            before = gw.work_count(env.chain)
            env.derivative(secret)
        elif action == "model on a no-ML work":
            env.derivative(root, ppm=300_000, model=b"\1\2", params_hash=parameters_hash({}, 1))
        else:
            env.derivative(root, ppm=200_000)
    assert gw.work_count(env.chain) == before


def test_unsigned_transaction_uses_the_fee_rule_and_dry_run_names_a_refusal(env: Env) -> None:
    root = env.heritage()
    call = calls.pay(env.chain, root, Wei(12345), usage_ref=b"\3" * 32, usage_time=1)
    tx = calls.unsigned_transaction(env.chain, call, env.acct[0])
    base = int(env.chain.w3.eth.get_block("latest").get("baseFeePerGas", 0))
    assert (tx["to"], tx["value"], tx["chainId"], tx["type"]) == (env.chain.router.address, 12345, 31337, 2)
    assert tx["maxFeePerGas"] == 2 * base + tx["maxPriorityFeePerGas"]
    assert tx["data"] == call.data and call.name == "pay"
    calls.dry_run(env.chain, call, env.acct[0])
    commitment = hashlib.sha256(f"salt {next(_fresh)}".encode()).digest()
    secret = gw.register_restricted(env.chain, community=env.community, commitment=commitment, sender=env.steward)
    refused = calls.pay(env.chain, secret, Wei(1), usage_ref=b"\3" * 32, usage_time=1)
    with pytest.raises(Exception) as caught:
        calls.dry_run(env.chain, refused, env.acct[0])
    decoded = env.chain.decoder.from_exception(caught.value)
    assert decoded is not None and "RouterWorkNotPayable" in str(decoded)


def test_work_of_receipt_prefers_registration_then_consent(env: Env) -> None:
    root = env.heritage(Protocol.preset("consent"))
    work = env.derivative(root)
    sent = calls.send(env.chain, calls.approve_derivative(env.chain, work, env.community), env.steward)
    assert [n for n, _ in sent.events if n == "DerivativeConsented"] and calls.work_of_events(sent.events) == work
    assert calls.work_of_events(()) is None
    assert calls.work_of_events((("DerivativeConsented", {"workId": 2}), ("HeritageWorkRegistered", {"workId": 1}))) == 1


def test_parameters_hash_is_the_canonical_json_of_seed_and_parameters() -> None:
    expected = hashlib.sha256(json.dumps({"seed": 7, "a": "1", "b": 2}, sort_keys=True).encode()).digest()
    assert parameters_hash({"b": 2, "a": "1"}, 7) == expected
    assert parameters_hash(None, None) == hashlib.sha256(b'{"seed": null}').digest()
    assert parameters_hash({"a": 1}, 7) != parameters_hash({"a": 1}, 8)


def test_protocol_and_heritage_params_round_trip_through_abi_and_typed_data() -> None:
    for protocol in PRESETS.values():
        assert Protocol.from_abi(protocol.to_abi()) == protocol
        assert Protocol.from_typed(protocol.to_typed()) == protocol
    assert PRESETS["no-derivatives"].to_abi()[:6] == (False, False, False, False, True, False)
    params = HeritageParams(CommunityId(3), b"\1\2", b"\3", Protocol(labels=9, floor_ppm=Ppm(5)),
                            (Recipient("0x" + "ab" * 20, Ppm(600_000)), Recipient("0x" + "CD" * 20, Ppm(400_000))))
    back = heritage_params(heritage_message(params))
    assert back.to_abi()[:4] == params.to_abi()[:4]
    assert [r.ppm for r in back.split] == [600_000, 400_000]
    assert all(r.account == r.account[:2] + r.account[2:] and r.account != r.account.lower() for r in back.split)


@pytest.mark.parametrize("raw", [
    (1, False, True, True, True, False, 100_000, 0, 1, 0),  # a flag that is an int
    ("false", False, True, True, True, False, 100_000, 0, 1, 0),  # a flag that is a string
    (True, False, True, True, True, False, "100000", 0, 1, 0),  # a number that is a string
    (True, False, True, True, True, False, True, 0, 1, 0),  # a number that is a bool
    (True, False, True, True, True, False, 100_000, 0, 1),  # a field short
])
def test_protocol_refuses_values_it_would_have_to_coerce(raw: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match=r"protocol field|fields"):
        Protocol.from_abi(raw)


def test_router_solvency_counts_every_credit_and_escrow(env: Env) -> None:
    from chain.audit import router_solvency

    root = env.heritage()
    gw.pay(env.chain, env.derivative(root), Wei(10**15), usage_ref=b"\4" * 32, usage_time=1, sender=env.acct[0])
    whole = router_solvency(env.chain, env.acct)
    assert whole.ok and whole.held > 0
    partial = router_solvency(env.chain, [a for a in env.acct if a != env.creator])  # a creditor left out
    assert not partial.ok and partial.owed < partial.held
