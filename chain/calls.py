"""Contract calls as values: built from the typed parameters of chain/types.py, then sent
(`send`), dry-run (`dry_run`), handed to a wallet unsigned (`unsigned_transaction`) or encoded
fast for batched raw sends (`*_calldata`). Receipts are read back into `Sent`, whose events name
the new ids. chain/gateway.py sends these and answers typed ids; this module is what the API's
drafts and relays, the demo's refused actions and the batched senders build on.

Every call of the registry and the router outside chain/ goes through here or chain/gateway.py;
tests/python/test_architecture.py checks it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3

from chain.abi import Encoder, EventDecoder
from chain.client import Chain
from chain.sender import Fees
from chain.types import DerivativeParams, HeritageParams, Protocol, Recipient, Sent, registration_commitment
from core.types import ETH, CommunityId, Wei, WorkId

T = TypeVar("T")
_CACHE_LOCK = threading.Lock()
_ENCODERS: dict[tuple[str, int], Encoder] = {}
_DECODERS: dict[tuple[str, int], EventDecoder] = {}


@dataclass(frozen=True)
class Call:
    """One call of a platform contract, not sent yet."""

    fn: Any
    """The web3 `ContractFunction` (bound to its arguments)."""
    value: Wei = Wei(0)  # noqa: RUF009 (NewType: the value itself, immutable)

    @property
    def name(self) -> str:
        return str(self.fn.fn_name)

    @property
    def to(self) -> str:
        return str(self.fn.address)

    @property
    def data(self) -> str:
        """The calldata, 0x-prefixed hex."""
        return str(self.fn._encode_transaction_data())


# ---------------------------------------------------------------------- sending and receipts
def send(chain: Chain, call: Call, sender: str) -> Sent:
    """Send `call` from `sender` (an unlocked account, or the signing key's) and wait for it; a
    revert raises the contract's named error (chain.errors.ContractRevert)."""
    return sent(chain, chain.send(call.fn, sender, value=int(call.value)))


def dry_run(chain: Chain, call: Call, sender: str) -> None:
    """`eth_call` of `call` from `sender`; a refusal raises web3's exception unchanged, for the
    caller to decode (`chain.decoder`)."""
    call.fn.call({"from": sender, "value": int(call.value)}, block_identifier="pending")


def returned(chain: Chain, call: Call, sender: str) -> Any:
    """What `call` would return from `sender` now (`eth_call`); a refusal raises as `dry_run`."""
    return call.fn.call({"from": sender, "value": int(call.value)}, block_identifier="pending")


def unsigned_transaction(chain: Chain, call: Call, sender: str, *, tip: int = 10**9) -> dict[str, Any]:
    """The EIP-1559 fields of `call` from `sender` for a wallet to sign (`eth_signTransaction`):
    the gas estimate with a margin, the sender's pending nonce and chain.sender's fee rule
    (max fee = 2 × base fee + tip)."""
    gas = int(call.fn.estimate_gas({"from": sender, "value": int(call.value)}, block_identifier="pending") * 1.2) + 10_000
    fees = Fees.current(chain.w3, tip=tip)
    nonce = int(chain.w3.eth.get_transaction_count(Web3.to_checksum_address(sender), "pending"))
    return {"type": 2, "chainId": chain.deployment.chain_id, "to": call.to, "data": call.data, "value": int(call.value),
            "gas": gas, "nonce": nonce, "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
            "maxFeePerGas": fees.max_fee_per_gas}


def sent(chain: Chain, receipt: Mapping[str, Any]) -> Sent:
    """A receipt (web3's, or the raw JSON one of a locally signed transaction) as `Sent`."""
    return Sent(tx=HexBytes(receipt["transactionHash"]).to_0x_hex(), block=_int(receipt["blockNumber"]),
                gas_used=_int(receipt["gasUsed"]), events=receipt_events(chain, receipt))


def receipt_events(chain: Chain, receipt: Mapping[str, Any]) -> tuple[tuple[str, Mapping[str, Any]], ...]:
    """The registry's, the router's, the disputes contract's and the arbitrator's events in a
    receipt, in log order."""
    decoders = {str(c.address).lower(): _decoder(c) for c in _platform(chain).values()}
    out = []
    for log in receipt["logs"]:
        decoder = decoders.get(str(log["address"]).lower())
        if decoder is None:
            continue
        decoded = decoder.decode([HexBytes(t) for t in log["topics"]], HexBytes(log["data"]))
        if decoded is not None:
            out.append(decoded)
    return tuple(out)


WORK_EVENTS = ("HeritageWorkRegistered", "DerivativeRegistered", "DerivativeConsented", "ClaimRaised", "ClaimClosed")


def work_of_receipt(chain: Chain, receipt: Mapping[str, Any]) -> WorkId | None:
    """The work a relayed transaction registered, approved or resolved: the first of
    `WORK_EVENTS` (in that order of preference) its receipt holds; None when none."""
    return work_of_events(receipt_events(chain, receipt))


def work_of_events(events: Sequence[tuple[str, Mapping[str, Any]]]) -> WorkId | None:
    """The first work of `WORK_EVENTS`, in that order of preference, that `events` name."""
    for wanted in WORK_EVENTS:
        for name, args in events:
            if name == wanted:
                return WorkId(int(args["workId"]))
    return None


def _platform(chain: Chain) -> dict[str, Any]:
    return {"registry": chain.registry, "router": chain.router, "disputes": chain.disputes, "arbitrator": chain.arbitrator}


def contract_at(chain: Chain, address: str) -> str | None:
    """"registry", "router", "disputes" or "arbitrator" for the platform contract at `address`;
    None for any other address."""
    return next((name for name, c in _platform(chain).items() if str(c.address).lower() == address.lower()), None)


def function_called(chain: Chain, contract: str, data: bytes) -> str:
    """The name of the `contract` (a name `contract_at` answers) function that `data` calls;
    ValueError when the calldata matches none of its functions."""
    fn, _ = _platform(chain)[contract].decode_function_input(data)
    return str(fn.fn_name)


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _cached(cache: dict[tuple[str, int], T], contract: Any, make: Callable[[Any], T]) -> T:
    """One `make(abi)` per contract (address and ABI), built once however many threads ask."""
    key = (str(contract.address).lower(), id(contract.abi))
    with _CACHE_LOCK:
        if key not in cache:
            cache[key] = make(cast(Any, contract.abi))
        return cache[key]


def _decoder(contract: Any) -> EventDecoder:
    return _cached(_DECODERS, contract, EventDecoder)


def _encoder(contract: Any) -> Encoder:
    return _cached(_ENCODERS, contract, Encoder)


# ---------------------------------------------------------------------- calls of the registry
def register_community(chain: Chain, *, name: str, stewards: Sequence[str], threshold: int, treasury: str) -> Call:
    return Call(chain.registry.functions.registerCommunity(name, [Web3.to_checksum_address(s) for s in stewards], threshold,
                                                           Web3.to_checksum_address(treasury)))


def commit_registration(chain: Chain, registrant: str, content: bytes, salt: bytes) -> Call:
    """Commit `registrant` to revealing `content` with `salt` (anyone may send it: the registrant
    is inside the hash); the registration must come in a later block, within a day."""
    return Call(chain.registry.functions.commitRegistration(registration_commitment(registrant, content, salt)))


def commit_calldata(chain: Chain, registrant: str, content: bytes, salt: bytes) -> bytes:
    """Calldata of `commitRegistration` for batched raw sends."""
    return _encoder(chain.registry).calldata("commitRegistration", registration_commitment(registrant, content, salt))


def commitment_reads(chain: Chain, registrant: str, content: bytes, salt: bytes) -> tuple[Call, Call]:
    """The views `gateway.commitment_needed` decides from: `registrant`'s commitment to `content`
    with `salt` (block, time), and the content's claim by a community (community, expiry)."""
    reg = chain.registry.functions
    return Call(reg.commitmentOf(registration_commitment(registrant, content, salt))), Call(reg.claimOf(keccak(content)))


def steward_reads(chain: Chain, community: int, steward: str) -> tuple[Call, Call]:
    """The views a steward's signed action is checked with: its next nonce, and whether it is a
    steward of `community`."""
    reg = chain.registry.functions
    return Call(reg.nonces(steward)), Call(reg.isSteward(community, steward))


def register_heritage(chain: Chain, params: HeritageParams) -> Call:
    return Call(chain.registry.functions.registerHeritageWork(params.to_abi()))


def register_heritage_batch(chain: Chain, batch: Sequence[HeritageParams]) -> Call:
    return Call(chain.registry.functions.registerHeritageWorks([p.to_abi() for p in batch]))


def register_heritage_by_sig(chain: Chain, params: HeritageParams, *, steward: str, deadline: int, signature: bytes) -> Call:
    return Call(chain.registry.functions.registerHeritageWorkBySig(params.to_abi(), steward, deadline, signature))


def register_restricted(chain: Chain, *, community: CommunityId, commitment: bytes, manifest: bytes = b"", labels: int = 0,
                        labels_version: int = 1, reserved_keys: Sequence[bytes] = ()) -> Call:
    """`reserved_keys`: keccak256 of binary CIDs (at most 8) that may never register publicly."""
    return Call(chain.registry.functions.registerRestrictedWork(community, commitment, manifest, labels, labels_version,
                                                                list(reserved_keys)))


def register_derivative(chain: Chain, params: DerivativeParams) -> Call:
    return Call(chain.registry.functions.registerDerivative(params.to_abi()))


def approve_derivative(chain: Chain, work: WorkId, community: CommunityId) -> Call:
    return Call(chain.registry.functions.approveDerivative(work, community))


def approve_derivative_by_sig(chain: Chain, work: WorkId, community: CommunityId, *, steward: str, deadline: int,
                              signature: bytes) -> Call:
    return Call(chain.registry.functions.approveDerivativeBySig(work, community, steward, deadline, signature))


def reject_derivative(chain: Chain, work: WorkId, community: CommunityId) -> Call:
    return Call(chain.registry.functions.rejectDerivative(work, community))


def reject_derivative_by_sig(chain: Chain, work: WorkId, community: CommunityId, *, steward: str, deadline: int,
                             signature: bytes) -> Call:
    return Call(chain.registry.functions.rejectDerivativeBySig(work, community, steward, deadline, signature))


def set_protocol(chain: Chain, work: WorkId, protocol: Protocol) -> Call:
    return Call(chain.registry.functions.setProtocol(work, protocol.to_abi()))


def set_protocol_by_sig(chain: Chain, work: WorkId, protocol: Protocol, *, steward: str, deadline: int,
                        signature: bytes) -> Call:
    return Call(chain.registry.functions.setProtocolBySig(work, protocol.to_abi(), steward, deadline, signature))


def set_split(chain: Chain, work: WorkId, split: Sequence[Recipient]) -> Call:
    return Call(chain.registry.functions.setSplit(work, [r.to_abi() for r in split]))


def set_split_by_sig(chain: Chain, work: WorkId, split: Sequence[Recipient], *, steward: str, deadline: int,
                     signature: bytes) -> Call:
    return Call(chain.registry.functions.setSplitBySig(work, [r.to_abi() for r in split], steward, deadline, signature))


def cancel_nonce(chain: Chain) -> Call:
    """Consume the sender's current registry signature nonce (a signature made with it is void)."""
    return Call(chain.registry.functions.cancelNonce())


# ---------------------------------------------------------------------- calls of the router
def pay(chain: Chain, work: WorkId, amount: Wei, *, usage_ref: bytes, usage_time: int) -> Call:
    """Pay `amount` wei to `work` (sent as the transaction's value)."""
    return Call(chain.router.functions.pay(work, usage_ref, usage_time), value=amount)


def pay_token(chain: Chain, work: WorkId, token: str, amount: int, *, usage_ref: bytes, usage_time: int) -> Call:
    return Call(chain.router.functions.payToken(work, Web3.to_checksum_address(token), amount, usage_ref, usage_time))


def withdraw(chain: Chain, token: str = ETH) -> Call:
    return Call(chain.router.functions.withdraw(Web3.to_checksum_address(token)))


def release_escrow(chain: Chain, work: WorkId, token: str = ETH) -> Call:
    """Credit `work`'s escrow of `token` after its claim closed (anyone may send it)."""
    return Call(chain.router.functions.releaseEscrow(work, Web3.to_checksum_address(token)))


def deploy_receiver(chain: Chain, work: WorkId) -> Call:
    """Create `work`'s ERC-2981 receiver (at `receiverOf(work)`, predicted before it exists)."""
    return Call(chain.router.functions.deployReceiver(work))


# ---------------------------------------------------------------------- fast calldata for batched raw sends
def heritage_batch_calldata(chain: Chain, batch: Sequence[HeritageParams]) -> bytes:
    """Calldata of `registerHeritageWorks(batch)` through eth-abi directly (chain.abi)."""
    return _encoder(chain.registry).calldata("registerHeritageWorks", [p.to_abi() for p in batch])


def derivative_calldata(chain: Chain, params: DerivativeParams) -> bytes:
    return _encoder(chain.registry).calldata("registerDerivative", params.to_abi())


def pay_batch_calldata(chain: Chain, works: Sequence[int], amounts: Sequence[int], usage_refs: Sequence[bytes],
                       usage_times: Sequence[int]) -> bytes:
    """Calldata of the router's `payBatch`; its value is the sum of `amounts`."""
    return _encoder(chain.router).calldata("payBatch", list(works), list(amounts), list(usage_refs), list(usage_times))


def balance_of_calldata(chain: Chain, account: str, token: str = ETH) -> bytes:
    """Calldata of the router's `balanceOf(token, account)`, for batched or historical `eth_call`s."""
    return _encoder(chain.router).calldata("balanceOf", token, account)


def approve_community_change(chain: Chain, community: CommunityId, *, stewards: Sequence[str], threshold: int,
                             treasury: str) -> Call:
    """One steward's approval of replacing the community's stewards, threshold and treasury (applied
    at the current threshold of identical approvals)."""
    return Call(chain.registry.functions.approveCommunityChange(community, list(stewards), threshold, treasury))


def community_change_subject(stewards: Sequence[str], threshold: int, treasury: str) -> bytes:
    """The subject the registry counts approvals of a community change under (`approvalsOf`)."""
    return bytes(keccak(abi_encode(["string", "address[]", "uint16", "address"],
                               ["COMMUNITY_CHANGE", [Web3.to_checksum_address(s) for s in stewards], threshold,
                                Web3.to_checksum_address(treasury)])))


def content_key(cid: bytes) -> bytes:
    """The registry's key of a binary CID (`workByContent`, reserved keys): keccak256 of its bytes."""
    return bytes(keccak(cid))
