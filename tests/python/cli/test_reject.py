"""`heritage derivative reject`: the CLI's side of the refusal the API drafts for a wallet."""

from __future__ import annotations

from tests.python.cli.session import REMIX, SONG, Cli


def test_a_steward_refuses_a_derivative_and_nobody_else_can(cli: Cli) -> None:
    run = cli.run
    song, remix = cli.abc("song.abc", SONG), cli.abc("remix.abc", REMIX)
    run("chain", "up")
    run("community", "register", "Singers", "--steward", "1", "--threshold", "1", "--treasury", "3")
    run("work", "register", str(song), "--community", "1", "--protocol", "consent", "--from", "1")
    assert "pending" in run("derivative", "register", str(remix), "--parent", "1:200000", "--from", "5")
    assert "RegistryNotSteward" in " ".join(run("derivative", "reject", "2", "--community", "1", "--from", "5",
                                                code=2).split())
    assert "now rejected" in run("derivative", "reject", "2", "--community", "1", "--from", "1")
    assert '"status": "rejected"' in run("work", "show", "2", "--json")
