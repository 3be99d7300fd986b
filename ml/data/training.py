"""Training sets that honour cultural protocols.

A work whose community's protocol forbids machine-learning use (or that is restricted:
secret/sacred) is never read for training: the selection is made on references — each item's
`Source` (its content CID and the protocol flags the caller looked up, from the chain or the
API) — before any content is opened, and what was refused is kept with the reason, so the report
can say what was left out and why. `learned_from` is the sorted list of CIDs a model trained on
this set learned from; it goes into the model's manifest (`ModelMaker.inputs`).

`ml` never imports `chain` (DESIGN.md): the caller supplies the flags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.errors import InputError
from core.provenance import ProtocolSource

T = TypeVar("T")


Source = ProtocolSource
"""Where an item's content comes from and what its protocol allows (core/provenance.py: the same
type chain.derive.protocol_sources answers)."""


@dataclass(frozen=True)
class Refusal:
    cid: str
    work_id: int | None
    reason: str


@dataclass(frozen=True)
class TrainingSet(Generic[T]):
    items: tuple[T, ...]
    refused: tuple[Refusal, ...]
    learned_from: tuple[str, ...]
    """Sorted, distinct CIDs of the items kept: what a model trained on them learned from."""


def training_set(items: Iterable[T], *, source: Callable[[T], Source]) -> TrainingSet[T]:
    """Keep the items whose protocol allows ML use; refuse the rest, with the reason.

    `source` must answer from references only (it is called before anything is read). Raises
    InputError when nothing is left, saying how much was refused.
    """
    kept: list[T] = []
    refused: list[Refusal] = []
    for item in items:
        s = source(item)
        if s.restricted:
            refused.append(Refusal(s.cid, s.work_id, "restricted (secret/sacred): never read"))
        elif not s.ml_allowed:
            refused.append(Refusal(s.cid, s.work_id, "the community's protocol forbids machine-learning use"))
        else:
            kept.append(item)
    if not kept:
        raise InputError(f"no item may be used for training: all {len(refused)} are refused by their protocols "
                         "(ML use forbidden or restricted); choose works whose communities allow ML use")
    learned = tuple(sorted({source(x).cid for x in kept}))
    return TrainingSet(tuple(kept), tuple(refused), learned)


def read_allowed(ts: TrainingSet[T], read: Callable[[T], bytes]) -> Iterator[tuple[T, bytes]]:
    """Read the content of the kept items only (the refused ones are not even passed on)."""
    for item in ts.items:
        yield item, read(item)
