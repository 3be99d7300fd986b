"""Frozen Python mirrors of the contracts' structs (contracts/libraries/HeritageTypes.sol,
HeritageRegistry.WorkView, RoyaltyRouter.nodeOf) and the one place that turns them into ABI
values and back.

A new field in a contract struct is a change to this file only: its dataclass gets the field,
its `ABI` table the Solidity name and type, and `to_abi`/`from_abi` follow the table, as does the
EIP-712 type of chain/signatures.py. Callers build these types and read them by name; nobody
writes a protocol as nine booleans or indexes a returned tuple.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from eth_utils.address import to_checksum_address

from core.cid import from_text, to_text
from core.types import PPM, Address, Cid, CommunityId, Ppm, WorkId, WorkKind, WorkStatus

EMPTY_HASH = b"\0" * 32
"""The parameters hash of a person-made derivative."""


def cid_bytes(cid: str | bytes) -> bytes:
    """A CID as the contracts store it (binary CIDv1); bytes pass through, b"" stays empty."""
    return cid if isinstance(cid, bytes) else from_text(cid)


def cid_text(raw: bytes) -> Cid | None:
    """The base32 text of a binary CID read from the chain; None for an empty one."""
    return to_text(bytes(raw)) if raw else None


def parameters_hash(parameters: Mapping[str, Any] | None, seed: int | None) -> bytes:
    """The 32-byte hash of a machine-made derivative's generation parameters and seed, as every
    registration path records it: SHA-256 of the canonical JSON `{"seed": seed, **parameters}`
    (keys sorted). `parameters` must be JSON values."""
    return hashlib.sha256(json.dumps({"seed": seed, **dict(parameters or {})}, sort_keys=True).encode()).digest()


@dataclass(frozen=True)
class Protocol:
    """A community's cultural protocol for one heritage work (struct `Protocol`)."""

    derivatives_allowed: bool = True
    consent_required: bool = False
    commercial_allowed: bool = True
    ml_allowed: bool = True
    attribution_required: bool = True
    restricted: bool = False
    floor_ppm: Ppm = Ppm(100_000)  # noqa: RUF009 (NewType: the value itself, immutable)
    """Share every derivative must route upstream to this work's community, through every generation."""
    labels: int = 0
    """Local Contexts label bitmap (contracts/README.md), read under `labels_version`."""
    labels_version: int = 1
    season: int = 0
    """When derivatives may be registered: `season_window(...)` (UTC, inclusive, may wrap the
    year end); 0 = all year."""

    ABI = (("derivativesAllowed", "bool"), ("consentRequired", "bool"), ("commercialAllowed", "bool"),
           ("mlAllowed", "bool"), ("attributionRequired", "bool"), ("restricted", "bool"), ("floorPpm", "uint32"),
           ("labels", "uint64"), ("labelsVersion", "uint16"), ("season", "uint32"))
    """(Solidity name, type) of each field, in the struct's order (the order of this dataclass)."""

    def to_abi(self) -> tuple[bool, bool, bool, bool, bool, bool, int, int, int, int]:
        return (self.derivatives_allowed, self.consent_required, self.commercial_allowed, self.ml_allowed,
                self.attribution_required, self.restricted, int(self.floor_ppm), int(self.labels), int(self.labels_version),
                int(self.season))

    @classmethod
    def from_abi(cls, raw: Sequence[Any]) -> Protocol:
        """From the struct's values in order; a value of the wrong type (a flag that is not a bool,
        a number that is not an int) raises ValueError rather than being coerced."""
        if len(raw) != len(cls.ABI):
            raise ValueError(f"a Protocol has {len(cls.ABI)} fields, not {len(raw)}")
        for (name, typ), value in zip(cls.ABI, raw, strict=True):
            if (typ == "bool") != isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"protocol field {name} must be a {typ}, not {value!r}")
        derivatives, consent, commercial, ml, attribution, restricted = (bool(v) for v in raw[:6])
        return cls(derivatives, consent, commercial, ml, attribution, restricted, Ppm(int(raw[6])), int(raw[7]), int(raw[8]),
                   int(raw[9]))

    def to_typed(self) -> dict[str, Any]:
        """The EIP-712 message value (Solidity names)."""
        return {name: value for (name, _), value in zip(self.ABI, self.to_abi(), strict=True)}

    @classmethod
    def from_typed(cls, message: Mapping[str, Any]) -> Protocol:
        return cls.from_abi([message[name] for name, _ in cls.ABI])

    def as_dict(self) -> dict[str, Any]:
        """Python field names → values (the API's `ProtocolOut`)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def preset(cls, name: str, **changes: Any) -> Protocol:
        """One of `PRESETS` by name, with `changes` (e.g. `floor_ppm=150_000`); InputError-free:
        raises KeyError for an unknown name (callers name the choices)."""
        return replace(PRESETS[name], **changes)


@dataclass(frozen=True)
class Season:
    """A window of the year (UTC, both ends inclusive; it may wrap the year end, e.g. Dec 1 – Feb 28)
    in which a work's derivatives may be registered: `Protocol.season` packs it as
    startMonth<<24 | startDay<<16 | endMonth<<8 | endDay."""

    start_month: int
    start_day: int
    end_month: int
    end_day: int

    def __post_init__(self) -> None:
        for month, day in ((self.start_month, self.start_day), (self.end_month, self.end_day)):
            if not (1 <= month <= 12 and 1 <= day <= 31):
                raise ValueError(f"a season's month must be 1-12 and its day 1-31, not {month}/{day}")

    def pack(self) -> int:
        return self.start_month << 24 | self.start_day << 16 | self.end_month << 8 | self.end_day

    @classmethod
    def unpack(cls, season: int) -> Season | None:
        """The window `season` packs; None for 0 (all year)."""
        if season == 0:
            return None
        return cls(season >> 24 & 0xFF, season >> 16 & 0xFF, season >> 8 & 0xFF, season & 0xFF)

    def contains(self, month: int, day: int) -> bool:
        start, end, now = (self.start_month, self.start_day), (self.end_month, self.end_day), (month, day)
        return start <= now <= end if start <= end else now >= start or now <= end


def season_window(start_month: int, start_day: int, end_month: int, end_day: int) -> int:
    """`Protocol.season` for a month/day window, e.g. `season_window(6, 1, 8, 31)` for June–August."""
    return Season(start_month, start_day, end_month, end_day).pack()


def new_salt() -> bytes:
    """A fresh random 32-byte salt for a registration's commitment."""
    return os.urandom(32)


def registration_commitment(registrant: str, content: bytes, salt: bytes) -> bytes:
    """keccak256(abi.encode(registrant, keccak256(contentCid), salt)): what `commitRegistration`
    records before `registrant` may reveal `content`."""
    from eth_abi.abi import encode
    from eth_utils.crypto import keccak

    return bytes(keccak(encode(["address", "bytes32", "bytes32"], [to_checksum_address(registrant), keccak(content), salt])))


PRESETS: Mapping[str, Protocol] = {
    "open": Protocol(),
    "consent": Protocol(consent_required=True),
    "no-ml": Protocol(ml_allowed=False),
    "no-derivatives": Protocol(derivatives_allowed=False, commercial_allowed=False, ml_allowed=False),
}
"""The protocols the command line offers by name (`heritage work register --protocol`)."""
OPEN = PRESETS["open"]


@dataclass(frozen=True)
class Recipient:
    """Who is owed what share of a work's own income (struct `Recipient`)."""

    account: str
    ppm: Ppm = PPM

    ABI = (("account", "address"), ("ppm", "uint32"))

    def to_abi(self) -> tuple[str, int]:
        return (self.account, int(self.ppm))

    @classmethod
    def from_abi(cls, raw: Sequence[Any]) -> Recipient:
        return cls(str(raw[0]), Ppm(int(raw[1])))

    def to_typed(self) -> dict[str, Any]:
        return {"account": self.account, "ppm": int(self.ppm)}


def everything_to(account: str) -> tuple[Recipient, ...]:
    """A split that gives the whole of a work's own income to `account`."""
    return (Recipient(account, PPM),)


@dataclass(frozen=True)
class HeritageParams:
    """Arguments of a heritage registration (struct `HeritageParams`)."""

    community: CommunityId
    content: bytes
    """Binary CIDv1 (`cid_bytes`)."""
    manifest: bytes = b""
    protocol: Protocol = OPEN
    split: tuple[Recipient, ...] = ()
    salt: bytes = field(default_factory=new_salt)
    """Of the registrant's commitment (`registration_commitment`); random unless given."""

    def to_abi(self) -> tuple[Any, ...]:
        return (int(self.community), self.content, self.manifest, self.protocol.to_abi(), [r.to_abi() for r in self.split],
                self.salt)

    def to_typed(self) -> dict[str, Any]:
        """The EIP-712 `RegisterHeritageWork` fields (without nonce and deadline)."""
        return {"communityId": int(self.community), "contentCid": "0x" + self.content.hex(),
                "manifestCid": "0x" + self.manifest.hex(), "protocol": self.protocol.to_typed(),
                "split": [r.to_typed() for r in self.split], "salt": "0x" + self.salt.hex()}

    @classmethod
    def from_typed(cls, message: Mapping[str, Any]) -> HeritageParams:
        return cls(CommunityId(int(message["communityId"])), bytes.fromhex(str(message["contentCid"]).removeprefix("0x")),
                   bytes.fromhex(str(message["manifestCid"]).removeprefix("0x")), Protocol.from_typed(message["protocol"]),
                   tuple(Recipient(to_checksum_address(str(r["account"])), Ppm(int(r["ppm"]))) for r in message["split"]),
                   _bytes32(message["salt"]))


def _bytes32(value: Any) -> bytes:
    raw = bytes(value) if isinstance(value, (bytes, bytearray)) else bytes.fromhex(str(value).removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"a salt is 32 bytes, not {len(raw)}")
    return raw


@dataclass(frozen=True)
class DerivativeParams:
    """Arguments of a derivative registration (struct `DerivativeParams`); `parent_ppms[i]` is the
    share of every payment routed to `parents[i]`. A person-made derivative has no model CID and
    the zero parameters hash."""

    content: bytes
    manifest: bytes = b""
    parents: tuple[WorkId, ...] = ()
    parent_ppms: tuple[Ppm, ...] = ()
    split: tuple[Recipient, ...] = ()
    model: bytes = b""
    params_hash: bytes = EMPTY_HASH
    commercial: bool = False
    salt: bytes = field(default_factory=new_salt)
    """Of the registrant's commitment (`registration_commitment`); random unless given."""

    def to_abi(self) -> tuple[Any, ...]:
        return (self.content, self.manifest, [int(p) for p in self.parents], [int(p) for p in self.parent_ppms],
                [r.to_abi() for r in self.split], self.model, self.params_hash, self.commercial, self.salt)


@dataclass(frozen=True)
class WorkView:
    """Everything public about one work (`HeritageRegistry.workOf`)."""

    work_id: WorkId
    kind: WorkKind
    status: WorkStatus
    community: CommunityId
    """The community of a heritage work; 0 for a derivative."""
    registrant: Address
    timestamp: int
    content: bytes
    """Binary CID; empty for a restricted work."""
    commitment: bytes
    manifest: bytes

    @classmethod
    def from_abi(cls, work_id: int, raw: Sequence[Any]) -> WorkView:
        kind, status, community, registrant, timestamp, content, commitment, manifest = raw
        return cls(WorkId(work_id), WorkKind(int(kind)), WorkStatus(int(status)), CommunityId(int(community)),
                   Address(str(registrant)), int(timestamp), bytes(content), bytes(commitment), bytes(manifest))

    @property
    def content_cid(self) -> Cid | None:
        return cid_text(self.content)

    @property
    def manifest_cid(self) -> Cid | None:
        return cid_text(self.manifest)


@dataclass(frozen=True)
class CommunityView:
    """A community as the registry holds it (`communityOf`)."""

    community_id: CommunityId
    name: str
    stewards: tuple[Address, ...]
    threshold: int
    treasury: Address
    epoch: int

    @classmethod
    def from_abi(cls, community_id: int, raw: Sequence[Any]) -> CommunityView:
        name, stewards, threshold, treasury, epoch = raw
        return cls(CommunityId(community_id), str(name), tuple(Address(str(s)) for s in stewards), int(threshold),
                   Address(str(treasury)), int(epoch))


@dataclass(frozen=True)
class NodeView:
    """Routing facts of a work (`RoyaltyRouter.nodeOf`)."""

    status: WorkStatus
    depth: int
    route_size: int
    """Works a payment's cascade visits, the work itself included."""
    upstream_ppm: Ppm
    held_by: int | None
    """The open dispute (HeritageDisputes id) whose claim escrows this work's own share; None."""

    @classmethod
    def from_abi(cls, raw: Sequence[Any]) -> NodeView:
        status, depth, route, upstream, held = raw
        return cls(WorkStatus(int(status)), int(depth), int(route), Ppm(int(upstream)), int(held) if int(held) else None)


@dataclass(frozen=True)
class ParentShare:
    """One parent of a derivative and the share of its payments routed there."""

    work: WorkId
    ppm: Ppm


@dataclass(frozen=True)
class MachineProvenance:
    """The model and parameters hash a machine-made derivative was registered with."""

    model: bytes
    params_hash: bytes

    @property
    def model_cid(self) -> Cid | None:
        return cid_text(self.model)


@dataclass(frozen=True)
class Sent:
    """A mined transaction: its hash, block, gas and the ids its events name."""

    tx: str
    block: int
    gas_used: int
    events: tuple[tuple[str, Mapping[str, Any]], ...] = field(repr=False, default=())
    """(event name, arguments) of the platform's logs, in log order."""

    def ids(self, event: str, key: str = "workId") -> list[int]:
        return [int(args[key]) for name, args in self.events if name == event]

