"""`heritage statements` on the embedded anvil: submit a usage file, verify a line, refuse the
same file twice and a malformed one (exit 2, the line named), print the community statement."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from tests.python.economy.statements_env import usage_file


def test_statements_on_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    d = ["--data-dir", str(tmp_path)]

    def run(*args: str) -> dict[str, object]:
        result = runner.invoke(app, [*args, *d, "--json"])
        assert result.exit_code == 0, result.output
        out: dict[str, object] = json.loads(result.output.strip().splitlines()[-1])
        return out

    song = tmp_path / "song.abc"
    song.write_text("X:1\nT:song\nK:G\nGABc|\n")
    usage, bad = tmp_path / "usage.tsv", tmp_path / "bad.tsv"
    usage.write_bytes(usage_file([("1", 300), ("1", 200), ("99", 50)]))
    bad.write_bytes(usage_file([("1", 300)]).replace(b"\tKZ\t", b"\tKZ\textra\t"))
    try:
        assert runner.invoke(app, ["chain", "up", *d]).exit_code == 0
        assert runner.invoke(app, ["community", "register", "Singers", "--steward", "1", "--threshold", "1",
                                   "--treasury", "3", *d]).exit_code == 0
        assert run("work", "register", str(song), "--community", "1", "--from", "1")["work"] == 1
        s = run("statements", "submit", str(usage), "--from", "4")
        assert (s["statement_id"], s["settled"], s["held"]) == (1, 500, 50)
        line = run("statements", "verify", str(usage), "--line", "3")
        credit, txs = line["credit"], s["settle_txs"]
        assert line["ok"] and line["status"] == "settled" and isinstance(credit, dict) and isinstance(txs, list)
        assert credit["tx"] in txs
        assert run("statements", "verify", str(usage), "--line", "4")["status"] == "held"
        again = runner.invoke(app, ["statements", "submit", str(usage), "--from", "4", *d])
        assert again.exit_code == 2 and "submitted already" in again.output
        malformed = runner.invoke(app, ["statements", "submit", str(bad), "--from", "4", *d])
        assert malformed.exit_code == 2 and "line 2" in malformed.output
        csv = runner.invoke(app, ["statements", "community", "1", *d])
        assert csv.exit_code == 0, csv.output
        rows = [r for r in csv.stdout.splitlines() if r and r[0].isdigit()]
        assert len(rows) == 1 and rows[0].endswith(",1,1,500")
    finally:
        runner.invoke(app, ["chain", "down", *d])
