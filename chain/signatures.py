"""EIP-712 typed data of the steward actions the registry (and, for `WithdrawClaim`, the disputes
contract in its own domain) accepts on a signature.

The registry (contracts/StewardSignatures.sol) and HeritageDisputes verify these themselves; the API builds the same
messages for a steward's wallet to sign, and checks a signature here before it spends gas relaying
it: `verify_signed` (the action, the domain, the signer, the work; no chain state) and
`check_current` (the deadline and the nonce: a used nonce is a replay). A failed check raises one
of the `SignatureError`s below, which api/problems.py maps to an HTTP status by type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from web3 import Web3

from chain.types import HeritageParams, Protocol, Recipient
from core.errors import InputError

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


# ---------------------------------------------------------------------- checking a signed action
class SignatureError(InputError):
    """A signed action the platform will not relay; the subclass says why."""


class WrongAction(SignatureError):
    """The document is another action than the one asked for."""


class WrongDomain(SignatureError):
    """The document was signed for another domain (chain, contract or name)."""


class WrongWork(SignatureError):
    """The document is about another work than the one named."""


class SignatureMalformed(SignatureError):
    """No signer can be recovered from the document and signature."""


class SignatureInvalid(SignatureError):
    """The signature is not the claimed signer's, or its nonce is ahead of the signer's."""


class SignatureExpired(SignatureError):
    """The deadline has passed."""


class SignatureReplayed(SignatureError):
    """The nonce has been used: the action was relayed before."""


@dataclass(frozen=True)
class Signed:
    """A signed action whose signer is proven: the message, the signer and the signature."""

    message: dict[str, Any]
    signer: str
    signature: bytes

    @property
    def deadline(self) -> int:
        return int(self.message["deadline"])

    @property
    def nonce(self) -> int:
        return int(self.message["nonce"])


def verify_signed(document: dict[str, Any], signature: bytes, *, action: str, domain: Domain, claimed: str,
                  work_id: int | None = None) -> Signed:
    """`document` signed by `claimed` as `action` in `domain` (and, with `work_id`, about that
    work): every check that needs no chain state. The document's shape and size are the caller's
    to check before this hashes it."""
    if document.get("primaryType") != action:
        raise WrongAction(f"the typed data is a {document.get('primaryType')!r}, this endpoint takes {action!r}")
    if document.get("domain") != domain.to_json():
        raise WrongDomain(f"signed for domain {document.get('domain')}, not this platform's {domain.to_json()}: "
                          "ask for a new draft")
    try:
        signer = recover(document, signature)
        message = document["message"]
        int(message["deadline"]), int(message["nonce"])
        about = None if work_id is None else int(message["workId"])
    except Exception as err:  # eth_account raises several types for a malformed document or signature
        raise SignatureMalformed(f"cannot recover a signer ({type(err).__name__}: {str(err)[:200]}); sign the draft's "
                                 "typed_data unchanged") from err
    claimed = Web3.to_checksum_address(claimed)
    if signer != claimed:
        raise SignatureInvalid(f"the signature is {signer}'s, not {claimed}'s, over this document: sign with the claimed "
                               "account, and do not edit the draft")
    if work_id is not None and about != work_id:
        raise WrongWork(f"the signature is for work {message['workId']}, not {work_id}")
    return Signed(message, signer, signature)


def check_current(signed: Signed, *, now: int, nonce: int) -> None:
    """The deadline has not passed at `now` (the contract's clock) and the message's nonce is the
    signer's next one, `nonce`. Call it under the lock that orders relays, so that the nonce
    cannot be used between this check and the relay."""
    if signed.deadline < now:
        raise SignatureExpired(f"the deadline {signed.deadline} has passed: ask for a new draft and sign it")
    if signed.nonce < nonce:
        raise SignatureReplayed(f"nonce {signed.nonce} of {signed.signer} is used already: this signature was relayed "
                                "before (nothing was done twice); ask for a new draft for a new action")
    if signed.nonce > nonce:
        raise SignatureInvalid(f"nonce {signed.nonce} is ahead of {signed.signer}'s {nonce}; ask for a new draft")
