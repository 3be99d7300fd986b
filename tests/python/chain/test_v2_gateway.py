"""Contracts v2 through the gateway: commit–reveal, per-root floors, k-of-n protocol and split
changes, claims with a bond ruled by the committee, WithdrawClaim signatures bound to their claim,
and ERC-2981 receivers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace

import pytest

from chain import calls, disputes
from chain import gateway as gw
from chain.anvil import Anvil
from chain.client import Chain, connect
from chain.errors import ContractRevert
from chain.sender import dev_account
from chain.signatures import digest, disputes_domain, sign, typed_data
from chain.types import DerivativeParams, HeritageParams, Protocol, Recipient, Season, everything_to, season_window
from core.blockstore import ContentStore, open_store
from core.cid import from_text
from core.config import Settings
from core.types import ETH, PPM, CommunityId, Ppm, Wei, WorkId, WorkStatus
from tests.python.chain.connected import connected

_fresh = itertools.count()


class Env:
    """A 2-of-3 community (stewards 1, 2, 3; treasury 4), a creator (9), a payer (0)."""

    def __init__(self, chain: Chain, store: ContentStore) -> None:
        self.chain, self.store = chain, store
        self.acct = [str(a) for a in chain.w3.eth.accounts]
        self.stewards, self.treasury, self.creator = self.acct[1:4], self.acct[4], self.acct[9]
        self.community = gw.register_community(chain, name=f"v2 singers {next(_fresh)}", stewards=self.stewards,
                                               threshold=2, treasury=self.treasury, sender=self.acct[0])

    def content(self) -> bytes:
        return from_text(self.store.put_bytes(f"X:{next(_fresh)}\nT:v2\nK:D\nDEFG|\n".encode()))

    def heritage(self, protocol: Protocol = Protocol()) -> WorkId:
        work = gw.register_heritage(self.chain, HeritageParams(self.community, self.content(), b"", protocol,
                                                               everything_to(self.treasury)), sender=self.stewards[0])
        assert work is not None  # everything to the treasury: one steward registers it
        return work

    def derivative(self, parents: tuple[WorkId, ...], ppms: tuple[int, ...], **kw: object) -> DerivativeParams:
        return DerivativeParams(self.content(), b"", parents, tuple(Ppm(p) for p in ppms), everything_to(self.creator),
                                **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def env(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with connected(anvil, tmp_path_factory, "v2") as (chain, settings):
        yield Env(chain, open_store(settings))


def test_commit_reveal_and_a_copier_without_a_commitment_is_refused_by_name(env: Env) -> None:
    root = env.heritage()
    params = env.derivative((root,), (200_000,))
    before = env.chain.w3.eth.block_number
    work = gw.register_derivative(env.chain, params, sender=env.creator)
    assert gw.work(env.chain, work).registrant == env.creator
    assert env.chain.w3.eth.block_number >= before + 2  # the commitment, then the registration in a later block
    # A copier who saw the CID (in the mempool, or anywhere) registers it without having committed to it.
    copy = env.derivative((root,), (200_000,))
    with pytest.raises(ContractRevert, match="RegistryCommitmentMissing"):
        calls.send(env.chain, calls.register_derivative(env.chain, copy), env.acct[8])
    # Even with the victim's salt: the commitment binds the registrant.
    gw.commit_registration(env.chain, env.creator, copy.content, copy.salt, sender=env.creator)
    with pytest.raises(ContractRevert, match="RegistryCommitmentMissing"):
        calls.send(env.chain, calls.register_derivative(env.chain, copy), env.acct[8])
    assert gw.register_derivative(env.chain, copy, sender=env.creator) > work  # the live commitment is reused


def test_a_decoy_root_does_not_dilute_a_floor(env: Env) -> None:
    guarded = env.heritage(Protocol(floor_ppm=Ppm(150_000)))
    decoy = env.heritage(Protocol(floor_ppm=Ppm(0)))
    params = env.derivative((guarded, decoy), (50_000, 250_000))  # 300,000 upstream, 50,000 to the guarded root
    with pytest.raises(ContractRevert, match=rf"RegistryFloorNotMet\(rootId={guarded}, effectivePpm=50000, floorPpm=150000\)"):
        gw.register_derivative(env.chain, params, sender=env.creator)
    # Through a generation: a derivative routing 100 % to a parent that gives the root 200,000 passes only
    # when its own share keeps the root at its floor.
    middle = gw.register_derivative(env.chain, env.derivative((guarded,), (200_000,)), sender=env.creator)
    with pytest.raises(ContractRevert, match="RegistryFloorNotMet"):
        gw.register_derivative(env.chain, env.derivative((middle,), (500_000,)), sender=env.creator)  # 100,000 < 150,000
    grand = gw.register_derivative(env.chain, env.derivative((middle,), (750_000,)), sender=env.creator)
    assert [(s.work, s.ppm) for s in gw.root_shares_of(env.chain, grand)] == [(guarded, 150_000)]


def test_k_of_n_registration_and_protocol_loosening(env: Env) -> None:
    split = (Recipient(env.treasury, Ppm(700_000)), Recipient(env.stewards[0], Ppm(300_000)))
    params = HeritageParams(env.community, env.content(), b"", Protocol(commercial_allowed=False), split)
    assert gw.register_heritage(env.chain, params, sender=env.stewards[0]) is None  # 1 of 2
    with pytest.raises(ContractRevert, match="RegistryAlreadyApproved"):
        gw.register_heritage(env.chain, params, sender=env.stewards[0])
    work = gw.register_heritage(env.chain, params, sender=env.stewards[1])  # the 2nd steward, no commitment needed
    assert work is not None and gw.split_of(env.chain, work) == split

    loose = replace(gw.protocol_of(env.chain, work), commercial_allowed=True)
    assert gw.set_protocol(env.chain, work, loose, sender=env.stewards[0]) is False
    assert gw.protocol_of(env.chain, work).commercial_allowed is False
    with pytest.raises(ContractRevert, match="RegistryCommercialUseNotAllowed"):
        gw.register_derivative(env.chain, env.derivative((work,), (200_000,), commercial=True), sender=env.creator)
    assert gw.set_protocol(env.chain, work, loose, sender=env.stewards[2]) is True
    assert gw.protocol_of(env.chain, work) == loose
    tighter = replace(loose, floor_ppm=Ppm(200_000))
    assert gw.set_protocol(env.chain, work, tighter, sender=env.stewards[1]) is True  # tightening: one steward

    assert gw.set_split(env.chain, work, everything_to(env.treasury), sender=env.stewards[0]) is False
    assert gw.set_split(env.chain, work, everything_to(env.treasury), sender=env.stewards[1]) is True


def test_a_season_packs_and_refuses_bad_dates() -> None:
    assert season_window(12, 1, 2, 28) == 12 << 24 | 1 << 16 | 2 << 8 | 28
    winter = Season.unpack(season_window(12, 1, 2, 28))
    assert winter is not None and winter.contains(1, 15) and not winter.contains(6, 1)
    assert Season.unpack(0) is None
    with pytest.raises(ValueError, match="month"):
        season_window(13, 1, 1, 1)


def test_a_claim_dismissed_by_the_committee_releases_escrow_to_the_split_and_the_bond_to_the_owner(env: Env) -> None:
    root = env.heritage()
    work = gw.register_derivative(env.chain, env.derivative((root,), (200_000,)), sender=env.creator)
    with pytest.raises(ContractRevert, match="DisputesWrongBond"):
        calls.send(env.chain, replace(disputes.raise_claim_call(env.chain, work, env.community), value=Wei(1)),
                   env.stewards[0])
    dispute = disputes.raise_claim(env.chain, work, env.community, sender=env.stewards[0])
    claim = disputes.dispute(env.chain, dispute)
    assert (claim.kind, claim.status, claim.bond, claim.owner) == \
        (disputes.ClaimKind.LINEAGE, disputes.ClaimStatus.OPEN, disputes.claim_bond(env.chain), env.creator)
    gw.pay(env.chain, work, Wei(10**15), usage_ref=b"\1" * 32, usage_time=1, sender=env.acct[0])
    escrow = gw.escrow_of(env.chain, work, ETH)
    assert escrow == 10**15 * 800_000 // PPM
    with pytest.raises(ContractRevert, match="ArbitratorNotMember"):
        disputes.vote(env.chain, claim.arbitrator_id, disputes.DISMISSED, sender=env.stewards[1])
    members = disputes.members(env.chain)
    assert disputes.vote(env.chain, claim.arbitrator_id, disputes.DISMISSED, sender=members[0]) is False
    assert disputes.vote(env.chain, claim.arbitrator_id, disputes.DISMISSED, sender=members[1]) is True
    assert disputes.dispute(env.chain, dispute).status == disputes.ClaimStatus.DISMISSED
    before = gw.balance_of(env.chain, env.creator)
    assert disputes.release_escrow(env.chain, work, ETH, sender=env.acct[0]) == escrow
    assert gw.balance_of(env.chain, env.creator) - before == escrow  # the work's split: everything to the creator
    assert disputes.bond_of(env.chain, env.creator) >= claim.bond
    assert disputes.withdraw_bond(env.chain, sender=env.creator) >= claim.bond
    with pytest.raises(ContractRevert, match="DisputesNoBond"):
        disputes.withdraw_bond(env.chain, sender=env.creator)


def test_a_withdraw_claim_signature_is_bound_to_its_claim(env: Env) -> None:
    root = env.heritage()
    first = gw.register_derivative(env.chain, env.derivative((root,), (200_000,)), sender=env.creator)
    second = gw.register_derivative(env.chain, env.derivative((root,), (200_000,)), sender=env.creator)
    a = disputes.raise_claim(env.chain, first, env.community, sender=env.stewards[0])
    b = disputes.raise_claim(env.chain, second, env.community, sender=env.stewards[1])
    steward = env.stewards[2]
    deadline = int(env.chain.w3.eth.get_block("latest")["timestamp"]) + 600
    message = {"disputeId": a, "workId": first, "communityId": env.community,
               "nonce": disputes.nonce_of(env.chain, steward), "deadline": deadline}
    doc = typed_data(disputes_domain(env.chain.deployment.chain_id, env.chain.deployment.disputes), "WithdrawClaim", message)
    signature = sign(doc, dev_account(3).key)
    assert disputes.withdrawal_digest(env.chain, a, steward, deadline) == digest(doc)
    with pytest.raises(ContractRevert, match="DisputesInvalidSignature"):
        disputes.approve_withdrawal_by_sig(env.chain, b, steward=steward, deadline=deadline, signature=signature,
                                           sender=env.acct[0])
    assert disputes.approve_withdrawal_by_sig(env.chain, a, steward=steward, deadline=deadline, signature=signature,
                                              sender=env.acct[0]) is False  # 1 of 2
    with pytest.raises(ContractRevert, match="DisputesInvalidSignature"):  # replayed: the nonce is used
        disputes.approve_withdrawal_by_sig(env.chain, a, steward=steward, deadline=deadline, signature=signature,
                                           sender=env.acct[0])
    assert disputes.approve_withdrawal(env.chain, a, sender=env.stewards[0]) is True
    assert disputes.dispute(env.chain, a).status == disputes.ClaimStatus.WITHDRAWN
    for member in disputes.members(env.chain)[:2]:  # close the other one
        disputes.vote(env.chain, disputes.dispute(env.chain, b).arbitrator_id, disputes.DISMISSED, sender=member)


def test_royalty_info_names_the_receiver_that_routes_eth(env: Env) -> None:
    root = env.heritage()
    work = gw.register_derivative(env.chain, env.derivative((root,), (200_000,)), sender=env.creator)
    receiver, amount = gw.royalty_info(env.chain, work, Wei(10**18))
    assert receiver == gw.receiver_of(env.chain, work) and amount == 10**18 * 500 // 10_000
    assert gw.royalty_info(env.chain, 10**9, Wei(10**18)) == (ETH, 0)  # unknown work: nobody, nothing
    assert gw.deploy_receiver(env.chain, work, sender=env.acct[0]) == receiver
    assert gw.deploy_receiver(env.chain, work, sender=env.acct[0]) == receiver  # idempotent
    before = {a: gw.balance_of(env.chain, a) for a in (env.treasury, env.creator)}
    w3 = env.chain.w3
    tx = w3.eth.send_transaction({"from": env.acct[0], "to": receiver, "value": amount, "gas": 300_000})  # type: ignore[typeddict-item]
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    gained = {a: gw.balance_of(env.chain, a) - before[a] for a in before}
    assert gained == {env.treasury: amount * 200_000 // PPM, env.creator: amount - amount * 200_000 // PPM}
    assert gw.status_of(env.chain, work) == WorkStatus.ACTIVE
    cap, credits = gw.credits_of(env.chain, work)
    assert cap >= 1 and credits >= 0
    assert CommunityId(env.community) == env.community


def test_signed_protocol_split_and_rejection_and_a_cancelled_nonce(env: Env) -> None:
    from chain.signatures import Domain

    work = env.heritage()
    domain = Domain(env.chain.deployment.chain_id, env.chain.deployment.registry)
    keys = {s: dev_account(i) for i, s in enumerate(env.stewards, start=1)}

    def signed(action: str, steward: str, **fields: object) -> tuple[int, bytes]:
        deadline = int(env.chain.w3.eth.get_block("latest")["timestamp"]) + 600
        doc = typed_data(domain, action, {**fields, "nonce": gw.nonce_of(env.chain, steward), "deadline": deadline})
        return deadline, sign(doc, keys[steward].key)

    tighter = replace(gw.protocol_of(env.chain, work), floor_ppm=Ppm(300_000), season=season_window(1, 1, 12, 31))
    deadline, sig = signed("SetProtocol", env.stewards[0], workId=work, communityId=env.community, protocol=tighter.to_typed())
    calls.send(env.chain, calls.set_protocol_by_sig(env.chain, work, tighter, steward=env.stewards[0], deadline=deadline,
                                                    signature=sig), env.acct[0])
    assert gw.protocol_of(env.chain, work) == tighter

    split = (Recipient(env.treasury, Ppm(600_000)), Recipient(env.stewards[1], Ppm(400_000)))
    for steward in env.stewards[:2]:
        deadline, sig = signed("SetSplit", steward, workId=work, communityId=env.community,
                               split=[r.to_typed() for r in split])
        calls.send(env.chain, calls.set_split_by_sig(env.chain, work, split, steward=steward, deadline=deadline,
                                                     signature=sig), env.acct[0])
    assert gw.split_of(env.chain, work) == split

    consent = env.heritage(Protocol(consent_required=True))
    pending = gw.register_derivative(env.chain, env.derivative((consent,), (200_000,)), sender=env.creator)
    deadline, sig = signed("RejectDerivative", env.stewards[2], workId=pending, communityId=env.community)
    assert gw.cancel_nonce(env.chain, sender=env.stewards[2]) >= 0  # the signature's nonce is now void
    with pytest.raises(ContractRevert, match="RegistryInvalidSignature"):
        calls.send(env.chain, calls.reject_derivative_by_sig(env.chain, pending, env.community, steward=env.stewards[2],
                                                             deadline=deadline, signature=sig), env.acct[0])
    deadline, sig = signed("RejectDerivative", env.stewards[2], workId=pending, communityId=env.community)
    calls.send(env.chain, calls.reject_derivative_by_sig(env.chain, pending, env.community, steward=env.stewards[2],
                                                         deadline=deadline, signature=sig), env.acct[0])
    calls.send(env.chain, calls.reject_derivative(env.chain, pending, env.community), env.stewards[0])
    assert gw.status_of(env.chain, pending) == WorkStatus.REJECTED


def test_a_v1_deployment_file_is_redeployed_on_a_development_chain(env: Env, tmp_path_factory: pytest.TempPathFactory) -> None:
    import json

    tmp = tmp_path_factory.mktemp("v1file")
    (tmp / "deployments").mkdir()
    d = env.chain.deployment
    (tmp / "deployments" / f"{d.chain_id}.json").write_text(json.dumps(
        {"chainId": d.chain_id, "router": d.router, "registry": d.registry, "block": d.block}))  # no v2 addresses
    url = str(env.chain.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    chain = connect(Settings(data_dir=tmp, deployments_dir=tmp / "deployments", rpc_url=url))
    try:
        assert chain.deployment.registry != d.registry and chain.deployment.disputes and chain.deployment.arbitrator
        assert json.loads((tmp / "deployments" / f"{d.chain_id}.json").read_text())["governance"] == chain.deployment.governance
        assert set(disputes.members(chain)) == {env.acct[10], env.acct[11], env.acct[12]}
    finally:
        chain.close()
