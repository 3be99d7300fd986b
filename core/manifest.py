"""Manifests: the JSON documents that describe a work, stored by CID beside its content.

The chain holds a work's content CID and manifest CID; the manifest says what the content is,
who made it and under which conditions. Two kinds, told apart by `kind`:

- `HeritageManifest`: title, community, tradition, region, language, instruments, performers,
  recording facts, Local Contexts labels and restrictions of a heritage work.
- `DerivativeManifest`: additionally the maker (a person, or a model with its CID, parameters,
  seed, inputs and metrics) and the parents with the share routed to each.

Manifests are serialised canonically (sorted keys, no insignificant whitespace, UTF-8), so
the same manifest always has the same CID. Unknown fields are refused: a typo must not become
part of a permanent record.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import InputError
from core.types import PPM

SCHEMA_VERSION = 1

CidText = Annotated[str, Field(pattern=r"^b[a-z2-7]{20,}$", description="A CIDv1 in base32 text form.")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Recording(_Strict):
    """Facts about a field recording or a rendering."""

    recorded_on: date | None = Field(default=None, description="Date of the recording.")
    place: str | None = Field(default=None, description="Where it was recorded.")
    recorded_by: str | None = Field(default=None, description="Who recorded it (person or archive).")
    equipment: str | None = None
    duration_s: float | None = Field(default=None, ge=0)
    media_type: str | None = Field(default=None, description="e.g. audio/flac, text/vnd.abc.")
    rendered_with: str | None = Field(default=None, description="For rendered audio: synthesiser and soundfont.")


class Label(_Strict):
    """A Local Contexts Traditional Knowledge or Biocultural label (contracts/README.md)."""

    id: str = Field(description="Label id, e.g. 'TK Attribution' or 'TK Secret / Sacred'.")
    version: int = Field(default=1, ge=1)


class Source(_Strict):
    """Where the content came from: an archive, a collection, a corpus file."""

    collection: str | None = None
    reference: str | None = Field(default=None, description="Shelf mark, corpus path or tune number.")
    url: str | None = None


class HeritageManifest(_Strict):
    kind: Literal["heritage"] = "heritage"
    schema_version: int = SCHEMA_VERSION
    title: str = Field(min_length=1)
    content_cid: CidText
    community: str = Field(min_length=1, description="The stewarding community's name.")
    community_id: int | None = Field(default=None, ge=1)
    tradition: str | None = None
    region: str | None = None
    genre: str | None = None
    language: str | None = None
    instruments: tuple[str, ...] = ()
    performers: tuple[str, ...] = ()
    recording: Recording | None = None
    source: Source | None = None
    labels: tuple[Label, ...] = ()
    restrictions: str | None = Field(default=None, description="Conditions of use in the community's words.")


class PersonMaker(_Strict):
    type: Literal["person"] = "person"
    name: str | None = None
    address: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")


class ModelMaker(_Strict):
    """A machine-made derivative: enough to reproduce it."""

    type: Literal["model"] = "model"
    model_cid: CidText = Field(description="CID of the trained model's files or manifest.")
    architecture: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict, description="Generation parameters.")
    seed: int | None = None
    inputs: tuple[CidText, ...] = Field(default=(), description="CIDs of the inputs it was conditioned on.")
    metrics: dict[str, float] = Field(default_factory=dict, description="Fidelity metrics of this output.")
    operator: str | None = Field(default=None, description="Who ran the model (address or name).")


class Parent(_Strict):
    work_id: int = Field(ge=1)
    ppm: int = Field(ge=0, le=PPM, description="Share of every payment routed to this parent, in ppm.")


class DerivativeManifest(_Strict):
    kind: Literal["derivative"] = "derivative"
    schema_version: int = SCHEMA_VERSION
    title: str = Field(min_length=1)
    content_cid: CidText
    maker: PersonMaker | ModelMaker = Field(discriminator="type")
    parents: tuple[Parent, ...] = Field(min_length=1, max_length=8)
    description: str | None = None
    renditions: dict[str, CidText] | None = Field(
        default=None, description="The same piece in other formats, by media type (e.g. audio/midi, audio/wav): "
                                  "the content CID is the primary one.")
    instruments: tuple[str, ...] = ()
    recording: Recording | None = None
    labels: tuple[Label, ...] = ()

    @field_validator("parents")
    @classmethod
    def _distinct_parents(cls, parents: tuple[Parent, ...]) -> tuple[Parent, ...]:
        ids = [p.work_id for p in parents]
        if len(set(ids)) != len(ids):
            raise ValueError(f"a parent is listed twice: {ids}")
        if sum(p.ppm for p in parents) > PPM:
            raise ValueError("the parents' shares add up to more than the whole (1,000,000 ppm)")
        return parents


Manifest = HeritageManifest | DerivativeManifest


def to_bytes(manifest: Manifest) -> bytes:
    """Canonical JSON: the same manifest always gives the same bytes, hence the same CID."""
    doc = manifest.model_dump(mode="json", exclude_none=True)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def from_bytes(data: bytes) -> Manifest:
    """Parse a stored manifest; a malformed one is an InputError that says which field is wrong."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"manifest is not JSON ({exc}); was the wrong CID given as a manifest?") from exc
    kind = doc.get("kind") if isinstance(doc, dict) else None
    model: type[HeritageManifest | DerivativeManifest]
    if kind == "heritage":
        model = HeritageManifest
    elif kind == "derivative":
        model = DerivativeManifest
    else:
        raise InputError(f"manifest kind {kind!r} is neither 'heritage' nor 'derivative'")
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise InputError(f"invalid {kind} manifest: {_first_problem(exc)}") from exc


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(document)"
    return f"{where}: {err['msg']}"


def make(model: type[HeritageManifest | DerivativeManifest], **fields: Any) -> Manifest:
    """Build a manifest from user input; a bad field is an InputError naming it."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise InputError(f"invalid {model.model_fields['kind'].default} manifest: {_first_problem(exc)}") from exc
