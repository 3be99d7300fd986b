"""The README's main command, end to end on a real anvil, twice (the rerun reuses everything)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from core.cid import file_cid
from tests.python.cli.session import REMIX, SONG, Cli


def test_demo_runs_and_reruns(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--data-dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "every check passed" in " ".join(first.output.split())
    assert "RegistryMachineLearningNotAllowed" in " ".join(first.output.split())
    # The machine maker is the lattice transformer, trained on the Irish works it derives from.
    assert "in irish_traditional" in " ".join(first.output.split())
    piece = json.loads(next((tmp_path / "generated").glob("irish_traditional-*.metrics.json")).read_text())
    assert piece["metrics"]["modal_error_cents"] == 0.0 and piece["constraints"]["tradition"] == "irish_traditional"
    second = runner.invoke(app, ["demo", "--data-dir", str(tmp_path)])
    assert second.exit_code == 0, second.output
    assert (tmp_path / "deployments" / "31337.json").exists()


def test_cid_command(tmp_path: Path) -> None:
    f = tmp_path / "hello.txt"
    f.write_bytes(b"hello\n")
    result = CliRunner().invoke(app, ["cid", str(f)])
    assert result.stdout.strip() == "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"


def test_command_line_flow_and_bad_input(tmp_path: Path, cli: Cli) -> None:
    """chain up, register, consent, pay, withdraw, audit; then refused and unknown inputs."""
    run = cli.run
    song, remix = cli.abc("song.abc", SONG), cli.abc("remix.abc", REMIX)
    run("chain", "up")
    run("community", "register", "Singers", "--steward", "1", "--steward", "2", "--threshold", "2", "--treasury", "3")
    run("work", "register", str(song), "--community", "1", "--protocol", "consent", "--from", "1")
    assert "pending" in run("derivative", "register", str(remix), "--parent", "1:200000", "--from", "5")
    run("derivative", "approve", "2", "--community", "1", "--from", "1")
    assert "now active" in run("derivative", "approve", "2", "--community", "1", "--from", "2")
    run("pay", "2", "1000000")
    assert "withdrew 200000" in run("withdraw", "--from", "3")
    # Reads come from the event index.
    listing = json.loads(run("work", "list", "--json"))
    assert listing["total"] == 2
    song_row, remix_row = listing["works"]
    assert (song_row["kind"], song_row["community_id"], song_row["payments"]) == ("heritage", 1, 0)
    assert remix_row["kind"] == "derivative" and remix_row["status"] == "active"
    assert (remix_row["parents"], remix_row["parent_ppms"], remix_row["roots"]) == ([1], [200000], [1])
    assert (remix_row["payments"], remix_row["paid_wei"]) == (1, 1_000_000)
    assert remix_row["content_cid"] == file_cid(remix)
    shown = json.loads(run("work", "show", "2", "--json"))
    assert shown["ancestors"] == [1] and shown["communities"] == [1]
    assert [w["work_id"] for w in json.loads(run("work", "list", "--kind", "derivative", "--json"))["works"]] == [2]
    assert json.loads(run("work", "list", "--offset", "1", "--limit", "5", "--json"))["works"][0]["work_id"] == 2
    (community,) = json.loads(run("community", "list", "--json"))
    assert (community["name"], community["threshold"], community["works"]) == ("Singers", 2, 1)
    missing = cli.invoke("work", "show", "99")
    assert missing.exit_code == 2 and "no work 99 in the index" in " ".join(missing.output.split())
    assert '"provenance_traceability": 1.0' in run("audit", "--all", "--json")
    assert "already registered as work 1" in run("work", "register", str(song), "--community", "1", "--from", "1")

    unknown = cli.invoke("pay", "99", "5")
    assert unknown.exit_code == 2 and "no work has this id" in " ".join(unknown.output.split())
    outsider = cli.invoke("work", "register", str(remix) + ".x", "--community", "1")
    assert outsider.exit_code == 2 and "does not exist" in " ".join(outsider.output.split())
    other = tmp_path / "other.abc"
    other.write_text("X:2\n")
    stranger = cli.invoke("work", "register", str(other), "--community", "1", "--from", "7")
    assert stranger.exit_code == 2 and "RegistryNotSteward" in " ".join(stranger.output.split())
    # Tamper with a stored block: the audit must fail.
    block = next((tmp_path / "blocks").rglob("bafkrei*"))
    block.write_bytes(b"tampered")
    assert cli.invoke("audit", "--all").exit_code == 1
