"""What the service holds while it runs: the chain connection, the content store, the catalogue
read from the event index, the relayer, the rate limiter and the job runner.

Reads come from the catalogue, refreshed from the index at most every
`settings.api_index_refresh_s` (and at once after a write the service relayed), so a burst of
reads costs the node nothing. Relayed transactions go one at a time under `write_lock`: a
signature's nonce is checked and consumed without a race.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from api.jobs import JobManager
from chain.catalogue import Catalogue, load
from chain.client import Chain, connect
from chain.signatures import Domain
from core.blockstore import ContentStore, open_store
from core.config import Settings

ANVIL_CHAIN_ID = 31337


class RateLimiter:
    """At most `per_minute` events per key in any sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> float | None:
        """None when allowed, else the seconds until the next request would be."""
        now = time.monotonic()
        with self._lock:
            q = self._seen[key]
            while q and now - q[0] >= 60.0:
                q.popleft()
            if len(q) >= self.per_minute:
                return 60.0 - (now - q[0])
            q.append(now)
            return None


class ApiState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.chain: Chain = connect(settings)
        self.store: ContentStore = open_store(settings)
        self.index = self.chain.index()
        self._lock = threading.Lock()
        self._catalogue = load(self.index)
        self._synced = time.monotonic()
        self.write_lock = threading.Lock()
        self.relayer = self.chain.accounts()[0]
        self.domain = Domain(self.chain.deployment.chain_id, self.chain.w3.to_checksum_address(self.chain.deployment.registry))
        self.limiter = RateLimiter(settings.api_writes_per_minute)
        self.jobs = JobManager(settings.data_dir / "jobs", max_queued=settings.api_max_queued_jobs)
        self._views: dict[str, bytes] = {}
        self._views_block = -1
        from api.supervisor import Supervisor

        self.supervisor = Supervisor(self)

    @property
    def demo(self) -> bool:
        return self.settings.api_demo and self.chain.deployment.chain_id == ANVIL_CHAIN_ID

    def catalogue(self, *, fresh: bool = False) -> Catalogue:
        """The catalogue from the index; synced when older than the refresh interval or `fresh`."""
        with self._lock:
            if fresh or time.monotonic() - self._synced >= self.settings.api_index_refresh_s:
                if self.chain.sync(self.index) or self.index.last_block() != self._catalogue.last_block \
                        or self.index.epoch() != self._catalogue.index_epoch:
                    self._catalogue = load(self.index, into=self._catalogue)
                self._synced = time.monotonic()
            return self._catalogue

    def close(self) -> None:
        self.supervisor.stop()
        self.jobs.stop()
        self.chain.close()

    def view(self, key: str, render: Callable[[], bytes]) -> bytes:
        """A rendered read (JSON bytes) of the current catalogue, rendered once per index block:
        the catalogue only changes when the index does, so neither may its views."""
        block = self.catalogue().last_block
        with self._lock:
            if block != self._views_block or len(self._views) > 4096:
                self._views, self._views_block = {}, block
            body = self._views.get(key)
        if body is None:
            body = render()
            with self._lock:
                if block == self._views_block:
                    self._views[key] = body
        return body

    def events(self, *, name: str | None = None, work_id: int | None = None) -> list[dict[str, object]]:
        """Indexed events (the index's connection is shared, so under the same lock)."""
        self.catalogue()
        with self._lock:
            return self.index.events(name, work_id)
