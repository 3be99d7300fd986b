"""EIP-712 typed data of the steward actions the registry (and, for `WithdrawClaim`, the disputes
contract in its own domain) accepts on a signature.

The registry (contracts/StewardSignatures.sol) and HeritageDisputes verify these themselves; the API builds the same
messages for a steward's wallet to sign, and checks a signature before it spends gas relaying
it: the signer, the deadline, the nonce (a used nonce is a replay) and the steward's role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from chain.types import HeritageParams, Protocol, Recipient

DOMAIN_NAME = "HeritageRegistry"
DOMAIN_VERSION = "1"
DISPUTES_DOMAIN_NAME = "HeritageDisputes"
"""The domain of `WithdrawClaim` (verifying contract: HeritageDisputes); every other action's is the registry's."""

PROTOCOL = [{"name": name, "type": typ} for name, typ in Protocol.ABI]
RECIPIENT = [{"name": name, "type": typ} for name, typ in Recipient.ABI]
TYPES: dict[str, list[dict[str, str]]] = {
    "RegisterHeritageWork": [
        {"name": "communityId", "type": "uint256"}, {"name": "contentCid", "type": "bytes"},
        {"name": "manifestCid", "type": "bytes"}, {"name": "protocol", "type": "Protocol"},
        {"name": "split", "type": "Recipient[]"}, {"name": "salt", "type": "bytes32"}, {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "ApproveDerivative": [
        {"name": "workId", "type": "uint256"}, {"name": "communityId", "type": "uint256"},
        {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
    ],
    "RejectDerivative": [
        {"name": "workId", "type": "uint256"}, {"name": "communityId", "type": "uint256"},
        {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
    ],
    "SetProtocol": [
        {"name": "workId", "type": "uint256"}, {"name": "communityId", "type": "uint256"},
        {"name": "protocol", "type": "Protocol"}, {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
    ],
    "SetSplit": [
        {"name": "workId", "type": "uint256"}, {"name": "communityId", "type": "uint256"},
        {"name": "split", "type": "Recipient[]"}, {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
    ],
    "WithdrawClaim": [
        {"name": "disputeId", "type": "uint256"}, {"name": "workId", "type": "uint256"},
        {"name": "communityId", "type": "uint256"}, {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
    ],
}
PROTOCOL_FIELDS = tuple(f["name"] for f in PROTOCOL)


def heritage_message(params: HeritageParams) -> dict[str, Any]:
    """The `RegisterHeritageWork` message fields of `params` (nonce and deadline are added by the caller)."""
    return params.to_typed()


def heritage_params(message: dict[str, Any]) -> HeritageParams:
    """The registration a signed `RegisterHeritageWork` message describes."""
    return HeritageParams.from_typed(message)


@dataclass(frozen=True)
class Domain:
    chain_id: int
    registry: str
    """The verifying contract: the registry, or HeritageDisputes for `WithdrawClaim`."""
    name: str = DOMAIN_NAME

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": DOMAIN_VERSION, "chainId": self.chain_id, "verifyingContract": self.registry}


def disputes_domain(chain_id: int, disputes: str) -> Domain:
    """The EIP-712 domain of HeritageDisputes (`WithdrawClaim`)."""
    return Domain(chain_id, disputes, DISPUTES_DOMAIN_NAME)


def typed_data(domain: Domain, action: str, message: dict[str, Any]) -> dict[str, Any]:
    """The full EIP-712 document (as `eth_signTypedData_v4` takes it) of one action."""
    if action not in TYPES:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(TYPES)}")
    if (action == "WithdrawClaim") != (domain.name == DISPUTES_DOMAIN_NAME):
        raise ValueError(f"{action} is signed in the {DISPUTES_DOMAIN_NAME if action == 'WithdrawClaim' else DOMAIN_NAME} "
                         f"domain, not {domain.name}")
    types: dict[str, list[dict[str, str]]] = {
        "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                         {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
        action: TYPES[action],
    }
    if action in ("RegisterHeritageWork", "SetProtocol"):
        types["Protocol"] = PROTOCOL
    if action in ("RegisterHeritageWork", "SetSplit"):
        types["Recipient"] = RECIPIENT
    return {"types": types, "primaryType": action, "domain": domain.to_json(), "message": message}


def recover(document: dict[str, Any], signature: bytes) -> str:
    """The address that signed `document`; raises ValueError for a malformed signature."""
    return str(Account.recover_message(encode_typed_data(full_message=document), signature=signature))


def sign(document: dict[str, Any], private_key: bytes | str) -> bytes:
    """Sign `document` with a private key (tests and the API's demo mode only)."""
    return bytes(Account.sign_message(encode_typed_data(full_message=document), private_key).signature)


def digest(document: dict[str, Any]) -> bytes:
    """The 32-byte EIP-712 digest, as the contract's `…Digest` views compute it."""
    from eth_account.messages import _hash_eip191_message

    return bytes(_hash_eip191_message(encode_typed_data(full_message=document)))
