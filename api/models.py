"""HTTP bodies. Amounts in wei are strings (JSON numbers lose precision past 2^53)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

Address = Field(pattern="^0x[0-9a-fA-F]{40}$", description="An Ethereum address, 0x and 40 hex digits.")
HexSig = Field(pattern="^0x[0-9a-fA-F]{130}$", description="A 65-byte secp256k1 signature (r ‖ s ‖ v) in hex.")


class Health(BaseModel):
    status: str
    chain_id: int = Field(description="EIP-155 chain id of the node.")
    block: int = Field(description="The node's head block.")
    index_block: int = Field(description="Last block the event index holds; reads are as of this block.")
    registry: str
    router: str
    relayer: str = Field(description="The account that submits signed actions and pays their gas.")
    demo: bool = Field(description="True when POST /demo/sign signs with the development accounts.")


class Community(BaseModel):
    community_id: int
    name: str
    stewards: list[str] = Field(description="Addresses that act for the community.")
    threshold: int = Field(description="Approvals needed (k of n stewards).")
    treasury: str = Field(description="Where the community's royalties are credited.")
    epoch: int = Field(description="How many times the stewards have been changed.")
    works: int = Field(description="Heritage works the community registered.")


class Page(BaseModel):
    total: int = Field(description="Items matching the filters, before paging.")
    offset: int
    limit: int
    index_block: int


class CommunityPage(Page):
    items: list[Community]


class Work(BaseModel):
    work_id: int
    kind: Literal["heritage", "restricted", "derivative"]
    registrant: str
    block: int = Field(description="Block of the registration.")
    timestamp: int = Field(description="Unix seconds of that block.")
    community_id: int | None = Field(description="The stewarding community (heritage works).")
    content_cid: str | None = Field(description="CIDv1 of the content; none for restricted works.")
    manifest_cid: str | None
    parents: list[int] = Field(description="Direct parents (derivatives).")
    parent_ppms: list[int] = Field(description="Share routed to each parent, parts per million.")
    roots: list[int] = Field(description="The heritage works the lineage resolves to.")
    status: Literal["pending", "active", "restricted", "rejected", "none"]
    commercial: bool
    model_cid: str | None = Field(description="CID of the model that made it, when machine-made.")
    disputed: bool = Field(description="Its own share is escrowed by an open claim.")
    claim: int | None = Field(default=None, description="That claim's id (GET /claims/{id}).")
    payments: int
    paid_wei: int


class WorkPage(Page):
    items: list[Work]


class WorkDetail(Work):
    ancestors: list[int] = Field(description="Every work upstream, nearest first.")
    communities: list[int] = Field(description="Communities whose heritage the work descends from.")
    manifest: dict[str, Any] | None = Field(description="The stored manifest, or null when it cannot be read.")


class LineageNode(BaseModel):
    work_id: int
    kind: str
    status: str
    community_id: int | None
    content_cid: str | None
    disputed: bool
    model_made: bool


class LineageEdge(BaseModel):
    child: int
    parent: int
    ppm: int = Field(description="Share of each payment to `child` routed to `parent`.")


class Lineage(BaseModel):
    work_id: int
    nodes: list[LineageNode]
    edges: list[LineageEdge]


class ProtocolOut(BaseModel):
    """A heritage work's cultural protocol, as the registry holds it (derivatives answer their roots')."""

    work_id: int
    derivatives_allowed: bool
    consent_required: bool
    commercial_allowed: bool
    ml_allowed: bool = Field(description="Machine-learning use (training or conditioning) allowed.")
    attribution_required: bool
    restricted: bool = Field(description="Secret/sacred: only a salted commitment is public; no derivatives.")
    floor_ppm: int = Field(description="Share every derivative must route upstream, parts per million.")
    labels: int = Field(description="Local Contexts label bitmap (contracts/README.md).")
    labels_version: int


class SplitOut(BaseModel):
    work_id: int
    recipients: list[dict[str, Any]] = Field(description="[{account, ppm}], shares summing to 1,000,000.")


class Payment(BaseModel):
    work_id: int
    block: int
    timestamp: int
    payer: str
    token: str
    amount: str = Field(description="Wei or token units, as a decimal string.")
    usage_ref: str
    usage_time: int = Field(description="When the paid-for usage happened, unix seconds.")
    tx: str


class Balance(BaseModel):
    account: str
    token: str
    amount: str = Field(description="Withdrawable, wei or token units, as a decimal string.")


class Metrics(BaseModel):
    index_block: int
    communities: int
    works: int
    by_kind: dict[str, int]
    by_status: dict[str, int]
    payments: int
    paid_wei: str
    paid_wei_by_community: dict[str, str] = Field(
        description="ETH paid to works of, or descending from, each community (gross, before routing).")
    credited_wei_by_community: dict[str, str] = Field(
        default_factory=dict,
        description="Net: what the router credited each community's treasury after routing (withdrawable now plus "
                    "withdrawn), every kind of income included.")
    jobs: dict[str, int]


class Stored(BaseModel):
    cid: str = Field(description="CIDv1, identical to `ipfs add --cid-version=1`.")
    size: int
    media_type: str


class ProtocolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    derivatives_allowed: bool = True
    consent_required: bool = False
    commercial_allowed: bool = True
    ml_allowed: bool = True
    attribution_required: bool = True
    floor_ppm: int = Field(default=100_000, ge=0, le=1_000_000, description="Share every derivative must route upstream.")
    labels: int = Field(default=0, ge=0, lt=2**64, description="Local Contexts label bitmap (contracts/README.md).")
    labels_version: int = Field(default=1, ge=0, lt=2**16)
    season: int = Field(default=0, ge=0, lt=2**32, description="startMonth<<24|startDay<<16|endMonth<<8|endDay (UTC) "
                        "in which derivatives may register; 0 all year (chain.types.season_window).")


class RecipientIn(BaseModel):
    account: str = Address
    ppm: int = Field(gt=0, le=1_000_000)


class HeritageDraftIn(BaseModel):
    """A heritage work to register: the content must be uploaded (POST /content) first."""

    model_config = ConfigDict(extra="forbid")
    community_id: int = Field(ge=1, le=2**256 - 1)
    steward: str = Address
    content_cid: str
    title: str = Field(min_length=1, max_length=300)
    tradition: str | None = None
    region: str | None = None
    language: str | None = None
    instruments: list[str] = []
    performers: list[str] = []
    restrictions: str | None = Field(default=None, description="Conditions of use, in the community's words.")
    media_type: str | None = Field(default=None, max_length=100, description="The content's media type, as uploaded "
                                   "(POST /content answers it); GET /content serves the content with it.")
    protocol: ProtocolIn = ProtocolIn()
    split: list[RecipientIn] = Field(default=[], description="Default: everything to the community's treasury.")


class SignedAction(BaseModel):
    """A steward's EIP-712 signature over a draft's typed data, to relay."""

    model_config = ConfigDict(extra="forbid")
    typed_data: dict[str, Any] = Field(description="The document the draft returned, as signed.")
    signer: str = Address
    signature: str = HexSig


class Draft(BaseModel):
    action: str
    typed_data: dict[str, Any] = Field(description="EIP-712 document for eth_signTypedData_v4.")
    digest: str = Field(description="keccak256 digest the wallet signs (for checking).")
    expires: int = Field(description="The signature's deadline, unix seconds.")


class ApproveDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    community_id: int = Field(ge=1, le=2**256 - 1)
    steward: str = Address


class WithdrawClaimDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steward: str = Address


class ClaimDraftIn(BaseModel):
    """A claim on a work, raised by a steward of the claimant community with the bond."""

    model_config = ConfigDict(extra="forbid")
    work_id: int = Field(ge=1)
    community_id: int = Field(ge=1)
    claimant: str = Address
    heritage_work_id: int = Field(default=0, ge=0, description="Omission claim: the community's heritage work left out.")
    claimed_ppm: int = Field(default=0, ge=0, le=1_000_000, description="Omission or contested heritage: the share claimed.")
    evidence_cid: str | None = Field(default=None, description="CID of the evidence (POST /content first).")


class VoteDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member: str = Address
    uphold: bool


class ClaimOut(BaseModel):
    dispute_id: int
    work_id: int
    community_id: int
    kind: str
    status: str
    heritage_work_id: int | None
    claimed_ppm: int
    claimant: str
    owner: str
    deadline: int
    bond_wei: int
    arbitrator_case: int


class Relayed(BaseModel):
    tx: str
    block: int
    gas_used: int
    work_id: int | None = None
    status: str | None = None
    signed_by_server: bool = Field(default=False, description="True when the demo mode signed for the caller.")


class RawTransactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    raw: str = Field(pattern="^0x[0-9a-fA-F]+$", description="A signed transaction (EIP-1559 or legacy) in hex.")


class DemoSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: int = Field(ge=0, le=9, description="Development account index (anvil's default mnemonic).")
    typed_data: dict[str, Any] | None = None
    transaction: dict[str, Any] | None = Field(default=None, description="Fields of a transaction to fill and sign.")


class DemoSigned(BaseModel):
    address: str
    signature: str | None = None
    raw: str | None = None
    warning: str


class JobOut(BaseModel):
    job_id: str
    kind: str
    params: dict[str, Any]
    status: Literal["queued", "running", "done", "failed", "interrupted"]
    stage: str
    done: int
    total: int
    created: float
    started: float | None
    finished: float | None
    result: dict[str, Any] | None
    error: str | None

    @computed_field(description="Share of the job done, 0..1 (the stage says what it is doing).")  # type: ignore[prop-decorator]
    @property
    def progress(self) -> float:
        if self.status == "done":
            return 1.0
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0
