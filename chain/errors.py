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
    "RegistryFloorNotMet": "every heritage root must receive at least its floor through every generation: raise the "
                           "parents' shares (a decoy parent does not dilute a root's floor)",
    "RegistryCommitmentMissing": "commit to the registration first (commitRegistration, as chain.gateway does) and "
                                 "register in a later block with the same salt",
    "RegistryCommitmentTooNew": "the commitment is in this block: send the registration in a later block",
    "RegistryCommitmentExpired": "the commitment is over a day old: commit again with a new salt",
    "RegistryCommitmentExists": "this commitment is live already: register with it, or use another salt",
    "RegistryContentClaimed": "another community's registration of this content awaits its stewards' approvals",
    "RegistryAlreadyApproved": "this steward approved this change already: another steward must approve it",
    "RegistryNotSplitAuthority": "a heritage work's split is changed by its stewards (k-of-n), a derivative's by its owner",
    "RegistryRestrictedMismatch": "the restricted flag cannot change, and restricted works register with "
                                  "registerRestrictedWork",
    "RegistryOutOfSeason": "the protocol allows derivatives only in its season: register within the window",
    "RegistryInvalidSeason": "a season packs startMonth<<24|startDay<<16|endMonth<<8|endDay with valid dates (0: all year)",
    "RegistryLabelNeedsRestricted": "the TK Secret/Sacred label needs a restricted protocol",
    "RegistryLabelForbidsCommercial": "a Non-Commercial label needs commercialAllowed false",
    "RegistryLabelNeedsSeason": "the TK Seasonal label needs a season window",
    "RegistrySignatureExpired": "the signature's deadline has passed: sign again",
    "RegistryInvalidSignature": "the signature does not match the steward, nonce or message: draft and sign again",
    "DisputesInvalidSignature": "the WithdrawClaim signature is not the steward's for this dispute (or its nonce or "
                                "deadline is stale): draft it for this dispute and sign again",
    "DisputesWrongBond": "send exactly the claim bond (CLAIM_BOND + the arbitrator's cost) with raiseClaim",
    "DisputesNotSteward": "only a steward of the claimant community may do this",
    "DisputesNotInLineage": "a lineage claim needs the work to descend from the community's heritage: claim an omission",
    "DisputesInvalidClaim": "lineage claims name no heritage work and no share; omissions name the community's "
                            "heritage work and a share; contested heritage claims name a share",
    "DisputesNotOpen": "the claim is closed already",
    "DisputesUnknownDispute": "check the dispute id (`heritage dispute list`)",
    "DisputesPeriodNotOver": "the committee still has time to rule: expire the claim after its deadline",
    "DisputesPeriodOver": "the dispute period is over: expire the claim instead",
    "DisputesNoBond": "this account has no bond to withdraw",
    "DisputesAlreadyApproved": "this steward approved the withdrawal already",
    "ArbitratorNotMember": "only a member of the dispute committee may vote (HERITAGE_ARBITRATORS)",
    "ArbitratorMemberIsParty": "a committee member who is a party (a steward of the claimant community, the work's "
                               "owner or registrant) may not vote on it",
    "ArbitratorAlreadyVoted": "this member voted on this case already",
    "ArbitratorAlreadyRuled": "the committee has ruled on this case already",
    "RouterSplitOverCap": "the split has more recipients than this work's route credits allow",
    "RouterNotHeld": "the work has no open claim escrowing its share",
    "RouterWorkNotPayable": "the work is pending consent, rejected or restricted, and cannot be paid",
    "RouterEscrowUnreleased": "escrow of the last claim is still held: release it for each token first "
                              "(`heritage dispute release`)",
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
        if isinstance(data, dict):  # Hardhat's node: the JSON-RPC error object, revert data under "data"
            data = data.get("data")
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
