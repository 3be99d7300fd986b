"""SQLite storage of studies, raters, ratings and ontology reviews: rows in, frozen dataclasses out.

The rules (who may rate what, when) live in `listening.studies` and `listening.ontology`; this
module only reads and writes, each write in one transaction. Times are stored as ISO 8601 UTC.
Primary keys back the rules up: a second rating of the same piece and criterion by the same
rater cannot be stored even by two requests racing each other.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from core.types import Cid, CommunityId, WorkId
from listening.errors import AlreadyInStudy, AlreadyRated, UnknownStudy
from listening.model import Criterion, Piece, Rater, RaterId, Rating, Scale, Study, StudyId, StudyState

SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    study_id TEXT PRIMARY KEY, title TEXT NOT NULL, instructions TEXT NOT NULL, blind INTEGER NOT NULL,
    randomise INTEGER NOT NULL, state TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pieces (
    study_id TEXT NOT NULL REFERENCES studies, cid TEXT NOT NULL, position INTEGER NOT NULL, condition TEXT NOT NULL,
    work_id INTEGER, reference INTEGER NOT NULL, restricted_community_id INTEGER, PRIMARY KEY (study_id, cid));
CREATE TABLE IF NOT EXISTS criteria (
    study_id TEXT NOT NULL REFERENCES studies, name TEXT NOT NULL, position INTEGER NOT NULL, prompt TEXT NOT NULL,
    scale_min INTEGER NOT NULL, scale_max INTEGER NOT NULL, labels TEXT NOT NULL, approval_threshold INTEGER,
    PRIMARY KEY (study_id, name));
CREATE TABLE IF NOT EXISTS raters (
    study_id TEXT NOT NULL REFERENCES studies, rater_id TEXT NOT NULL, kind TEXT NOT NULL, invited_at TEXT NOT NULL,
    PRIMARY KEY (study_id, rater_id));
CREATE TABLE IF NOT EXISTS ratings (
    study_id TEXT NOT NULL, rater_id TEXT NOT NULL, piece_cid TEXT NOT NULL, criterion TEXT NOT NULL,
    value INTEGER NOT NULL, rated_at TEXT NOT NULL, PRIMARY KEY (study_id, rater_id, piece_cid, criterion),
    FOREIGN KEY (study_id, rater_id) REFERENCES raters);
CREATE TABLE IF NOT EXISTS ontology_baseline (
    work_id INTEGER PRIMARY KEY, tags TEXT NOT NULL, cluster TEXT, seeded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ontology_rounds (
    round INTEGER PRIMARY KEY, opened_at TEXT NOT NULL, closed_at TEXT);
CREATE TABLE IF NOT EXISTS ontology_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, round INTEGER NOT NULL REFERENCES ontology_rounds, reviewer TEXT NOT NULL,
    work_id INTEGER NOT NULL REFERENCES ontology_baseline, target TEXT NOT NULL, action TEXT NOT NULL, old TEXT, new TEXT,
    at TEXT NOT NULL);
"""


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Store:
    """One SQLite database; use `connect` to open one."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction: checks made inside it hold until it commits."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()

    # ------------------------------------------------------------------ studies
    def insert_study(self, study: Study) -> None:
        with self.transaction() as c:
            c.execute("INSERT INTO studies VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (study.study_id, study.title, study.instructions, int(study.blind), int(study.randomise),
                       study.state.value, study.created_at.isoformat()))

    def study(self, study_id: str) -> Study:
        row = self.conn.execute("SELECT * FROM studies WHERE study_id = ?", (study_id,)).fetchone()
        if row is None:
            raise UnknownStudy(f"no study {study_id!r}: check the id in your link, or list your studies")
        pieces = tuple(
            Piece(cid=Cid(p["cid"]), condition=p["condition"], work_id=None if p["work_id"] is None else WorkId(p["work_id"]),
                  reference=bool(p["reference"]), restricted_community_id=None if p["restricted_community_id"] is None
                  else CommunityId(p["restricted_community_id"]))
            for p in self.conn.execute("SELECT * FROM pieces WHERE study_id = ? ORDER BY position", (study_id,)))
        criteria = tuple(
            Criterion(name=c["name"], prompt=c["prompt"], approval_threshold=c["approval_threshold"],
                      scale=Scale(c["scale_min"], c["scale_max"], tuple(json.loads(c["labels"]))))
            for c in self.conn.execute("SELECT * FROM criteria WHERE study_id = ? ORDER BY position", (study_id,)))
        return Study(study_id=StudyId(row["study_id"]), title=row["title"], instructions=row["instructions"],
                     blind=bool(row["blind"]), randomise=bool(row["randomise"]), state=StudyState(row["state"]),
                     created_at=_time(row["created_at"]), pieces=pieces, criteria=criteria)

    def study_ids(self) -> list[StudyId]:
        return [StudyId(r[0]) for r in self.conn.execute("SELECT study_id FROM studies ORDER BY created_at, study_id")]

    def set_state(self, study_id: str, state: StudyState) -> None:
        with self.transaction() as c:
            c.execute("UPDATE studies SET state = ? WHERE study_id = ?", (state.value, study_id))

    def insert_piece(self, study_id: str, piece: Piece) -> None:
        with self.transaction() as c:
            position = c.execute("SELECT COUNT(*) FROM pieces WHERE study_id = ?", (study_id,)).fetchone()[0]
            try:
                c.execute("INSERT INTO pieces VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (study_id, piece.cid, position, piece.condition, piece.work_id, int(piece.reference),
                           piece.restricted_community_id))
            except sqlite3.IntegrityError as err:
                raise AlreadyInStudy(f"piece {piece.cid} is in study {study_id} already; a piece is rated once per "
                                     "rater, so add it only once") from err

    def insert_criterion(self, study_id: str, criterion: Criterion) -> None:
        with self.transaction() as c:
            position = c.execute("SELECT COUNT(*) FROM criteria WHERE study_id = ?", (study_id,)).fetchone()[0]
            s = criterion.scale
            try:
                c.execute("INSERT INTO criteria VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          (study_id, criterion.name, position, criterion.prompt, s.minimum, s.maximum, json.dumps(list(s.labels)),
                           criterion.approval_threshold))
            except sqlite3.IntegrityError as err:
                raise AlreadyInStudy(f"study {study_id} has a criterion {criterion.name!r} already; choose another name") from err

    # ------------------------------------------------------------------ raters and ratings
    def insert_rater(self, rater: Rater) -> None:
        with self.transaction() as c:
            try:
                c.execute("INSERT INTO raters VALUES (?, ?, ?, ?)",
                          (rater.study_id, rater.rater_id, rater.kind, rater.invited_at.isoformat()))
            except sqlite3.IntegrityError as err:
                raise AlreadyInStudy(f"{rater.rater_id} is a rater of study {rater.study_id} already") from err

    def rater(self, study_id: str, rater_id: str) -> Rater | None:
        r = self.conn.execute("SELECT * FROM raters WHERE study_id = ? AND rater_id = ?", (study_id, rater_id)).fetchone()
        if r is None:
            return None
        return Rater(study_id=StudyId(r["study_id"]), rater_id=RaterId(r["rater_id"]), kind=r["kind"],
                     invited_at=_time(r["invited_at"]))

    def raters(self, study_id: str) -> list[Rater]:
        return [Rater(study_id=StudyId(r["study_id"]), rater_id=RaterId(r["rater_id"]), kind=r["kind"],
                      invited_at=_time(r["invited_at"]))
                for r in self.conn.execute("SELECT * FROM raters WHERE study_id = ? ORDER BY invited_at, rater_id", (study_id,))]

    def insert_ratings(self, ratings: Iterable[Rating]) -> None:
        """All of `ratings` or, on any duplicate, none (`AlreadyRated`)."""
        with self.transaction() as c:
            for r in ratings:
                try:
                    c.execute("INSERT INTO ratings VALUES (?, ?, ?, ?, ?, ?)",
                              (r.study_id, r.rater_id, r.piece_cid, r.criterion, r.value, r.rated_at.isoformat()))
                except sqlite3.IntegrityError as err:
                    raise AlreadyRated(f"{r.rater_id} has rated {r.piece_cid} on {r.criterion!r} already; a rating cannot be "
                                       "changed or given twice, and nothing of this submission was stored") from err

    def ratings(self, study_id: str, rater_id: str | None = None) -> list[Rating]:
        sql, args = "SELECT * FROM ratings WHERE study_id = ?", [study_id]
        if rater_id is not None:
            sql, args = sql + " AND rater_id = ?", [*args, rater_id]
        return [Rating(study_id=StudyId(r["study_id"]), rater_id=RaterId(r["rater_id"]), piece_cid=Cid(r["piece_cid"]),
                       criterion=r["criterion"], value=int(r["value"]), rated_at=_time(r["rated_at"]))
                for r in self.conn.execute(sql + " ORDER BY rated_at, rater_id, piece_cid, criterion", args)]

    def dump(self) -> dict[str, list[tuple[object, ...]]]:
        """Every row of every table, sorted: for checking that a refused action changed nothing."""
        tables = [r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(tuple(row) for row in self.conn.execute(f"SELECT * FROM {t}")) for t in tables}

    def close(self) -> None:
        self.conn.close()


@contextmanager
def connect(path: Path) -> Iterator[Store]:
    """The store in the SQLite file `path` (created with its tables on first use), closed on exit.

    The connection may be used from another thread than the one that opened it (FastAPI runs a
    request's dependencies and its handler on pool threads), but by one at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(SCHEMA)
        yield Store(conn)
    finally:
        conn.close()
