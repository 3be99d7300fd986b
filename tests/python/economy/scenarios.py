"""A scenario written to a YAML file and read back as the CLI reads it, with a data directory of its own."""

from __future__ import annotations

from pathlib import Path

from core.config import Settings
from economy.scenario import Scenario, load_scenario


def scenario_in(tmp_path: Path, text: str) -> tuple[Scenario, Settings]:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    return load_scenario(f), Settings(data_dir=tmp_path / "data", deployments_dir=tmp_path / "data" / "deployments")
