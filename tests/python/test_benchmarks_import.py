"""Every benchmark module imports: benchmarks run outside the test command, so a renamed helper
they use would otherwise be found only when someone next measures."""

from __future__ import annotations

import importlib

import pytest

from core.paths import REPO_ROOT

MODULES = sorted(f"benchmarks.{p.stem}" for p in (REPO_ROOT / "benchmarks").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_imports(name: str) -> None:
    module = importlib.import_module(name)
    assert callable(getattr(module, "main", None)) or name == "benchmarks.plots", f"{name} has no main()"
