"""The Studio's model runs in one child process, so the service keeps answering while a model works.

Pitch tracking (librosa's pYIN, whose Viterbi numba compiles on first use), the networks' decoding
and the renderer hold Python's interpreter lock for seconds at a time; run on a thread of the
service's own process they stalled every request for up to a minute (a dashboard polling the job
saw the API as down). Here the job thread hands the run to a long-lived child (spawned, not
forked: the service runs threads), which keeps its models loaded between jobs (`ml.saved.cached`)
and sends progress back:

    out = worker.call(fn, task, folder, progress)   # fn(task, folder, progress) runs in the child

`fn` is a module-level function and `task` a picklable value. An error the child raises comes back
as the same kind of error (a HeritageError's message, or the failure with its trace); a child that
dies (killed, out of memory) fails the job with what to do, and the next job starts a new one.
"""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar

from core.errors import HeritageError, InputError
from core.types import Progress

T = TypeVar("T")
R = TypeVar("R")
Run = Callable[[T, Path, Progress], R]


class WorkerStopped(HeritageError):
    """The model process ended while it ran a job."""


class MlWorker:
    """One child process running model jobs one at a time (the job manager runs one job at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None

    def call(self, fn: Run[T, R], task: T, folder: Path, progress: Progress) -> R:
        with self._lock:
            proc, conn = self._started()
            conn.send((fn, task, folder))
            while True:
                if not conn.poll(0.5):
                    if not proc.is_alive():
                        self._forget()
                        raise WorkerStopped(f"the model process ended (exit code {proc.exitcode}) while it ran this job: "
                                            "submit the job again (a new process starts)")
                    continue
                try:
                    msg = conn.recv()
                except (EOFError, OSError) as err:
                    self._forget()
                    raise WorkerStopped(f"the model process went away while it ran this job ({err!r}): submit the job "
                                        "again (a new process starts)") from err
                if msg[0] == "progress":
                    progress(*msg[1:])
                elif msg[0] == "done":
                    result: R = msg[1]
                    return result
                else:
                    _, named, text = msg
                    raise (InputError(text) if named else RuntimeError(text))

    def stop(self) -> None:
        """End the child (a job it runs fails; the service marks it interrupted at its next start)."""
        proc = self._proc
        if proc is not None and proc.is_alive():
            proc.terminate()
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)

    def _started(self) -> tuple[BaseProcess, Connection]:
        if self._proc is None or self._conn is None or not self._proc.is_alive():
            self._forget()
            ctx = multiprocessing.get_context("spawn")
            here, there = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(there,), name="heritage-ml", daemon=True)
            proc.start()
            there.close()
            self._proc, self._conn = proc, here
        return self._proc, self._conn

    def _forget(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn = None, None


def _serve(conn: Connection) -> None:
    """The child: run each (fn, task, folder) received, sending progress and the result, until None."""
    def progress(stage: str, done: int, total: int) -> None:
        conn.send(("progress", stage, done, total))

    while (item := _receive(conn)) is not None:
        fn, task, folder = item
        try:
            out: Any = fn(task, folder, progress)
        except HeritageError as err:
            conn.send(("error", True, str(err)))
        except Exception as err:  # a model's bug fails its job, not the process
            conn.send(("error", False, f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=5)}"))
        else:
            conn.send(("done", out))


def _receive(conn: Connection) -> Any:
    try:
        return conn.recv()
    except (EOFError, OSError):  # the service went away
        return None
