"""`heritage statements` on the embedded anvil: submit a usage file, verify a line, refuse the
same file twice and a malformed one (exit 2, the line named), print the community statement."""

from __future__ import annotations

from tests.python.cli.session import SONG, Cli
from tests.python.economy.statements_env import usage_file


def test_statements_on_the_command_line(cli: Cli) -> None:
    run = cli.json
    song = cli.abc("song.abc", SONG)
    usage, bad = cli.data_dir / "usage.tsv", cli.data_dir / "bad.tsv"
    usage.write_bytes(usage_file([("1", 300), ("1", 200), ("99", 50)]))
    bad.write_bytes(usage_file([("1", 300)]).replace(b"\tKZ\t", b"\tKZ\textra\t"))
    cli.run("chain", "up")
    cli.run("community", "register", "Singers", "--steward", "1", "--threshold", "1", "--treasury", "3")
    assert run("work", "register", str(song), "--community", "1", "--from", "1")["work"] == 1
    s = run("statements", "submit", str(usage), "--from", "4")
    assert (s["statement_id"], s["settled"], s["held"]) == (1, 500, 50)
    line = run("statements", "verify", str(usage), "--line", "3")
    credit, txs = line["credit"], s["settle_txs"]
    assert line["ok"] and line["status"] == "settled" and isinstance(credit, dict) and isinstance(txs, list)
    assert credit["tx"] in txs
    assert run("statements", "verify", str(usage), "--line", "4")["status"] == "held"
    again = cli.invoke("statements", "submit", str(usage), "--from", "4")
    assert again.exit_code == 2 and "submitted already" in again.output
    malformed = cli.invoke("statements", "submit", str(bad), "--from", "4")
    assert malformed.exit_code == 2 and "line 2" in malformed.output
    csv = cli.invoke("statements", "community", "1")
    assert csv.exit_code == 0, csv.output
    rows = [r for r in csv.stdout.splitlines() if r and r[0].isdigit()]
    assert len(rows) == 1 and rows[0].endswith(",1,1,500")
