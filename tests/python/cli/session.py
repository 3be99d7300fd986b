"""The command line driven in-process against one data directory (the `cli` fixture in conftest.py
stops its embedded chain after the test), and the small ABC files the tests register."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from cli.main import app

SONG = "X:1\nT:song\nK:G\nGABc|\n"
REMIX = "X:1\nT:remix\nK:G\ncBAG|\n"


class Cli:
    """`heritage … --data-dir <tmp>` through typer's runner."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.runner = CliRunner()

    def invoke(self, *args: str) -> Result:
        """The command's result, whatever its exit code."""
        return self.runner.invoke(app, [*args, "--data-dir", str(self.data_dir)])

    def run(self, *args: str, code: int = 0) -> str:
        """The command's output; it must exit with `code`."""
        result = self.invoke(*args)
        assert result.exit_code == code, result.output
        return result.output

    def json(self, *args: str) -> dict[str, object]:
        """The last line the command prints with `--json`; it must succeed."""
        out: dict[str, object] = json.loads(self.run(*args, "--json").strip().splitlines()[-1])
        return out

    def abc(self, name: str, text: str) -> Path:
        """An ABC file `name` holding `text`, next to the data directory."""
        path = self.data_dir / name
        path.write_text(text)
        return path
