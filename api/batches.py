"""Steward-signed actions relayed in batches.

A request that relays a steward's signed action (api/stewards.py `relay_for_community`: a
heritage registration, a consent, a refusal, a protocol change) queues it here and waits for its
own answer. Whichever waiting request finds no batch running in its worker runs the next one
(there is no thread of its own: nothing queued outlives the requests that wait for it), under the
relay lock every worker shares (api/shared.py):

1. when fewer actions wait than its last batch took, it lingers up to `api_relay_linger_s` for
   more (the stewards answered by the last batch are likely sending their next ones); then,
   under the lock, it takes up to `api_relay_batch` queued actions, oldest first, at most one per signer (its
   lowest nonce) and one per content (a second waits for the next batch, where its nonce is due,
   or used or its content taken and it is refused by name);
2. checks each: the deadline, the nonce (the signer's next one), the signer a steward of the
   message's community (what the checks need from the chain is read for the whole batch in one
   JSON-RPC batch);
3. sends the commitments that registrations still need, together (chain/batch.py: one estimate
   batch, one flush through the send window), then the actions themselves, together, so that
   each lands in a later block than its commitment;
4. answers each request with its own receipt (the work its events name) or its own named
   refusal (a 4xx problem): an action refused before or on chain refuses only itself.

Nothing is answered before its receipt, and every transaction is journalled before it is sent
(chain/journal.py), so an acknowledged action is never lost; a nonce checked here is used by one
batch of one worker only, so nothing is done twice.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from api.models import Relayed
from api.problems import Problem
from api.relay import dry_run
from api.state import ApiState
from chain import calls
from chain.batch import Landed, read_many, send_many
from chain.signatures import Signed


@dataclass(eq=False)
class Job:
    """One queued steward action and, once its batch is through, its answer."""

    signed: Signed
    reads: tuple[calls.Call, ...]
    """The views `check` and `commit` decide from, read for the whole batch in one go."""
    check: Callable[[int, Sequence[tuple[Any, ...]]], None]
    """`check(now, values)` raises the named refusal unless the action may go: `now` the chain's
    time, `values` the outputs of `reads`."""
    build: Callable[[], calls.Call]
    """The relayed call (built under the relay lock, after the commitments are mined)."""
    commit: Callable[[int, Sequence[tuple[Any, ...]]], calls.Call | None] | None = None
    """`commit(now, values)`: a call that must be mined in an earlier block first (a
    registration's commitment), or None."""
    keys: tuple[str, ...] = ()
    """What no other job of the same batch may share besides the signer (e.g. the content)."""
    result: Relayed | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def exclusive(self) -> frozenset[str]:
        return frozenset((f"signer:{self.signed.signer.lower()}", *self.keys))


class RelayQueue:
    """This worker's queue of steward actions (the module's doc)."""

    def __init__(self, state: ApiState) -> None:
        self._state = state
        self._cv = threading.Condition()
        self._queue: list[Job] = []
        self._running = False
        self.sizes: deque[int] = deque(maxlen=10_000)
        """How many actions each batch of this worker took, in order (for tests and benchmarks)."""

    def waiting(self) -> int:
        """Actions queued and not yet taken by a batch."""
        with self._cv:
            return len(self._queue)

    def relay(self, job: Job) -> Relayed:
        """Queue `job` and wait until its batch has answered it; its answer, or its refusal raised."""
        with self._cv:
            self._queue.append(job)
            self._cv.notify_all()
        while not job.done.is_set():
            with self._cv:
                if self._running:
                    self._cv.wait_for(lambda: job.done.is_set() or not self._running)
                    continue
                self._running = True
            try:
                while not job.done.is_set():
                    self._run()
            finally:
                with self._cv:
                    self._running = False
                    self._cv.notify_all()
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def _take(self) -> list[Job]:
        """Up to `api_relay_batch` queued jobs, oldest first, sharing no key; of one signer's, the
        lowest nonce (a steward may queue its next signatures before the first is answered)."""
        with self._cv:
            lowest: dict[str, Job] = {}
            for job in self._queue:
                signer = job.signed.signer.lower()
                if signer not in lowest or job.signed.nonce < lowest[signer].signed.nonce:
                    lowest[signer] = job
            batch: list[Job] = []
            taken: set[str] = set()
            for queued in self._queue:
                job = lowest[queued.signed.signer.lower()]
                if len(batch) == self._state.settings.api_relay_batch:
                    break
                if taken.isdisjoint(job.exclusive()):
                    batch.append(job)
                    taken |= job.exclusive()
            self._queue = [j for j in self._queue if j not in batch]
            return batch

    def _run(self) -> None:
        """One batch: taken once the relay lock is held (whatever queued while another worker's
        batch held it comes along), relayed, the index brought up to date, every job answered."""
        state, batch = self._state, []
        with self._cv:  # fewer queued than the last batch took: the others are likely on their way
            want = min(self.sizes[-1] if self.sizes else 1, state.settings.api_relay_batch)
            self._cv.wait_for(lambda: len(self._queue) >= want, timeout=state.settings.api_relay_linger_s)
        try:
            with state.write_lock:
                batch = self._take()
                self._relay(batch)
            self.sizes.append(len(batch))
            if any(j.result is not None for j in batch):
                state.catalogue(fresh=True)  # before any answer: a read after it sees the write
        except Exception as err:  # the node or the lock failed: every job still open shares it
            for job in batch:
                if job.result is None and job.error is None:
                    job.error = err  # answered to each job's request; the runner goes on with its own
        finally:
            with self._cv:
                for job in batch:
                    if job.result is None and job.error is None:
                        job.error = Problem(503, "relay-interrupted", "the relay stopped before this action was sent; "
                                            "send it again")
                    job.done.set()
                self._cv.notify_all()

    def _relay(self, batch: Sequence[Job]) -> None:
        state = self._state
        now, values = read_many(state.chain, [r for j in batch for r in j.reads], state.relayer)
        now = max(now, int(time.time()))  # the time the contract will see: the node's clock may run ahead of ours
        first: list[tuple[Job, calls.Call]] = []
        at = 0
        for job in batch:
            mine, at = values[at:at + len(job.reads)], at + len(job.reads)
            try:
                job.check(now, mine)
                commitment = job.commit(now, mine) if job.commit is not None else None
            except Exception as err:  # a named refusal (Problem, ContractRevert, a signature error, …): this job alone
                job.error = err
                continue
            if commitment is not None:
                first.append((job, commitment))
        self._send(first)
        then: list[tuple[Job, calls.Call]] = []
        for job in (j for j in batch if j.error is None):
            try:
                then.append((job, job.build()))
            except Exception as err:  # as above
                job.error = err
        for job, landed in self._send(then):
            s = landed.sent
            job.result = Relayed(tx=s.tx, block=s.block, gas_used=s.gas_used, work_id=calls.work_of_events(s.events))

    def _send(self, jobs: Sequence[tuple[Job, calls.Call]]) -> list[tuple[Job, Landed]]:
        """Send each job's call together; the jobs whose call succeeded (the others are refused)."""
        state, done = self._state, []
        for (job, call), out in zip(jobs, send_many(state.chain, [c for _, c in jobs], state.relayer), strict=True):
            if isinstance(out, Landed) and out.ok:
                done.append((job, out))
            else:
                job.error = _refused(state, call, out)
        return done


def _refused(state: ApiState, call: calls.Call, out: Landed | Exception) -> Exception:
    """Why `call` was not done: its refusal before sending, or, for one that reverted on chain (the
    state moved between its estimate and its block), the named error a dry run now gives."""
    if not isinstance(out, Landed):
        return out
    try:
        dry_run(state, call, state.relayer)
    except Exception as err:  # the named refusal
        return err
    return Problem(409, "transaction-failed", f"{call.name} failed on chain in {out.sent.tx}; send it again")
