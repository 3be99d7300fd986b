"""The Studio's model process (api/ml_worker.py): a run happens in another process, its progress and
result come back, its errors come back named, a killed process fails only its job, and the service's
own thread keeps running while a run holds the interpreter lock for seconds."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from api.ml_worker import MlWorker, WorkerStopped
from core.errors import InputError
from core.types import Progress


def _where(task: int, folder: Path, progress: Progress) -> dict[str, int]:
    for i in range(task):
        progress("counting", i + 1, task)
    (folder / "out.txt").write_text("made in the child")
    return {"pid": os.getpid(), "task": task}


def _refuse(task: str, folder: Path, progress: Progress) -> None:
    raise InputError(task)


def _crash(task: str, folder: Path, progress: Progress) -> None:
    raise ZeroDivisionError(task)


def _hang(task: float, folder: Path, progress: Progress) -> None:
    progress("started", 0, 1)
    time.sleep(task)


STALL = 26
"""Backtracking steps (2^26): about 2 s on this machine when quiet, long beside any gap the bounds allow."""


def _hold_the_lock(task: int, folder: Path, progress: Progress) -> bool:
    """Seconds inside one C call that never lets go of the interpreter lock (a backtracking regular
    expression, as numba's compiled Viterbi or a renderer's call does): on a thread of the service,
    every request would wait for it to end."""
    return re.match(r"(a+)+$", "a" * task + "b") is not None


@pytest.fixture
def worker() -> Iterator[MlWorker]:
    w = MlWorker()
    yield w
    w.stop()


def test_a_run_happens_in_another_process_with_its_progress(worker: MlWorker, tmp_path: Path) -> None:
    heard: list[tuple[str, int, int]] = []
    out = worker.call(_where, 3, tmp_path, lambda s, d, t: heard.append((s, d, t)))
    assert out["pid"] != os.getpid() and out["task"] == 3
    assert heard == [("counting", 1, 3), ("counting", 2, 3), ("counting", 3, 3)]
    assert (tmp_path / "out.txt").read_text() == "made in the child"
    again = worker.call(_where, 1, tmp_path, lambda *a: None)
    assert again["pid"] == out["pid"]  # one long-lived process: models stay loaded between jobs


def test_errors_come_back_named_and_the_process_carries_on(worker: MlWorker, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the protocol forbids it"):
        worker.call(_refuse, "the protocol forbids it", tmp_path, lambda *a: None)
    with pytest.raises(RuntimeError, match=r"ZeroDivisionError: boom[\s\S]*Traceback"):
        worker.call(_crash, "boom", tmp_path, lambda *a: None)
    assert worker.call(_where, 0, tmp_path, lambda *a: None)["task"] == 0


def test_a_killed_process_fails_its_job_and_the_next_job_gets_a_new_one(worker: MlWorker, tmp_path: Path) -> None:
    first = worker.call(_where, 0, tmp_path, lambda *a: None)["pid"]
    started = threading.Event()
    failure: list[BaseException] = []

    def job() -> None:
        try:
            worker.call(_hang, 60.0, tmp_path, lambda *a: started.set())
        except BaseException as err:
            failure.append(err)

    t = threading.Thread(target=job)
    t.start()
    assert started.wait(30)
    os.kill(first, 9)
    t.join(30)
    assert not t.is_alive() and isinstance(failure[0], WorkerStopped) and "submit the job again" in str(failure[0])
    assert worker.call(_where, 0, tmp_path, lambda *a: None)["pid"] not in (first, os.getpid())


def _gaps_while(run: Callable[[], object]) -> list[float]:
    """Run `run` on a thread while this one does what a request handler does (short Python work,
    often): the gaps between its turns, from before the thread starts until `run` ends."""
    done = threading.Event()

    def job() -> None:
        run()
        done.set()

    t = threading.Thread(target=job)
    gaps, last = [], time.monotonic()
    t.start()
    while not done.is_set():
        sum(range(1000))
        time.sleep(0.01)
        now = time.monotonic()
        gaps.append(now - last)
        last = now
    t.join()
    return gaps


def test_the_service_thread_keeps_running_while_a_run_holds_the_lock(worker: MlWorker, tmp_path: Path) -> None:
    worker.call(_where, 0, tmp_path, lambda *a: None)  # started (spawning is not what is measured)
    gaps = _gaps_while(lambda: worker.call(_hold_the_lock, STALL, tmp_path, lambda *a: None))
    assert len(gaps) > 20 and max(gaps) < 0.5, (len(gaps), max(gaps))  # in-process: one gap as long as the whole call


def test_the_measure_sees_a_stall_when_the_run_shares_the_process(tmp_path: Path) -> None:
    """The same measure and the same call on a thread of this process: one gap as long as the call."""
    gaps = _gaps_while(lambda: _hold_the_lock(STALL, tmp_path, lambda *a: None))
    assert max(gaps) >= 0.3, max(gaps)
