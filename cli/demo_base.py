"""The demo's shared pieces (cli/demo.py): the communities it registers, and the helpers that
pay, show refusals with the contracts' named errors, and run the claims (HeritageDisputes and
the dispute committee)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from rich.console import Console

from chain import calls, disputes
from chain import gateway as gw
from chain.client import Chain
from chain.errors import ContractRevert
from chain.sender import dev_account
from chain.signatures import disputes_domain, sign, typed_data
from chain.types import DerivativeParams, Protocol
from core.blockstore import open_store
from core.cid import from_text
from core.config import Settings
from core.manifest import Manifest, to_bytes
from core.types import ETH, CommunityId, Ppm, Wei, WorkId


@dataclass(frozen=True)
class CommunitySpec:
    name: str
    stewards: tuple[int, ...]  # indices into the node's dev accounts
    threshold: int
    treasury: int


COMMUNITIES = (
    CommunitySpec("Shaanxi folk singers (Han, Xiaodiao and Shange)", (1, 2, 3), 2, 6),
    CommunitySpec("Hubei folk singers (Han)", (4,), 1, 7),
    CommunitySpec("Irish traditional musicians", (5,), 1, 8),
)
CREATOR, PAYER = 9, 0


def protocol(*, consent: bool = False, ml: bool = True, floor: int = 100_000, labels: int = 0,
             commercial: bool = True) -> Protocol:
    return Protocol(consent_required=consent, ml_allowed=ml, floor_ppm=Ppm(floor), labels=labels,
                    commercial_allowed=commercial)


class DemoBase:
    def __init__(self, settings: Settings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self.store = open_store(settings)
        self.chain: Chain | None = None
        self.paid_total = 0
        self.generated = ""

    # ------------------------------------------------------------------ helpers
    @property
    def c(self) -> Chain:
        assert self.chain is not None
        return self.chain

    def acct(self, i: int) -> str:
        return str(self.c.w3.eth.accounts[i])

    def store_manifest(self, manifest: Manifest) -> bytes:
        return from_text(self.store.put_bytes(to_bytes(manifest)))

    def pay(self, work: WorkId, wei: int, ref: str) -> None:
        usage = hashlib.sha256(ref.encode()).digest()
        now = int(self.c.w3.eth.get_block("latest")["timestamp"])
        gw.pay(self.c, work, Wei(wei), usage_ref=usage, usage_time=now, sender=self.acct(PAYER))
        self.paid_total += wei

    def refused(self, label: str, call: calls.Call, sender: str) -> tuple[str, str]:
        try:
            calls.send(self.c, call, sender)
        except ContractRevert as err:
            return label, str(err)
        return label, "NOT REFUSED (unexpected)"

    def refused_derivative(self, label: str, params: DerivativeParams) -> tuple[str, str]:
        """Committed first, so the refusal is the protocol's, not a missing commitment."""
        gw.commit_registration(self.c, self.acct(CREATOR), params.content, params.salt, sender=self.acct(CREATOR))
        return self.refused(label, calls.register_derivative(self.c, params), self.acct(CREATOR))

    def lone_loosening(self, work: WorkId) -> str:
        """One steward of the 2-of-3 community loosens a protocol (commercial use allowed): recorded, not applied."""
        loose = replace(gw.protocol_of(self.c, work), commercial_allowed=True)
        try:
            applied = gw.set_protocol(self.c, work, loose, sender=self.acct(COMMUNITIES[0].stewards[0]))
        except ContractRevert as err:  # a rerun: this steward's approval is recorded already
            if err.name != "RegistryAlreadyApproved":
                raise
            applied = False
        return "applied (unexpected)" if applied else "recorded as 1 of 2 approvals, not applied"

    def claims(self, remix: WorkId, arrangement: WorkId, community: CommunityId) -> tuple[int, tuple[str, str]]:
        """Two claims of the Shaanxi community: one on the remix, dismissed by the committee (its escrow
        goes to the remix's split, the bond to its owner); one on the arrangement, withdrawn by two of
        its stewards, the first on a WithdrawClaim signature. That signature presented for the other
        claim is refused. Returns the escrow released and the refusal."""
        stewards = [self.acct(i) for i in COMMUNITIES[0].stewards]
        on_remix = disputes.raise_claim(self.c, remix, community, evidence=self.store_manifest_bytes(b"evidence"),
                                        sender=stewards[0])
        self.pay(remix, 5 * 10**16, f"stream-during-claim-{on_remix}")
        on_arrangement = disputes.raise_claim(self.c, arrangement, community, sender=stewards[1])
        deadline = int(self.c.w3.eth.get_block("latest")["timestamp"]) + 3600
        d = disputes.dispute(self.c, on_arrangement)
        message = {"disputeId": on_arrangement, "workId": d.work, "communityId": d.community,
                   "nonce": disputes.nonce_of(self.c, stewards[0]), "deadline": deadline}
        doc = typed_data(disputes_domain(self.c.deployment.chain_id, self.c.deployment.disputes), "WithdrawClaim", message)
        signature = sign(doc, dev_account(COMMUNITIES[0].stewards[0]).key)
        stale = self.refused(f"a WithdrawClaim signed for claim {on_arrangement} presented for claim {on_remix}",
                             disputes.approve_withdrawal_by_sig_call(self.c, on_remix, steward=stewards[0], deadline=deadline,
                                                                     signature=signature), self.acct(PAYER))
        disputes.approve_withdrawal_by_sig(self.c, on_arrangement, steward=stewards[0], deadline=deadline,
                                           signature=signature, sender=self.acct(PAYER))
        disputes.approve_withdrawal(self.c, on_arrangement, sender=stewards[1])
        escrowed = gw.escrow_of(self.c, remix, ETH)
        case = disputes.dispute(self.c, on_remix).arbitrator_id
        for member in disputes.members(self.c):
            if disputes.vote(self.c, case, disputes.DISMISSED, sender=member):
                break
        for work in (remix, arrangement):
            if gw.escrow_of(self.c, work, ETH):
                disputes.release_escrow(self.c, work, ETH, sender=self.acct(PAYER))
        if disputes.bond_of(self.c, self.acct(CREATOR)):
            disputes.withdraw_bond(self.c, sender=self.acct(CREATOR))
        return escrowed, stale

    def store_manifest_bytes(self, data: bytes) -> bytes:
        return from_text(self.store.put_bytes(data))

