"""What the service holds while it runs: the chain connection, the content store, the catalogue
read from the event index, the relayer, the rate limiter and the job runner.

Reads come from the catalogue, refreshed from the index at most every
`settings.api_index_refresh_s` (and at once after a write the service relayed), so a burst of
reads costs the node nothing; of several workers one indexes at a time and the others fold what
it stored. Relayed transactions go under `write_lock`, one relay or one batch of steward-signed
actions (`relays`, api/batches.py) at a time across every worker (api/shared.py): a signature's
nonce is checked and consumed without a race.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from api.jobs import JobManager
from api.ml_worker import MlWorker
from api.shared import RateLimiter, RelayLock
from chain.catalogue import Catalogue, load
from chain.client import Chain, connect
from chain.signatures import Domain
from core.blockstore import ContentStore, open_store
from core.config import Settings

ANVIL_CHAIN_ID = 31337


class ApiState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.chain: Chain = connect(settings)
        self.store: ContentStore = open_store(settings)
        self.index = self.chain.index()
        self._lock = threading.Lock()
        self._catalogue = load(self.index)
        self._synced = time.monotonic()
        self.write_lock = RelayLock(self.index.engine, lambda: self.chain)
        self.relayer = self.chain.accounts()[0]
        self.domain = Domain(self.chain.deployment.chain_id, self.chain.w3.to_checksum_address(self.chain.deployment.registry))
        self.limiter = RateLimiter(settings.api_writes_per_minute, self.index.engine)
        self.jobs = JobManager(settings.data_dir / "jobs", max_queued=settings.api_max_queued_jobs)
        self.ml = MlWorker()  # the Studio's model runs, in a child process started at the first job
        self._views: dict[str, bytes] = {}
        self._views_block = -1
        from api.batches import RelayQueue
        from api.supervisor import Supervisor

        self.relays = RelayQueue(self)

        self.supervisor = Supervisor(self)

    @property
    def demo(self) -> bool:
        return self.settings.api_demo and self.chain.deployment.chain_id == ANVIL_CHAIN_ID

    def catalogue(self, *, fresh: bool = False) -> Catalogue:
        """The catalogue from the index; the index synced with the node when older than the refresh
        interval or `fresh`. Whatever another worker indexed (after a write it relayed) is folded
        at the next read, so no read lags a write that was answered, whichever worker answers."""
        if fresh or time.monotonic() - self._synced >= self.settings.api_index_refresh_s:
            with self._lock:
                if fresh or time.monotonic() - self._synced >= self.settings.api_index_refresh_s:
                    # Another worker indexing meanwhile: fold what it stores (after a write, wait for it).
                    self.chain.sync(self.index, wait=fresh)
                    self._synced = time.monotonic()
        cat = self._catalogue
        if self.index.position() != (cat.last_block, cat.index_epoch):  # outside the lock: reads run side by side
            with self._lock:
                cat = self._catalogue
                if self.index.position() != (cat.last_block, cat.index_epoch):
                    self._catalogue = cat = load(self.index, into=cat)
        return cat

    def close(self) -> None:
        self.supervisor.stop()
        self.jobs.stop()
        self.ml.stop()
        self.chain.close()
        self.index.close()

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
