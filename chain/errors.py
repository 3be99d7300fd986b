"""Contract custom errors decoded into named Python errors with advice.

web3.py hands back only the raw revert data; this maps its selector to the error's name and
arguments from the ABI, and adds what to do.
"""

from __future__ import annotations

from typing import Any

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from chain.abi import abi_type, signature
from core.errors import ChainError

ADVICE = {
    "RegistryContentAlreadyRegistered": "this content is registered already; look it up instead of registering it again",
    "RegistryNotSteward": "sign with an address that is a steward of that community",
    "RegistryUnknownWork": "check the work id (`heritage audit --all` lists the catalogue)",
    "RegistryUnknownCommunity": "check the community id, or register the community first",
    "RegistryAncestorRestricted": "restricted (secret/sacred) works cannot have derivatives",
    "RegistryDerivativesNotAllowed": "the community's protocol does not allow derivatives of this work",
    "RegistryMachineLearningNotAllowed": "the community's protocol does not allow machine-learning use of this work",
    "RegistryCommercialUseNotAllowed": "register the derivative as non-commercial or ask the community",
    "RegistryFloorNotMet": "route at least the community floor share upstream to the parents",
    "RouterWorkNotPayable": "the work is pending consent, rejected or restricted, and cannot be paid",
    "RouterEscrowUnreleased": "escrow of the last dispute is still held: call releaseEscrow(work, token) for each token first",
    "RouterNothingToRelease": "nothing of this token is escrowed for the work outside an open dispute",
    "RouterNothingToWithdraw": "there is no balance to withdraw for this account and token",
    "RouterInvalidSplit": "split shares must be non-zero, at most 32 recipients, summing to 1,000,000 ppm",
}


class ContractRevert(ChainError):
    """A contract call reverted with a named custom error."""

    def __init__(self, name: str, args: dict[str, Any]) -> None:
        self.name = name
        self.args_by_name = args
        shown = ", ".join(f"{k}={('0x' + v.hex()) if isinstance(v, bytes) else repr(v)}" for k, v in args.items())
        advice = ADVICE.get(name, "see contracts/README.md for this error")
        if name == "RouterWorkNotPayable" and args.get("status") == 0:
            advice = "no work has this id: check it (`heritage audit --all` lists the catalogue)"
        super().__init__(f"{name}({shown}): {advice}")


class ErrorDecoder:
    def __init__(self, *abis: list[dict[str, Any]]) -> None:
        self._errors: dict[bytes, dict[str, Any]] = {}
        for abi in abis:
            for item in abi:
                if item.get("type") == "error":
                    self._errors[keccak(text=signature(item))[:4]] = item

    def from_exception(self, err: BaseException) -> ContractRevert | None:
        """The named contract error in a web3 exception's revert data, if it carries one."""
        data = getattr(err, "data", None)
        if not isinstance(data, (str, bytes)) or not data:
            return None
        try:
            return self.decode(data)
        except ValueError:  # a message where revert data was expected
            return None

    def decode(self, data: str | bytes) -> ContractRevert | None:
        raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
        item = self._errors.get(raw[:4])
        if item is None:
            return None
        types = [abi_type(a) for a in item["inputs"]]
        values = decode(types, raw[4:]) if types else ()
        return ContractRevert(item["name"], {a["name"]: v for a, v in zip(item["inputs"], values, strict=False)})
