"""Keeps the service's node alive: when the embedded anvil dies (killed, crashed), it is reaped
(no zombie) and started again on its saved state, the journal replayed onto it before it is used;
when the node this service attached to (another process owns the data directory's node) stops
answering, the service attaches again, or takes the node over if its owner is gone. Meanwhile
answers that need the chain are 503 with Retry-After; reads that need none keep working."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from chain.client import connect
from chain.nodelock import answers
from core.errors import HeritageError

if TYPE_CHECKING:
    from api.state import ApiState

log = logging.getLogger(__name__)


class Supervisor:
    def __init__(self, state: ApiState, *, interval_s: float = 0.5) -> None:
        self.state = state
        self.interval_s = interval_s
        self._stop = threading.Event()
        self.restarts = 0
        # Started from a thread that lives as long as the nodes it starts (see chain/anvil.py: the
        # node is sent SIGTERM when the thread that started it ends).
        self._thread = threading.Thread(target=self._run, name="node-supervisor", daemon=True)
        self._thread.start()

    def _down(self) -> bool:
        chain = self.state.chain
        if chain.anvil is not None:
            return not chain.anvil.alive()
        if self.state.settings.rpc_url:
            return False  # an external node: web3 reconnects on the next request by itself
        url = str(getattr(chain.w3.provider, "endpoint_uri", ""))
        return not answers(url)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if self._down():
                    self.revive()
            except HeritageError as err:
                log.warning("the node is down and could not be started again yet: %s", err)
            except Exception:  # the supervisor must outlive any one failed attempt; the next one may succeed
                log.exception("restarting the node failed; trying again")

    def revive(self) -> None:
        state = self.state
        with state.write_lock:
            old = state.chain
            old.close()  # reaps a dead anvil and releases the data directory's lock
            state.chain = connect(state.settings)  # replays the journal when this process owns the node
            self.restarts += 1
        log.warning("node restarted (%d): %s", self.restarts, state.chain.replayed)
        state.catalogue(fresh=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
