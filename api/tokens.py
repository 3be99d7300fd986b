"""Paying a work in an ERC-20 token from a user's wallet: the token's approval of the router (the
one transaction to a contract that is not the platform's that this service relays or follows),
checked to be exactly that, then `payToken` through the ordinary drafts (api/routes/transactions.py)."""

from __future__ import annotations

from hexbytes import HexBytes
from pydantic import BaseModel, ConfigDict, Field
from web3 import Web3

from api.models import Address
from api.problems import Problem
from api.relay import check_chain, decode_signed, dry_run_signed, send_signed
from api.state import ApiState
from chain import tokens
from chain.tokens import TokenHolding


class TokenOut(BaseModel):
    address: str
    symbol: str
    decimals: int
    account: str
    balance: str = Field(description="What the account holds of the token (its smallest unit).")
    allowance: str = Field(description="What the account has allowed the royalty router to take.")
    router: str


class ApprovalSentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    raw: str | None = Field(default=None, pattern="^0x[0-9a-fA-F]+$", description="The signed approve transaction.")
    tx: str | None = Field(default=None, pattern="^0x[0-9a-fA-F]{64}$", description="Or its hash, when the wallet sent it.")


class ApprovalDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: str = Address
    amount: int = Field(gt=0, lt=2**256, description="Units of the token the router may take (its smallest unit).")


class ApprovedOut(BaseModel):
    tx: str
    block: int
    gas_used: int
    allowance: str = Field(description="The router's allowance after it.")


def holding(state: ApiState, token: str, account: str) -> TokenHolding:
    if not (Web3.is_address(token) and Web3.is_address(account)):
        raise Problem(400, "invalid-address", f"{token!r} or {account!r} is not an Ethereum address (0x and 40 hex digits)")
    try:
        return tokens.holding(state.chain, token, account)
    except tokens.NotAToken as err:
        raise Problem(400, "not-a-token", str(err)) from err


def token_out(state: ApiState, token: str, account: str) -> TokenOut:
    h = holding(state, token, account)
    return TokenOut(address=h.address, symbol=h.symbol, decimals=h.decimals, account=Web3.to_checksum_address(account),
                    balance=str(h.balance), allowance=str(h.allowance), router=str(state.chain.router.address))


def _approved(state: ApiState, token: str, owner: str, receipt_tx: HexBytes, block: int, gas: int) -> ApprovedOut:
    return ApprovedOut(tx=receipt_tx.to_0x_hex(), block=block, gas_used=gas,
                       allowance=str(holding(state, token, owner).allowance))


def _require_router_approval(state: ApiState, token: str, to: str, data: bytes) -> None:
    if Web3.to_checksum_address(to) != Web3.to_checksum_address(token):
        raise Problem(403, "not-relayable", f"the transaction goes to {to}, not to the token {token}")
    if tokens.router_approval(state.chain, to, data) is None:
        raise Problem(403, "not-relayable", f"the transaction is not {token}'s approve(router, amount): only the royalty "
                      "router's approval is relayed here")


def approved(state: ApiState, token: str, body: ApprovalSentIn) -> ApprovedOut:
    """Relay a signed approval of the router (or wait for one the wallet sent itself), after
    checking that it is exactly that; the router's allowance after it."""
    holding(state, token, token)  # 400 unless an ERC-20 is there
    if body.raw is not None:
        tx = decode_signed(bytes(HexBytes(body.raw)))
        check_chain(state, tx)
        _require_router_approval(state, token, tx.to, bytes(tx.data))
        dry_run_signed(state, tx, f"{token}.approve")
        with state.write_lock:
            receipt = send_signed(state, tx, f"{token}.approve")
        owner = tx.sender
    elif body.tx is not None:
        w3 = state.chain.w3
        try:
            sent = w3.eth.get_transaction(HexBytes(body.tx))
        except Exception as err:  # web3 raises TransactionNotFound (and others for a bad hash)
            raise Problem(404, "unknown-transaction", f"the chain has no transaction {body.tx}") from err
        _require_router_approval(state, token, str(sent["to"]), bytes(sent["input"]))
        receipt = w3.eth.wait_for_transaction_receipt(HexBytes(body.tx), timeout=state.settings.tx_timeout_s)
        if receipt["status"] != 1:
            raise Problem(409, "transaction-failed", f"{body.tx} failed on chain; ask for a new draft")
        owner = str(sent["from"])
    else:
        raise Problem(400, "nothing-sent", "send the signed approval (raw) or the hash of the one your wallet sent (tx)")
    return _approved(state, token, owner, HexBytes(receipt["transactionHash"]), int(receipt["blockNumber"]),
                     int(receipt["gasUsed"]))
