"""The README's main command, end to end on a real anvil, twice (the rerun reuses everything)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app


def test_demo_runs_and_reruns(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--data-dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "every check passed" in first.output
    assert "RegistryMachineLearningNotAllowed" in first.output
    second = runner.invoke(app, ["demo", "--data-dir", str(tmp_path)])
    assert second.exit_code == 0, second.output
    assert (tmp_path / "deployments" / "31337.json").exists()


def test_cid_command(tmp_path: Path) -> None:
    f = tmp_path / "hello.txt"
    f.write_bytes(b"hello\n")
    result = CliRunner().invoke(app, ["cid", str(f)])
    assert result.stdout.strip() == "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"
