"""What the API's workers (`heritage api --workers N`) share through the index's database, so
that N processes behave as one: the rate limiter's counts, the relay lock and the sign-in nonces
already used.

The relay lock is the index database's lock "relay" (chain/indexdb.py: a PostgreSQL advisory
lock, or an `flock` beside the SQLite file in the data directory): one relay at a time across
every worker, so a signature's nonce is checked and used by one of them only, and the relay
account's nonce is read from the node by whoever holds it (the local nonce cache is dropped on
entry: another worker may have sent since)."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from chain.client import Chain
from chain.indexdb import DbLock, rate_windows, used_nonces


class RateLimiter:
    """At most about `per_minute` writes per key in any sliding minute, counted in the database by
    every worker together: this minute's count plus last minute's, weighted by the part of it
    still inside the last 60 s (a sliding-window counter: two rows per key, one atomic upsert)."""

    def __init__(self, per_minute: int, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.per_minute, self.engine, self.clock = per_minute, engine, clock
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def allow(self, key: str) -> float | None:
        """None when allowed (and counted), else the seconds until the next request would be."""
        now = self.clock()
        minute, into = divmod(now, 60.0)
        minute_i, t = int(minute), rate_windows.c
        upsert = self._insert(rate_windows).values(key=key, minute=minute_i, count=1)
        upsert = upsert.on_conflict_do_update(index_elements=[t.key, t.minute], set_={"count": t.count + 1})
        with self.engine.begin() as db:
            count = int(db.execute(upsert.returning(t.count)).scalar_one())
            if count == 1:  # a new minute for this key: older minutes of every key are of no more use
                db.execute(delete(rate_windows).where(t.minute < minute_i - 1))
            before = db.execute(select(t.count).where(t.key == key, t.minute == minute_i - 1)).scalar() or 0
            weight = 1.0 - into / 60.0
            if before * weight + count <= self.per_minute:
                return None
            db.execute(update(rate_windows).where(t.key == key, t.minute == minute_i).values(count=t.count - 1))
        if count > self.per_minute or before == 0:
            return 60.0 - into  # this minute is full: the next one
        needed = 1.0 - (self.per_minute - count + 1) / before  # the fraction of the minute at which last minute's weight fits
        return max(1.0, (needed * 60.0) - into)


class UsedNonces:
    """Sign-in nonces spent, in the database every worker shares: `spend` is true once per nonce."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def spend(self, nonce: str, expires: int, now: int) -> bool:
        """Record `nonce` as used until `expires`; False if it was used already (by any worker)."""
        t = used_nonces.c
        try:
            with self.engine.begin() as db:
                db.execute(delete(used_nonces).where(t.expires < now))
                db.execute(insert(used_nonces).values(nonce=nonce, expires=expires))
        except IntegrityError:
            return False
        return True


class RelayLock:
    """`with lock:` — the relay lock of the module's doc; `chain()` is the service's current chain
    connection (the supervisor may replace it)."""

    def __init__(self, engine: Engine, chain: Callable[[], Chain]) -> None:
        self._lock = DbLock(engine, "relay")
        self._chain = chain

    def __enter__(self) -> Self:
        self._lock.acquire()
        try:
            signer = self._chain().signer
            if signer is not None:
                signer.nonces.resync(signer.account.address)
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self._lock.release()
