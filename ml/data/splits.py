"""Deterministic train/validation/test splits: stratified, grouped, identified by their members.

- Grouped: items that share a group (the piece, or its source file) or a content CID are kept
  together, so no piece is in two splits — a tune rendered with twelve instruments is twelve
  items of one group.
- Stratified: each label's groups are dealt to the splits in a fixed pseudo-random order
  (sha-256 of the seed and the group), each group to the split furthest below its share of that
  label's items, so every label is split about 70/15/15.
- Identified: `split_id` is the sha-256 of the three sorted lists of member CIDs, so two runs (or
  two machines) that trained on the same split can prove it, and a changed corpus changes the id.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.errors import InputError

T = TypeVar("T")
NAMES = ("train", "validation", "test")


@dataclass(frozen=True)
class Split(Generic[T]):
    train: tuple[T, ...]
    validation: tuple[T, ...]
    test: tuple[T, ...]
    split_id: str
    """sha-256 over the sorted member CIDs of each part: the split's identity."""

    def parts(self) -> dict[str, tuple[T, ...]]:
        return {"train": self.train, "validation": self.validation, "test": self.test}


def split(items: Sequence[T], *, label: Callable[[T], str], group: Callable[[T], str], cid: Callable[[T], str],
          fractions: tuple[float, float, float] = (0.70, 0.15, 0.15), seed: int = 0) -> Split[T]:
    """Split `items` into train/validation/test by `fractions` (see the module docstring).

    A group's label is its most common item label (ties broken by name). Raises InputError for
    fractions that are negative or do not sum to 1, and for an empty input.
    """
    if not items:
        raise InputError("nothing to split: the selection is empty; check the corpus and the protocol filter")
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise InputError(f"split fractions {fractions} must be non-negative and sum to 1")
    groups = _groups(items, group, cid)
    by_label: dict[str, list[list[int]]] = defaultdict(list)
    for members in groups:
        counts = Counter(label(items[i]) for i in members)
        top = max(sorted(counts), key=lambda k: counts[k])
        by_label[top].append(members)
    assigned: list[list[int]] = [[], [], []]
    for lab in sorted(by_label):
        order = sorted(by_label[lab], key=lambda m: _rank(seed, group(items[m[0]])))
        total = sum(len(m) for m in order)
        have = [0, 0, 0]
        for members in order:
            deficit = [fractions[k] * total - have[k] for k in range(3)]
            k = max(range(3), key=lambda j: (deficit[j], -j))
            have[k] += len(members)
            assigned[k].extend(members)
    parts = [tuple(items[i] for i in sorted(a)) for a in assigned]
    digest = hashlib.sha256()
    for name, part in zip(NAMES, parts, strict=True):
        digest.update(name.encode() + b"\0" + "\n".join(sorted(cid(x) for x in part)).encode() + b"\0")
    return Split(parts[0], parts[1], parts[2], digest.hexdigest())


def _rank(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}\0{key}".encode()).hexdigest()


def _groups(items: Sequence[T], group: Callable[[T], str], cid: Callable[[T], str]) -> list[list[int]]:
    """Indices of items joined by a shared group or a shared CID (union-find), in first-seen order."""
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, str], int] = {}
    for i, item in enumerate(items):
        for key in (("group", group(item)), ("cid", cid(item))):
            if key in first:
                a, b = find(first[key]), find(i)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                first[key] = i
    out: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        out[find(i)].append(i)
    return [out[r] for r in sorted(out)]
