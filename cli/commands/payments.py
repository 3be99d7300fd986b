"""`heritage pay` and `heritage withdraw`: royalties in, balances out."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import typer

from chain import gateway as gw
from cli.common import DataOpt, FromOpt, JsonOpt, connected, emit, errors, sender_address
from core.types import ETH, Wei, WorkId


def pay(work: int, amount: int = typer.Argument(..., help="Amount in wei (or token units)."),
        token: str = typer.Option("", help="ERC-20 token address; ETH when omitted."),
        usage: str = typer.Option("", help="Off-chain usage reference (hashed)."),
        sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Pay a work; credits flow up its lineage to the heritage communities."""
    with connected(data_dir) as c, errors():
        ref = hashlib.sha256((usage or f"cli-{time.time_ns()}").encode()).digest()
        now = int(time.time())
        me = sender_address(c, sender)
        if token:
            gw.pay_token(c, WorkId(work), token, amount, usage_ref=ref, usage_time=now, sender=me)
        else:
            gw.pay(c, WorkId(work), Wei(amount), usage_ref=ref, usage_time=now, sender=me)
        emit(as_json, {"work": work, "amount": amount}, f"paid {amount} to work {work}")


def withdraw(token: str = typer.Option("", help="ERC-20 token address; ETH when omitted."),
             sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Withdraw the sender's whole balance."""
    with connected(data_dir) as c, errors():
        me = sender_address(c, sender)
        t = c.w3.to_checksum_address(token) if token else ETH
        amount = gw.balance_of(c, me, t)
        gw.withdraw(c, t, sender=me)
        emit(as_json, {"account": me, "amount": amount}, f"withdrew {amount} to {me}")
