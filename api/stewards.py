"""Steward actions signed as EIP-712 typed data: drafts for a steward's wallet, and the checks
before the service relays a signed one (the rules live in chain/signatures.py; this module adds
what the service knows: its domain, the node's clock, the signer's nonce, the steward's role).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from hexbytes import HexBytes
from web3 import Web3

from api.batches import Job
from api.limits import check_typed_data, normalised_signature
from api.models import Draft, Relayed, SignedAction
from api.problems import Problem
from api.relay import send_call
from api.state import ApiState
from chain import calls
from chain import gateway as gw
from chain.client import Chain
from chain.signatures import Domain, Signed, check_current, digest, typed_data, verify_signed


def now(state: ApiState) -> int:
    """The time the contract will see: the node's clock, which may run ahead of ours."""
    return max(int(time.time()), gw.chain_time(state.chain))


def draft(state: ApiState, action: str, steward: str, fields: dict[str, Any], *, domain: Domain | None = None,
          nonce: int | None = None) -> Draft:
    """A draft in the registry's domain (or `domain`, with the signer's `nonce` there)."""
    nonce = gw.nonce_of(state.chain, steward) if nonce is None else nonce
    expires = now(state) + state.settings.api_signature_ttl_s
    doc = typed_data(domain or state.domain, action, {**fields, "nonce": nonce, "deadline": expires})
    return Draft(action=action, typed_data=doc, digest="0x" + digest(doc).hex(), expires=expires)


def require_steward(state: ApiState, community_id: int, who: str) -> None:
    """403 unless `who` is a steward of the (indexed) community."""
    state.catalogue().community(community_id)
    if not gw.is_steward(state.chain, community_id, who):
        raise _not_steward(community_id, who)


def consent_draft(state: ApiState, action: str, work_id: int, community_id: int, steward: str, *, only: str) -> Draft:
    """A steward's `ApproveDerivative` or `RejectDerivative` draft for a pending derivative: 409
    (`only` ends "only a pending derivative …") when the work is anything else, 403
    when the signer is not one of the community's stewards."""
    steward = Web3.to_checksum_address(steward)
    w = state.catalogue().work(work_id)
    if w.kind != "derivative" or w.status != "pending":
        raise Problem(409, "not-pending", f"work {work_id} is a {w.status} {w.kind}; only a pending derivative {only}")
    require_steward(state, community_id, steward)
    return draft(state, action, steward, {"workId": work_id, "communityId": community_id})


def _not_steward(community_id: int, who: str) -> Problem:
    return Problem(403, "not-a-steward", f"{who} is not a steward of community {community_id}; a steward acts for its "
                   "own community and nobody else: sign with one of its stewards' keys")


def verified(state: ApiState, body: SignedAction, action: str, *, work_id: int | None = None,
             domain: Domain | None = None) -> Signed:
    """`body` once it passes every check that needs no chain state (chain.signatures.verify_signed;
    with `work_id`, once the message is about that work). The document's shape and size are
    checked before it is hashed, and nothing here holds the write lock: `current` checks the
    deadline and nonce under it. `domain`: another contract's (default: the registry's)."""
    check_typed_data(body.typed_data)
    signature = normalised_signature(bytes(HexBytes(body.signature)))
    return verify_signed(body.typed_data, signature, action=action, domain=domain or state.domain, claimed=body.signer,
                         work_id=work_id)


def current(state: ApiState, signed: Signed, *, nonce_of: Callable[[Chain, str], int] | None = None) -> None:
    """The deadline has not passed and the nonce is the signer's next one; call it under
    `state.write_lock` so that the nonce cannot be used between check and relay.
    `nonce_of(chain, signer)`: another contract's nonces (default: the registry's)."""
    check_current(signed, now=now(state), nonce=int((nonce_of or gw.nonce_of)(state.chain, signed.signer)))


Reads = Sequence[tuple[Any, ...]]


def relay_for_community(state: ApiState, signed: Signed, build: Callable[[], calls.Call], *,
                        commit: tuple[tuple[calls.Call, ...], Callable[[int, Reads], calls.Call | None]] | None = None,
                        keys: tuple[str, ...] = ()) -> Relayed:
    """Relay a registry action a steward signed for the community its message names, in this
    worker's next batch (api/batches.py): under the relay lock, the signature is current and its
    signer a steward of that community, then the commitment (`commit`: the views it decides
    from, and what it decides from their outputs: a call to be mined first, or None) and the call
    `build()` makes (under the lock too: it may read chain state) are sent. `keys`: what no other
    action of the same batch may share (e.g. the content registered)."""
    community = int(signed.message["communityId"])
    extra, decide = commit if commit is not None else ((), None)

    def check(at: int, values: Reads) -> None:
        state.catalogue().community(community)
        check_current(signed, now=at, nonce=int(values[0][0]))
        if not values[1][0]:
            raise _not_steward(community, signed.signer)

    def then(at: int, values: Reads) -> calls.Call | None:
        return None if decide is None else decide(at, values[2:])

    reads = (*calls.steward_reads(state.chain, community, signed.signer), *extra)
    return state.relays.relay(Job(signed=signed, reads=reads, check=check, build=build, commit=then, keys=keys))


def relay_locked(state: ApiState, signed: Signed, build: Callable[[], calls.Call]) -> Relayed:
    """Relay one signed action at once, outside the batches, for a caller that holds
    `state.write_lock` already (api/approvals.py relays a community's gathered signatures in turn)."""
    current(state, signed)
    require_steward(state, int(signed.message["communityId"]), signed.signer)
    return send_call(state, build())
