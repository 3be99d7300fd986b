"""`heritage derivative reject`: the CLI's side of the refusal the API drafts for a wallet."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app


def test_a_steward_refuses_a_derivative_and_nobody_else_can(tmp_path: Path) -> None:
    runner = CliRunner()
    d = ["--data-dir", str(tmp_path)]

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, *d])
        assert result.exit_code == code, result.output
        return result.output

    song, remix = tmp_path / "song.abc", tmp_path / "remix.abc"
    song.write_text("X:1\nT:song\nK:G\nGABc|\n")
    remix.write_text("X:1\nT:remix\nK:G\ncBAG|\n")
    try:
        run("chain", "up")
        run("community", "register", "Singers", "--steward", "1", "--threshold", "1", "--treasury", "3")
        run("work", "register", str(song), "--community", "1", "--protocol", "consent", "--from", "1")
        assert "pending" in run("derivative", "register", str(remix), "--parent", "1:200000", "--from", "5")
        assert "RegistryNotSteward" in " ".join(run("derivative", "reject", "2", "--community", "1", "--from", "5",
                                                    code=2).split())
        assert "now rejected" in run("derivative", "reject", "2", "--community", "1", "--from", "1")
        assert '"status": "rejected"' in run("work", "show", "2", "--json")
    finally:
        runner.invoke(app, ["chain", "down", *d])
