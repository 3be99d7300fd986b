"""The service's one way to a transaction: dry runs, unsigned transactions for a wallet, and
relays (a user's signed bytes, or a call the service sends from its relayer account).

Route files build a `chain.calls.Call` (or take the user's signed bytes) and hand it here; they
never build, decode, dry-run or relay a transaction themselves (tests/python/test_architecture.py
checks it). The fees of an unsigned transaction follow chain/sender.py's one rule (`fee_cap`:
2 × base fee + tip) through `chain.calls.unsigned_transaction`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3
from web3.types import Wei

from api.models import Relayed
from api.problems import Problem, refusal
from api.state import ApiState
from chain import calls

RELAYABLE = {
    "registry": ("registerCommunity", "approveCommunityChange", "commitRegistration", "registerDerivative",
                 "registerRestrictedWork", "setProtocol", "setSplit", "approveDerivative", "rejectDerivative", "cancelNonce"),
    "router": ("pay", "payToken", "withdraw", "withdrawTo", "releaseEscrow", "deployReceiver"),
    "disputes": ("raiseClaim", "expire", "approveWithdrawal", "withdrawBond", "cancelNonce"),
    "arbitrator": ("vote",),
}
"""Functions a user's own signed transaction may call through `POST /transactions`."""


# ---------------------------------------------------------------------- drafts
def dry_run(state: ApiState, call: calls.Call, sender: str) -> calls.Call:
    """`call` when it would succeed from `sender`; its named contract error otherwise."""
    try:
        calls.dry_run(state.chain, call, sender)
    except Exception as err:  # web3 raises a custom-error or logic-error type
        raise refusal(state.chain.decoder, err, f"{call.name} from {sender}") from err
    return call


def unsigned(state: ApiState, call: calls.Call, sender: str) -> dict[str, Any]:
    """The EIP-1559 fields of `call` from `sender`, for the sender's wallet to sign."""
    return calls.unsigned_transaction(state.chain, call, sender)


def wallet_transaction(state: ApiState, call: calls.Call, sender: str) -> dict[str, Any]:
    """`call` dry-run from `sender`, then as an unsigned transaction for its wallet."""
    return unsigned(state, dry_run(state, call, sender), sender)


# ---------------------------------------------------------------------- signed bytes
@dataclass(frozen=True)
class SignedTx:
    """What a user's signed transaction does, read from its bytes."""

    raw: bytes
    sender: str
    to: str
    data: HexBytes
    value: int
    chain_id: int | None
    typed: bool
    """An EIP-2718 typed transaction (EIP-1559's type 2, …), not a legacy one."""


def decode_signed(raw: bytes, *, typed_only: bool = False) -> SignedTx:
    """The sender, target, calldata, value and chain id of signed bytes; 400 for bytes that are
    not a signed transaction (with `typed_only`: not a typed one)."""
    try:
        sender = Web3.to_checksum_address(Account.recover_transaction(raw))
        typed = raw[0] < 0x7F
        if typed_only and not typed:
            raise ValueError("a legacy transaction")
        fields = _typed_fields(raw) if typed else _legacy_fields(raw)
    except Exception as err:  # eth_account and rlp raise several types for undecodable bytes
        kind = "EIP-1559 transaction" if typed_only else "transaction"
        raise Problem(400, "transaction-malformed", f"not a signed {kind} ({type(err).__name__}: {err}); sign the draft "
                      "unchanged") from err
    return SignedTx(raw=raw, sender=sender, typed=typed, **fields)


def _typed_fields(raw: bytes) -> dict[str, Any]:
    d = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
    chain_id = d.get("chainId")
    return {"to": Web3.to_checksum_address(d["to"]), "data": HexBytes(d["data"]), "value": int(d["value"]),
            "chain_id": None if chain_id is None else int(chain_id)}


def _legacy_fields(raw: bytes) -> dict[str, Any]:
    import rlp  # type: ignore[import-untyped]

    _, _, _, to, value, data, v, *_ = rlp.decode(raw)
    v_int = int.from_bytes(v, "big")
    return {"to": Web3.to_checksum_address(to), "data": HexBytes(data), "value": int.from_bytes(value, "big"),
            "chain_id": (v_int - 35) // 2 if v_int >= 35 else None}


def check_chain(state: ApiState, tx: SignedTx) -> None:
    """400 unless `tx` is bound to this chain (EIP-155): bytes without a chain id replay anywhere."""
    if tx.chain_id is None:
        raise Problem(400, "legacy-transaction", "a transaction without a chain id (pre-EIP-155) could be replayed on any "
                      "chain: sign an EIP-1559 transaction (the drafts' type 2) for chain " + str(state.domain.chain_id))
    if tx.chain_id != state.domain.chain_id:
        raise Problem(400, "wrong-chain", f"signed for chain {tx.chain_id}, this is chain {state.domain.chain_id}")


def target(state: ApiState, tx: SignedTx) -> str:
    """The platform function `tx` calls (`contract.function`); 403 for anything not `RELAYABLE`."""
    name = calls.contract_at(state.chain, tx.to)
    if name is None:
        raise Problem(403, "not-relayable", f"the transaction goes to {tx.to}, not to this platform's registry, router, "
                      "disputes contract or arbitrator")
    try:
        fn_name = calls.function_called(state.chain, name, tx.data)
    except ValueError as err:
        raise Problem(400, "not-relayable", f"calldata does not match a function of the {name}") from err
    if fn_name not in RELAYABLE[name]:
        raise Problem(403, "not-relayable", f"{name}.{fn_name} is not relayed here; relayable: "
                      f"{', '.join(f'{n}.{f}' for n, fs in RELAYABLE.items() for f in fs)}")
    return f"{name}.{fn_name}"


def dry_run_signed(state: ApiState, tx: SignedTx, what: str) -> None:
    """`eth_call` of `tx` as its sender would send it; the named refusal when it would revert."""
    try:
        state.chain.w3.eth.call({"from": tx.sender, "to": tx.to, "data": tx.data, "value": Wei(tx.value)}, "pending")
    except Exception as err:  # web3 raises several types for a revert
        raise refusal(state.chain.decoder, err, what) from err


def send_signed(state: ApiState, tx: SignedTx, what: str) -> Mapping[str, Any]:
    """Relay `tx` (journalled first; the node's refusals are named: chain/journal.py) and wait for
    its receipt; 409 when it failed on chain. The caller holds `state.write_lock`."""
    receipt: Mapping[str, Any] = state.chain.relay(tx.raw)
    if receipt["status"] != 1:
        raise Problem(409, "transaction-failed", f"{what} failed on chain in "
                      f"{HexBytes(receipt['transactionHash']).to_0x_hex()}; check the gas limit")
    return receipt


def relay_signed(state: ApiState, raw: bytes) -> Relayed:
    """A user's signed transaction to a `RELAYABLE` function, checked, dry-run and relayed; the
    work it registered, approved or resolved, with that work's status."""
    tx = decode_signed(raw)
    check_chain(state, tx)
    what = target(state, tx)
    dry_run_signed(state, tx, what)
    with state.write_lock:
        receipt = send_signed(state, tx, what)
    state.catalogue(fresh=True)
    work = calls.work_of_receipt(state.chain, receipt)
    status = None if work is None else state.catalogue().work(work).status
    return Relayed(tx=HexBytes(receipt["transactionHash"]).to_0x_hex(), block=int(receipt["blockNumber"]),
                   gas_used=int(receipt["gasUsed"]), work_id=work, status=status)


# ---------------------------------------------------------------------- the service's own sends
def send_call(state: ApiState, call: calls.Call) -> Relayed:
    """Send `call` from the relayer account (a steward's signed action, which the contract checks
    itself) and answer the work its events name. The caller holds `state.write_lock`."""
    sent = calls.send(state.chain, call, state.relayer)
    state.catalogue(fresh=True)
    return Relayed(tx=sent.tx, block=sent.block, gas_used=sent.gas_used, work_id=calls.work_of_events(sent.events))
