"""EIP-712 typed data of the steward actions the registry accepts on a signature.

The registry (contracts/StewardSignatures.sol) verifies these itself; the API builds the same
messages for a steward's wallet to sign, and checks a signature before it spends gas relaying
it: the signer, the deadline, the nonce (a used nonce is a replay) and the steward's role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

DOMAIN_NAME = "HeritageRegistry"
DOMAIN_VERSION = "1"

PROTOCOL = [
    {"name": "derivativesAllowed", "type": "bool"}, {"name": "consentRequired", "type": "bool"},
    {"name": "commercialAllowed", "type": "bool"}, {"name": "mlAllowed", "type": "bool"},
    {"name": "attributionRequired", "type": "bool"}, {"name": "restricted", "type": "bool"},
    {"name": "floorPpm", "type": "uint32"}, {"name": "labels", "type": "uint64"}, {"name": "labelsVersion", "type": "uint16"},
]
RECIPIENT = [{"name": "account", "type": "address"}, {"name": "ppm", "type": "uint32"}]
TYPES: dict[str, list[dict[str, str]]] = {
    "RegisterHeritageWork": [
        {"name": "communityId", "type": "uint256"}, {"name": "contentCid", "type": "bytes"},
        {"name": "manifestCid", "type": "bytes"}, {"name": "protocol", "type": "Protocol"},
        {"name": "split", "type": "Recipient[]"}, {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
    ],
    "ApproveDerivative": [
        {"name": "workId", "type": "uint256"}, {"name": "communityId", "type": "uint256"},
        {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
    ],
    "ResolveDispute": [
        {"name": "workId", "type": "uint256"}, {"name": "upheld", "type": "bool"},
        {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
    ],
}
PROTOCOL_FIELDS = tuple(f["name"] for f in PROTOCOL)


@dataclass(frozen=True)
class Domain:
    chain_id: int
    registry: str

    def to_json(self) -> dict[str, Any]:
        return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": self.chain_id, "verifyingContract": self.registry}


def typed_data(domain: Domain, action: str, message: dict[str, Any]) -> dict[str, Any]:
    """The full EIP-712 document (as `eth_signTypedData_v4` takes it) of one action."""
    if action not in TYPES:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(TYPES)}")
    types: dict[str, list[dict[str, str]]] = {
        "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                         {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
        action: TYPES[action],
    }
    if action == "RegisterHeritageWork":
        types["Protocol"] = PROTOCOL
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
