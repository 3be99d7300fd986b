"""Ontology review in rounds: experts accept, reject or correct each work's tradition tags and its
cluster on the embedding map; every decision is recorded (who, when, round, old → new).

Round 0 is the baseline: each work's tags and cluster as the catalogue or the classifier gave
them (`seed`). A curator opens round 1, 2, … one at a time; reviews go into the open round and
are applied in the order they arrive, each checked against the labels current at that moment:
a review whose `old` is no longer current (another expert changed it first) is refused with
`ReviewConflict`, so the record is one consistent history. The labels after round r are the
baseline with every change of rounds 1..r applied (`labels_after`).

Decisions, for a tag (`old` is one of the work's tags):
- accept: the tag stays (recorded as old → old);
- reject: the tag is removed (old → None);
- correct: the tag is replaced by `new` (old → new); with `old` None, `new` is added.
For the cluster (`old` is the work's cluster): accept keeps it, reject takes the work off every
cluster (None), correct moves it to cluster `new`.

`round_metrics` reports, per round, the silhouette of given embeddings under that round's tags
and under its clusters, and the AMI between tags and clusters (sklearn).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, cast, get_args

import numpy as np

from core.errors import InputError
from core.types import WorkId
from listening.errors import ReviewConflict, RoundStateError, UnknownWorkLabels
from listening.model import utc_now
from listening.store import Store

Target = Literal["tag", "cluster"]
Action = Literal["accept", "reject", "correct"]


@dataclass(frozen=True)
class WorkLabels:
    work_id: WorkId
    tags: frozenset[str]
    cluster: str | None


@dataclass(frozen=True)
class Round:
    number: int
    opened_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class Change:
    """One recorded decision."""

    seq: int
    round: int
    reviewer: str
    work_id: WorkId
    target: Target
    action: Action
    old: str | None
    new: str | None
    at: datetime


def apply(labels: Mapping[WorkId, WorkLabels], change: Change) -> dict[WorkId, WorkLabels]:
    """`labels` with one change applied (pure)."""
    out = dict(labels)
    w = out[change.work_id]
    if change.target == "cluster":
        out[change.work_id] = replace(w, cluster=change.new)
    else:
        tags = set(w.tags) - ({change.old} if change.old is not None else set())
        out[change.work_id] = replace(w, tags=frozenset(tags | ({change.new} if change.new is not None else set())))
    return out


def check(labels: Mapping[WorkId, WorkLabels], work_id: int, target: str, action: str, old: str | None,
          new: str | None) -> tuple[Target, Action, str | None]:
    """The (target, action, new value) of a review that is consistent with the current `labels`;
    `ReviewConflict` (or `InputError` for a malformed review) otherwise."""
    if target not in get_args(Target) or action not in get_args(Action):
        raise InputError(f"a review's target is one of {get_args(Target)} and its action one of {get_args(Action)}; "
                         f"got {target!r}, {action!r}")
    w = labels.get(WorkId(work_id))
    if w is None:
        raise UnknownWorkLabels(f"work {work_id} has no baseline tags or cluster: a curator seeds it first")
    if action in ("accept", "reject") and new is not None:
        raise InputError(f"an {action} takes no new value; to replace {old!r} by {new!r}, correct it")
    if action == "correct" and (new is None or not new.strip()):
        raise InputError("a correction needs the new value")
    if target == "cluster":
        if old != w.cluster:
            raise ReviewConflict(f"work {work_id}'s cluster is {w.cluster!r}, not {old!r} (changed since you loaded it?): "
                                 "reload its labels and review again")
        if action == "correct" and new == old:
            raise ReviewConflict(f"work {work_id} is in cluster {old!r} already; accept it instead")
    else:
        if old is None and action != "correct":
            raise InputError(f"say which tag to {action} (old); to add a tag, correct with old empty and the new tag")
        if old is not None and old not in w.tags:
            raise ReviewConflict(f"work {work_id} has no tag {old!r} (its tags: {sorted(w.tags)}); it may have been changed "
                                 "since you loaded it: reload its labels and review again")
        if action == "correct" and new in w.tags:
            raise ReviewConflict(f"work {work_id} has the tag {new!r} already; reject {old!r} instead" if old else
                                 f"work {work_id} has the tag {new!r} already")
    value = old if action == "accept" else None if action == "reject" else new
    return cast(Target, target), cast(Action, action), value


class Ontology:
    """The review record in one store (tables `ontology_*`)."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.clock = clock

    def seed(self, work_id: int, *, tags: Iterable[str], cluster: str | None) -> WorkLabels:
        """A work's baseline (round 0) labels; once per work."""
        clean = frozenset(t.strip() for t in tags if t.strip())
        with self.store.transaction() as c:
            if c.execute("SELECT 1 FROM ontology_baseline WHERE work_id = ?", (work_id,)).fetchone():
                raise ReviewConflict(f"work {work_id} has baseline labels already; change them by review")
            c.execute("INSERT INTO ontology_baseline VALUES (?, ?, ?, ?)",
                      (work_id, json.dumps(sorted(clean)), cluster, self.clock().isoformat()))
        return WorkLabels(work_id=WorkId(work_id), tags=clean, cluster=cluster)

    def rounds(self) -> list[Round]:
        return [Round(number=r["round"], opened_at=datetime.fromisoformat(r["opened_at"]),
                      closed_at=None if r["closed_at"] is None else datetime.fromisoformat(r["closed_at"]))
                for r in self.store.conn.execute("SELECT * FROM ontology_rounds ORDER BY round")]

    def current_round(self) -> Round | None:
        """The open round, if any."""
        rounds = self.rounds()
        return rounds[-1] if rounds and rounds[-1].closed_at is None else None

    def open_round(self) -> Round:
        with self.store.transaction() as c:
            last = c.execute("SELECT round, closed_at FROM ontology_rounds ORDER BY round DESC LIMIT 1").fetchone()
            if last is not None and last["closed_at"] is None:
                raise RoundStateError(f"round {last['round']} is open still: close it before opening the next")
            number = 1 if last is None else int(last["round"]) + 1
            at = self.clock()
            c.execute("INSERT INTO ontology_rounds VALUES (?, ?, NULL)", (number, at.isoformat()))
        return Round(number=number, opened_at=at, closed_at=None)

    def close_round(self) -> Round:
        current = self.current_round()
        if current is None:
            raise RoundStateError("no review round is open: there is nothing to close")
        at = self.clock()
        with self.store.transaction() as c:
            c.execute("UPDATE ontology_rounds SET closed_at = ? WHERE round = ?", (at.isoformat(), current.number))
        return replace(current, closed_at=at)

    def review(self, *, reviewer: str, work_id: int, target: str, action: str, old: str | None = None,
               new: str | None = None) -> Change:
        """Record one expert decision in the open round (see the module docstring)."""
        if not reviewer.strip():
            raise InputError("a review needs the reviewer's name or id")
        with self.store.transaction() as c:
            row = c.execute("SELECT round, closed_at FROM ontology_rounds ORDER BY round DESC LIMIT 1").fetchone()
            if row is None or row["closed_at"] is not None:
                raise RoundStateError("no review round is open: a curator opens one before experts review")
            number = int(row["round"])
            t, a, value = check(self._labels(number), work_id, target, action, old, new)
            at = self.clock()
            cur = c.execute("INSERT INTO ontology_changes (round, reviewer, work_id, target, action, old, new, at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (number, reviewer, work_id, t, a, old, value, at.isoformat()))
            seq = int(cur.lastrowid or 0)
        return Change(seq=seq, round=number, reviewer=reviewer, work_id=WorkId(work_id), target=t, action=a, old=old,
                      new=value, at=at)

    def changes(self, *, round: int | None = None, work_id: int | None = None) -> list[Change]:
        sql, args = "SELECT * FROM ontology_changes WHERE 1 = 1", list[int]()
        if round is not None:
            sql, args = sql + " AND round = ?", [*args, round]
        if work_id is not None:
            sql, args = sql + " AND work_id = ?", [*args, work_id]
        return [Change(seq=r["seq"], round=r["round"], reviewer=r["reviewer"], work_id=WorkId(r["work_id"]), target=r["target"],
                       action=r["action"], old=r["old"], new=r["new"], at=datetime.fromisoformat(r["at"]))
                for r in self.store.conn.execute(sql + " ORDER BY seq", args)]

    def baseline(self) -> dict[WorkId, WorkLabels]:
        return {WorkId(r["work_id"]): WorkLabels(work_id=WorkId(r["work_id"]), tags=frozenset(json.loads(r["tags"])),
                                                 cluster=r["cluster"])
                for r in self.store.conn.execute("SELECT * FROM ontology_baseline ORDER BY work_id")}

    def _labels(self, round: int) -> dict[WorkId, WorkLabels]:
        labels = self.baseline()
        for ch in self.changes():
            if ch.round <= round:
                labels = apply(labels, ch)
        return labels

    def labels_after(self, round: int) -> dict[WorkId, WorkLabels]:
        """Every work's labels after `round` (0: the baseline)."""
        known = [r.number for r in self.rounds()]
        if round != 0 and round not in known:
            raise RoundStateError(f"there is no round {round}; rounds so far: {known or 'none'} (0 is the baseline)")
        return self._labels(round)

    def labels_by_round(self) -> dict[int, dict[WorkId, WorkLabels]]:
        """The labels after the baseline and after each round so far."""
        return {r: self._labels(r) for r in [0, *(x.number for x in self.rounds())]}


@dataclass(frozen=True)
class RoundMetrics:
    """Cluster quality of the embeddings under one round's labels. A work's tag label is its tags
    joined ("a+b"); works without tags, without a cluster or without an embedding are left out
    (`excluded`). Silhouettes use `metric` on L2-normalised embeddings; None when there are
    fewer than two labels or not more items than labels (`note` says which)."""

    round: int
    items: int
    excluded: int
    tag_labels: int
    cluster_labels: int
    silhouette_tags: float | None
    silhouette_clusters: float | None
    ami_tags_clusters: float | None
    note: str


def _silhouette(z: np.ndarray, labels: list[str], metric: str) -> float | None:
    from sklearn.metrics import silhouette_score

    k = len(set(labels))
    return float(silhouette_score(z, labels, metric=metric)) if 2 <= k < len(labels) else None


def round_metrics(labels_by_round: Mapping[int, Mapping[WorkId, WorkLabels]], work_ids: Sequence[int],
                  embeddings: np.ndarray, *, metric: str = "cosine") -> tuple[RoundMetrics, ...]:
    """Silhouette (tags, clusters) and AMI (tags vs clusters) per round, of `embeddings`, shape
    (N, d), row i being work `work_ids[i]`."""
    from sklearn.metrics import adjusted_mutual_info_score

    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(work_ids):
        raise InputError(f"give one embedding row per work id: {len(work_ids)} ids, embeddings of shape {x.shape}")
    if not np.isfinite(x).all():
        raise InputError("the embeddings hold NaN or infinite values; check the embedder's output")
    rows = {WorkId(w): i for i, w in enumerate(work_ids)}
    out = []
    for number, labels in sorted(labels_by_round.items()):
        used = [w for w in labels.values() if w.tags and w.cluster is not None and w.work_id in rows]
        z = x[[rows[w.work_id] for w in used]]
        z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
        tags = ["+".join(sorted(w.tags)) for w in used]
        clusters = [str(w.cluster) for w in used]
        s_tags, s_clusters = _silhouette(z, tags, metric), _silhouette(z, clusters, metric)
        ami = float(adjusted_mutual_info_score(tags, clusters)) if used else None
        note = "" if s_tags is not None and s_clusters is not None else \
            "a silhouette needs at least two labels and more works than labels"
        out.append(RoundMetrics(round=number, items=len(used), excluded=len(labels) - len(used), tag_labels=len(set(tags)),
                                cluster_labels=len(set(clusters)), silhouette_tags=s_tags, silhouette_clusters=s_clusters,
                                ami_tags_clusters=ami, note=note))
    return tuple(out)
