"""The index's database: SQLite (a file per data directory, the embedded default) or PostgreSQL
(`HERITAGE_INDEX_URL`, e.g. `postgresql+psycopg://heritage@127.0.0.1:5432/heritage`), one schema
and one code path through SQLAlchemy Core; the schema is made and upgraded by Alembic
(chain/migrations/), under a lock so that several processes opening it at once migrate it once.

`DbLock` is the lock several processes sharing one database take: PostgreSQL's session advisory
locks there, an `flock` on a file beside the SQLite file here; both die with their process, so a
killed holder never leaves a lock behind.
"""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import BigInteger, Column, Connection, Engine, Index, Integer, MetaData, Table, Text, create_engine, event, text
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"

metadata = MetaData()
meta = Table("meta", metadata, Column("key", Text, primary_key=True), Column("value", Text, nullable=False))
events = Table(
    "events", metadata,
    Column("block", BigInteger, nullable=False), Column("block_hash", Text, primary_key=True),
    Column("tx", Text, primary_key=True), Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("timestamp", BigInteger, nullable=False), Column("contract", Text, nullable=False),
    Column("name", Text, nullable=False), Column("work_id", BigInteger), Column("args", Text, nullable=False),
    Index("events_by_name", "name", "block"), Index("events_by_work", "work_id", "block"),
    Index("events_by_block", "block", "log_index"),
)
blocks = Table("blocks", metadata, Column("number", BigInteger, primary_key=True, autoincrement=False),
               Column("hash", Text, nullable=False))
rate_windows = Table("rate_windows", metadata, Column("key", Text, primary_key=True),
                     Column("minute", BigInteger, primary_key=True, autoincrement=False),
                     Column("count", Integer, nullable=False))
"""Writes per client and wall-clock minute (api/limiter.py), shared by every API worker."""
used_nonces = Table("used_nonces", metadata, Column("nonce", Text, primary_key=True),
                    Column("expires", BigInteger, nullable=False))
"""Sign-in nonces already used (api/siwe.py) until they expire, shared by every API worker."""


def database_url(target: Path | str) -> str:
    """A SQLAlchemy URL: a path is a SQLite file; `postgresql://` means psycopg 3."""
    if isinstance(target, Path):
        return f"sqlite:///{target}"
    for plain in ("postgresql://", "postgres://"):
        if target.startswith(plain):
            return "postgresql+psycopg://" + target[len(plain):]
    return target


def open_engine(url: str) -> Engine:
    """An engine with a connection pool (one connection per thread in use); SQLite files in WAL
    mode, so that readers in other processes never wait for the indexer."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_size=8, max_overflow=8, pool_recycle=3600)
    path = make_url(url).database
    if not path or path == ":memory:":
        raise ValueError("the index needs a SQLite file (several connections share it), not an in-memory database")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _wal(dbapi: Any, _record: Any) -> None:
        dbapi.execute("PRAGMA journal_mode=WAL")
        dbapi.execute("PRAGMA synchronous=NORMAL")

    return engine


class DbLock:
    """A named exclusive lock between the threads and processes sharing `engine`'s database.
    `with lock:` waits; `acquire(wait=False)` answers at once whether it was taken."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine, self.name = engine, name
        self.key = zlib.crc32(f"heritage:{name}".encode())  # PostgreSQL's advisory lock id
        self._thread_lock = threading.Lock()
        self._conn: Connection | None = None
        self._fd: int | None = None

    def _file(self) -> Path:
        return Path(str(self.engine.url.database) + f".{self.name}.lock")

    def acquire(self, *, wait: bool = True) -> bool:
        if not self._thread_lock.acquire(blocking=wait):
            return False
        try:
            if self.engine.dialect.name == "postgresql":
                conn = self.engine.connect()
                fn = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
                got = conn.execute(text(f"SELECT {fn}(:k)"), {"k": self.key}).scalar()
                conn.commit()
                if got is False:
                    conn.close()
                    self._thread_lock.release()
                    return False
                self._conn = conn
            else:
                fd = os.open(self._file(), os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    self._thread_lock.release()
                    return False
                self._fd = fd
        except BaseException:
            self._thread_lock.release()
            raise
        return True

    def release(self) -> None:
        try:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                    conn.commit()
                finally:
                    conn.close()
            if self._fd is not None:
                fd, self._fd = self._fd, None
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        finally:
            self._thread_lock.release()

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def migrate(engine: Engine) -> None:
    """Bring the schema to Alembic's head, once however many processes open the database at once."""
    from alembic import command  # imported here: every CLI command imports this module
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with DbLock(engine, "migrate"), engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
