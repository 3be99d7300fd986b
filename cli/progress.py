"""The progress display long commands share: one rich bar per stage, fed by the `say(stage, done,
total)` callback (core.types.Progress) that the long runs report to. No chain import, so that
commands without a chain (`robustness`) can use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from core.types import Progress as ProgressFn


@contextmanager
def bars(console: Console, *, quiet: bool = False) -> Iterator[ProgressFn]:
    """A bar per stage on `console` (none when `quiet`, e.g. under --json), shown while the block
    runs; yields the `say` callback. A stage's bar appears when it first reports."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, disable=quiet) as progress:
        tasks: dict[str, TaskID] = {}

        def say(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=max(total, 1))
            progress.update(tasks[stage], completed=done, total=max(total, 1))

        yield say
