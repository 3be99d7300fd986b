"""ERC-20 tokens a payer pays works in (RoyaltyRouter.payToken): what a token is called, what an
account holds and has allowed the router, the approval the router needs before a payment, and
whether a transaction was that approval. Any ERC-20 works; the router credits what it received.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from web3 import Web3

from chain.calls import Call
from chain.client import Chain
from core.errors import InputError

ERC20_ABI: list[dict[str, Any]] = [
    {"type": "function", "name": "approve", "stateMutability": "nonpayable",
     "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
     "outputs": [{"name": "", "type": "bool"}]},
    {"type": "function", "name": "allowance", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "balanceOf", "stateMutability": "view", "inputs": [{"name": "account", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "symbol", "stateMutability": "view", "inputs": [], "outputs": [{"name": "", "type": "string"}]},
    {"type": "function", "name": "decimals", "stateMutability": "view", "inputs": [], "outputs": [{"name": "", "type": "uint8"}]},
]
APPROVE_SELECTOR = bytes.fromhex("095ea7b3")  # approve(address,uint256)


class NotAToken(InputError):
    """The address holds no ERC-20 contract on this chain."""


@dataclass(frozen=True)
class TokenHolding:
    """A token, and what `account` holds of it and has allowed the router to take."""

    address: str
    symbol: str
    decimals: int
    balance: int
    allowance: int


def _token(chain: Chain, address: str) -> Any:
    return chain.w3.eth.contract(address=Web3.to_checksum_address(address), abi=ERC20_ABI)


def holding(chain: Chain, address: str, account: str) -> TokenHolding:
    """`account`'s balance of the ERC-20 at `address` and its allowance to the router."""
    token = _token(chain, address)
    if not chain.w3.eth.get_code(token.address):
        raise NotAToken(f"{address} holds no contract on this chain: give the address of an ERC-20 token")
    try:
        fns = token.functions
        owner = Web3.to_checksum_address(account)
        return TokenHolding(address=str(token.address), symbol=str(fns.symbol().call()), decimals=int(fns.decimals().call()),
                            balance=int(fns.balanceOf(owner).call()),
                            allowance=int(fns.allowance(owner, chain.router.address).call()))
    except Exception as err:  # web3 raises several types for a contract without these functions
        raise NotAToken(f"{address} does not answer as an ERC-20 token (symbol, decimals, balanceOf, allowance)") from err


def approve_router(chain: Chain, address: str, amount: int) -> Call:
    """The token's `approve(router, amount)`: what a payer signs before `payToken`."""
    return Call(_token(chain, address).functions.approve(chain.router.address, amount))


def router_approval(chain: Chain, to: str, data: bytes) -> int | None:
    """The amount a transaction to `to` with calldata `data` allows the router to take: None
    unless it is an ERC-20 `approve` whose spender is the router."""
    if bytes(data[:4]) != APPROVE_SELECTOR or not chain.w3.eth.get_code(Web3.to_checksum_address(to)):
        return None
    try:
        spender, amount = decode(["address", "uint256"], bytes(data[4:]))
    except Exception:  # eth_abi raises several types for short or malformed calldata
        return None
    return int(amount) if Web3.to_checksum_address(spender) == Web3.to_checksum_address(chain.router.address) else None
