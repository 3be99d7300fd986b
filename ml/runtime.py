"""Reproducible runs: fixed thread counts, deterministic algorithms, and a record of both.

`reproducible(threads=…)` is called by the training and evaluation commands before they start:
torch's intra- and inter-op threads and the BLAS/OpenMP pools (threadpoolctl) are fixed, torch's
deterministic algorithms are switched on (an operation with no deterministic kernel raises instead
of silently differing), and cuDNN autotuning is off. On CPU with a fixed thread count the same
seed then gives the same weights bytes, hence the same CID (tested on the tiny models:
tests/python/ml/test_runtime.py). What stays outside: a different thread count or CPU (vector
width changes the order of float sums), and a different library version — which is why
`run_record` writes all three into every report.
"""

from __future__ import annotations

import os
import platform
import sys
from functools import cache
from importlib import metadata
from typing import TYPE_CHECKING, Any

from threadpoolctl import ThreadpoolController

if TYPE_CHECKING:
    import torch

DEFAULT_THREADS = 2
"""Threads for a training run unless told otherwise: this project's reference machine has 2 cores."""
PACKAGES = ("numpy", "scipy", "torch", "librosa", "scikit-learn", "hmmlearn", "soundfile", "music21")


@cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def reproducible(*, threads: int = DEFAULT_THREADS) -> dict[str, Any]:
    """Fix every thread pool at `threads` and make torch deterministic; returns `run_record`'s threads part."""
    import torch

    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # the CUDA determinism switch; harmless on CPU
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only settable before the first parallel work: then it stays as it was
        pass
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    _controller().limit(limits=threads)
    return threads_in_use()


def one_answer_threads() -> None:
    """Threads for a command that answers one input and exits (`heritage recognize`, `classify`):
    one torch intra-op thread. Its networks are small (a few hundred frames through a few layers),
    so a second thread gains little on a quiet machine and, on a shared one, its spinning workers
    cost the most: measured with 2 cores at load average 11, recognising a 10-s file took 0.72–0.86 s
    with one thread against 1.35–1.61 s with two (benchmarks/cold_start.py times the commands)."""
    import torch

    torch.set_num_threads(1)


def seeded(seed: int) -> torch.Generator:
    """Seed torch's global generator (weight initialisation, dropout) with `seed` and return a generator
    of its own seeded the same, for what a trainer draws in order (batch orders, masks): call it just
    before building the network, so the same seed gives the same weights (`ml.training_loop.fit`)."""
    import torch

    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def threads_in_use() -> dict[str, Any]:
    """torch's thread counts, and each native pool threadpoolctl sees (BLAS, OpenMP) with its count."""
    import torch

    pools = [{"api": p["user_api"], "library": p["internal_api"], "version": p.get("version"), "threads": p["num_threads"]}
             for p in ThreadpoolController().info()]
    return {"torch_intra_op": torch.get_num_threads(), "torch_inter_op": torch.get_num_interop_threads(),
            "torch_deterministic": torch.are_deterministic_algorithms_enabled(), "pools": pools}


def run_record(*, settings: dict[str, Any], seeds: dict[str, int]) -> dict[str, Any]:
    """What a report needs to be rerun: its settings, seeds, the library versions, the thread counts,
    and the machine (CPU count, platform, Python)."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"settings": settings, "seeds": seeds, "versions": versions, "threads": threads_in_use(),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]}}


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report's "Reproducing this run" section: wall time, threads, seeds, library versions."""
    run = report.get("run")
    if not run:
        return []
    t = run["threads"]
    versions = ", ".join(f"{k} {v}" for k, v in run["versions"].items() if v)
    return ["", "## Reproducing this run", "",
            f"Wall time {report.get('wall_seconds', 0) / 60:.1f} min on {run['machine']['cpus']} CPUs "
            f"({run['machine']['platform']}, Python {run['machine']['python']}); torch {t['torch_intra_op']} intra-op / "
            f"{t['torch_inter_op']} inter-op threads, deterministic algorithms {'on' if t['torch_deterministic'] else 'off'}; "
            + ", ".join(f"{p['library']} {p['threads']} threads" for p in t["pools"]) + ".",
            f"Seeds: {', '.join(f'{k} {v}' for k, v in run['seeds'].items())}. Libraries: {versions}. "
            "Every setting is in the JSON report under `run`."]
