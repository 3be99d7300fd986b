"""Stewards' signatures gathered toward their community's threshold (k of n), then relayed.

A steward's EIP-712 signature for a governance action (register a heritage work, consent to or
refuse a derivative, change a protocol) is checked and stored here as a pending approval, keyed
by what it decides (the message without its nonce and deadline), so that every steward signs the
same decision. Further stewards ask for a draft of the same decision with their own nonce
(`draft_for`). Once the community's threshold of current signatures is stored, every one is
relayed in turn (each is one approval on chain; the last applies the action) and the pending
approval is gone. An action that one signature applies (a tightening protocol change, a
threshold-1 community, consent already k-1 on chain) is relayed at once.

The store is one JSON file in the data directory, read and written under the relay lock (so that
several API workers share it). A steward's signature binds their current registry nonce: once
another of their signatures is relayed, a stored one is stale, is no longer counted, and the
queue asks them to sign again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field
from web3 import Web3

from api.models import Draft, Relayed, SignedAction
from api.problems import Problem, refusal
from api.state import ApiState
from api.stewards import current, draft, now, relay_locked, require_steward, verified
from chain import calls
from chain import gateway as gw
from chain.signatures import Signed, heritage_params
from chain.types import Protocol, everything_to
from core.durable import replace_durably
from core.types import CommunityId, WorkId

GATHERED = ("RegisterHeritageWork", "ApproveDerivative", "RejectDerivative", "SetProtocol")
"""The actions whose signatures are gathered here."""
MAX_PENDING = 1000
"""Pending approvals kept at most (a steward's draft is cheap; storage here is not unbounded)."""


class ApprovalOut(BaseModel):
    key: str = Field(description="What the action decides, hashed: the same for every steward's signature of it.")
    action: str
    community_id: int
    work_id: int | None = Field(description="The work it is about; for a heritage registration once applied, the new work.")
    message: dict[str, Any] = Field(description="The decision as the first steward signed it (their nonce and deadline).")
    signers: list[str] = Field(description="Stewards whose current signature is stored.")
    stale: list[str] = Field(default=[], description="Stewards whose stored signature no longer counts (nonce used or "
                             "deadline passed): they sign again.")
    approvals: int
    needed: int = Field(description="The community's threshold.")
    status: str = Field(description="pending (stored, awaiting stewards) or applied (relayed).")
    relayed: list[Relayed] = []


def _path(state: ApiState) -> Path:
    return state.settings.data_dir / "approvals.json"


def _load(state: ApiState) -> dict[str, Any]:
    path = _path(state)
    return dict(json.loads(path.read_text())) if path.exists() else {}


def _save(state: ApiState, store: dict[str, Any]) -> None:
    replace_durably(_path(state), json.dumps(store))  # a stored signature survives a crash once acknowledged


def key_of(typed_data: dict[str, Any]) -> str:
    """The decision a document signs: its action, domain and message without nonce and deadline."""
    message = {k: v for k, v in typed_data["message"].items() if k not in ("nonce", "deadline")}
    body = json.dumps([typed_data["primaryType"], typed_data["domain"], message], sort_keys=True)
    return "0x" + hashlib.sha256(body.encode()).hexdigest()


def call_of(state: ApiState, signed: Signed, action: str, *, committed: bool = False) -> calls.Call:
    """The registry call that relays `signed` (for a heritage registration, committed first when
    the steward must: the relay holds the write lock; `committed`: the caller has seen to the
    commitment already, as a batch does (api/batches.py), so the node is not asked again)."""
    m, steward, deadline, signature = signed.message, signed.signer, signed.deadline, signed.signature
    if action == "RegisterHeritageWork":
        params = heritage_params(m)
        if not committed and gw.needs_commitment(state.chain, steward, params.content, params.salt, params.community):
            gw.commit_registration(state.chain, steward, params.content, params.salt, sender=state.relayer)
        return calls.register_heritage_by_sig(state.chain, params, steward=steward, deadline=deadline, signature=signature)
    work, community = WorkId(int(m["workId"])), CommunityId(int(m["communityId"]))
    if action == "ApproveDerivative":
        return calls.approve_derivative_by_sig(state.chain, work, community, steward=steward, deadline=deadline,
                                               signature=signature)
    if action == "RejectDerivative":
        return calls.reject_derivative_by_sig(state.chain, work, community, steward=steward, deadline=deadline,
                                              signature=signature)
    try:
        protocol = Protocol.from_typed(m["protocol"])
    except (KeyError, TypeError, ValueError) as err:
        raise Problem(400, "signature-malformed", f"the signed protocol is not one ({err}); sign the draft unchanged") from err
    return calls.set_protocol_by_sig(state.chain, work, protocol, steward=steward, deadline=deadline, signature=signature)


Decide = Callable[[int, Sequence[tuple[Any, ...]]], "calls.Call | None"]


def registration_commitment(state: ApiState, signed: Signed) -> tuple[tuple[calls.Call, ...], Decide, tuple[str, ...]]:
    """For a batched heritage registration (api/batches.py): the views that decide whether the
    steward must commit first, the commitment they decide (None when a live commitment or the
    community's pending registration already holds the content), and what no other action of the
    same batch may share (the content)."""
    params, steward = heritage_params(signed.message), signed.signer

    def decide(now: int, values: Sequence[tuple[Any, ...]]) -> calls.Call | None:
        record, claim = values
        if not gw.commitment_needed(record, claim, params.community, now=now):
            return None
        return calls.commit_registration(state.chain, steward, params.content, params.salt)

    return calls.commitment_reads(state.chain, steward, params.content, params.salt), decide, (f"content:{params.content.hex()}",)


def _applies_alone(state: ApiState, signed: Signed, action: str) -> bool:
    """Whether this one signature applies the action (checked on chain, except a heritage
    registration, which needs a commitment first: at once for a threshold-1 community or a split
    of everything to its treasury, the registry's rule)."""
    community = state.catalogue().community(int(signed.message["communityId"]))
    if community.threshold == 1:
        return True
    if action == "RegisterHeritageWork":
        return heritage_params(signed.message).split == everything_to(community.treasury)
    call = call_of(state, signed, action)
    try:
        return bool(calls.returned(state.chain, call, state.relayer))
    except Exception as err:  # web3 raises several types for a revert
        raise refusal(state.chain.decoder, err, f"{action} signed by {signed.signer}") from err


def _signed_of(state: ApiState, entry: dict[str, Any], signer: str) -> Signed:
    doc = entry["signatures"][signer]
    return verified(state, SignedAction(typed_data=doc["typed_data"], signer=signer, signature=doc["signature"]),
                    entry["action"])


def _current_signers(state: ApiState, entry: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(signers whose stored signature still counts, signers whose is stale)."""
    clock = now(state)
    live: list[str] = []
    stale: list[str] = []
    for signer, doc in entry["signatures"].items():
        message = doc["typed_data"]["message"]
        current = (int(message["deadline"]) >= clock and int(message["nonce"]) == gw.nonce_of(state.chain, signer)
                   and gw.is_steward(state.chain, entry["community_id"], signer))
        (live if current else stale).append(signer)
    return live, stale


def _out(state: ApiState, key: str, entry: dict[str, Any], *, applied_by: list[str] | None = None,
         relayed: list[Relayed] | None = None, work_id: int | None = None) -> ApprovalOut:
    """A pending action as it stands, or (`applied_by`) the one just relayed."""
    live, stale = _current_signers(state, entry) if applied_by is None else (applied_by, [])
    status = "pending" if applied_by is None else "applied"
    needed = state.catalogue().community(entry["community_id"]).threshold
    return ApprovalOut(key=key, action=entry["action"], community_id=entry["community_id"],
                       work_id=work_id if work_id is not None else entry["work_id"], message=entry["message"],
                       signers=live, stale=stale, approvals=len(live), needed=needed, status=status, relayed=relayed or [])


def add(state: ApiState, body: SignedAction) -> ApprovalOut:
    """Store a steward's signature toward its action; relay every stored one once the threshold is reached."""
    action = str(body.typed_data.get("primaryType"))
    if action not in GATHERED:
        raise Problem(400, "not-gathered", f"{action!r} is not an action stewards approve together; gathered here: "
                      f"{', '.join(GATHERED)}")
    signed = verified(state, body, action)
    key = key_of(body.typed_data)
    community_id = int(signed.message["communityId"])
    with state.write_lock:
        require_steward(state, community_id, signed.signer)
        store = _load(state)
        entry = store.get(key) or {"action": action, "community_id": community_id, "message": signed.message,
                                   "work_id": int(signed.message["workId"]) if "workId" in signed.message else None,
                                   "signatures": {}, "created": int(time.time())}
        if key not in store and len(store) >= MAX_PENDING:
            raise Problem(503, "too-many-pending", f"{MAX_PENDING} actions await stewards already; try again later")
        if entry["signatures"].get(signed.signer, {}).get("signature") == body.signature:
            raise Problem(409, "already-signed", f"{signed.signer}'s signature of this action is stored already")
        current(state, signed)  # deadline, and the signer's next nonce: before it is stored or relayed
        entry["signatures"][signed.signer] = {"typed_data": body.typed_data, "signature": body.signature}
        others = [s for s in _current_signers(state, entry)[0] if s != signed.signer]
        threshold = state.catalogue().community(community_id).threshold
        if _applies_alone(state, signed, action):
            others = []
        elif len(others) + 1 < threshold:
            store[key] = entry
            _save(state, store)
            return _out(state, key, entry)
        signers = [*others[:threshold - 1], signed.signer]  # this one last: it applies the action
        relayed = _relay_all(state, store, key, entry, signers)
    work_id = relayed[-1].work_id if action == "RegisterHeritageWork" else entry["work_id"]
    return _out(state, key, entry, applied_by=signers, relayed=relayed, work_id=work_id)


def _relay_all(state: ApiState, store: dict[str, Any], key: str, entry: dict[str, Any], signers: list[str]) -> list[Relayed]:
    """Relay `signers`' stored signatures in turn (the caller holds the write lock); the pending
    approval is gone. Should one be refused, the ones not relayed yet stay stored, and the refusal
    is the answer (those relayed are approvals on chain already)."""
    store.pop(key, None)
    _save(state, store)
    relayed: list[Relayed] = []
    for signer in signers:
        signed = _signed_of(state, entry, signer)
        try:
            out = relay_locked(state, signed, functools.partial(call_of, state, signed, entry["action"]))
        except Exception:
            if rest := signers[len(relayed) + 1:]:
                store[key] = {**entry, "signatures": {s: entry["signatures"][s] for s in rest}}
                _save(state, store)
            raise
        if out.work_id is not None:
            out = out.model_copy(update={"status": state.catalogue().work(out.work_id).status})
        relayed.append(out)
    return relayed


def pending(state: ApiState, *, community_id: int | None = None, work_id: int | None = None) -> list[ApprovalOut]:
    """The actions awaiting stewards, oldest first."""
    store = _load(state)
    entries = sorted(store.items(), key=lambda kv: kv[1]["created"])
    return [_out(state, key, e) for key, e in entries
            if (community_id is None or e["community_id"] == community_id) and (work_id is None or e["work_id"] == work_id)]


def draft_for(state: ApiState, key: str, steward: str) -> Draft:
    """The pending action `key` for another steward to sign: the same decision, their nonce."""
    entry = _load(state).get(key)
    if entry is None:
        raise Problem(404, "unknown-approval", f"no action {key} awaits stewards: it was applied, or never proposed; "
                      "GET /approvals lists those that wait")
    steward = Web3.to_checksum_address(steward)
    require_steward(state, entry["community_id"], steward)
    fields = {k: v for k, v in entry["message"].items() if k not in ("nonce", "deadline")}
    return draft(state, entry["action"], steward, jsonable_encoder(fields))
