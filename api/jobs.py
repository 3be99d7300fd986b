"""Long work (simulations; training and generation as they land) as jobs a client polls.

One worker thread runs jobs in order (the machines have two cores; two trainings at once help
nobody). Each job lives in its own folder, `<jobs_dir>/<id>/job.json` plus its outputs, written
after every state change, so a restarted service still answers for every finished job; a job
that was running when the service stopped is marked `interrupted`, never silently lost.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import HeritageError, InputError
from core.types import Progress

Work = Callable[[Path, Progress], dict[str, Any]]
"""(the job's folder, a progress callback) → the job's result (JSON-able)."""


@dataclass
class Job:
    job_id: str
    kind: str
    params: dict[str, Any]
    status: str = "queued"  # queued | running | done | failed | interrupted
    stage: str = ""
    done: int = 0
    total: int = 0
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class QueueFull(HeritageError):
    """The job queue is full: the client should retry later."""

    def __init__(self, queued: int, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"{queued} jobs are waiting already (settings: api_max_queued_jobs); retry in {retry_after_s} s")


class JobManager:
    def __init__(self, root: Path, *, max_queued: int = 16) -> None:
        self.root = root
        self.max_queued = max_queued
        root.mkdir(parents=True, exist_ok=True)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Job, Work] | None] = queue.Queue()
        for path in sorted(root.glob("*/job.json")):
            job = Job(**json.loads(path.read_text()))
            if job.status in ("queued", "running"):
                job.status, job.error = "interrupted", "the service stopped before the job finished; start it again"
                self._save(job)
            self._jobs[job.job_id] = job
        self._worker = threading.Thread(target=self._run, name="jobs", daemon=True)
        self._worker.start()

    def submit(self, kind: str, params: dict[str, Any], work: Work) -> Job:
        job = Job(uuid.uuid4().hex[:16], kind, params)
        with self._lock:
            queued = sum(j.status == "queued" for j in self._jobs.values())
            if queued >= self.max_queued:
                raise QueueFull(queued, 30)
        (self.root / job.job_id).mkdir()
        with self._lock:
            self._jobs[job.job_id] = job
            self._save(job)
        self._queue.put((job, work))
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            if job_id not in self._jobs:
                raise InputError(f"no job {job_id!r}: GET /jobs lists the jobs this service knows")
            return self._jobs[job_id]

    def list(self, kind: str | None = None) -> list[Job]:
        with self._lock:
            return sorted((j for j in self._jobs.values() if kind is None or j.kind == kind), key=lambda j: -j.created)

    def folder(self, job_id: str) -> Path:
        return self.root / self.get(job_id).job_id

    def stop(self) -> None:
        self._queue.put(None)

    def _save(self, job: Job) -> None:
        path = self.root / job.job_id / "job.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(job.to_json()))
        tmp.replace(path)

    def _update(self, job: Job, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(job, k, v)
            self._save(job)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            job, work = item
            self._update(job, status="running", started=time.time())
            last = [0.0]

            def progress(stage: str, done: int, total: int, job: Job = job, last: list[float] = last) -> None:
                now = time.monotonic()
                if now - last[0] > 0.5 or done == total:  # a file write per tick would slow the job
                    last[0] = now
                    self._update(job, stage=stage, done=done, total=total)

            try:
                result = work(self.root / job.job_id, progress)
            except HeritageError as err:
                self._update(job, status="failed", error=str(err), finished=time.time())
            except Exception as err:  # a job's bug must not kill the worker; the trace is kept for the report
                self._update(job, status="failed", finished=time.time(),
                             error=f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=5)}")
            else:
                self._update(job, status="done", result=result, finished=time.time())
