"""The command line on contracts v2: a k-of-n registration with its salt, protocol approvals that
are not applied yet, and a claim raised with its bond, dismissed by the committee, escrow and bond."""

from __future__ import annotations

from tests.python.cli.session import SONG, Cli


def test_k_of_n_and_claims_on_the_command_line(cli: Cli) -> None:
    run = cli.json
    song = cli.abc("song.abc", SONG)
    other = cli.abc("other.abc", "X:2\nT:other\nK:G\nBAGc|\n")
    remix = cli.abc("remix.abc", "X:3\nT:remix\nK:G\ncBAG|\n")
    cli.run("chain", "up")
    cli.run("community", "register", "Singers", "--steward", "1", "--steward", "2", "--threshold", "2", "--treasury", "3")
    first = run("work", "register", str(song), "--community", "1", "--split", "1:300000", "--split", "3:700000",
                "--from", "1")
    assert first["work"] is None and first["pending"] is True
    done = run("work", "register", str(song), "--community", "1", "--split", "1:300000", "--split", "3:700000",
               "--from", "2", "--salt", str(first["salt"]))
    assert done["work"] == 1
    assert run("work", "register", str(other), "--community", "1", "--from", "1")["work"] == 2  # treasury only
    assert run("work", "protocol", "2", "--protocol", "open", "--floor-ppm", "50000", "--from", "1")["applied"] is False
    assert run("work", "protocol", "2", "--protocol", "open", "--floor-ppm", "50000", "--from", "2")["applied"] is True
    assert run("derivative", "register", str(remix), "--parent", "2:200000", "--from", "5")["work"] == 3
    claim = run("dispute", "raise", "3", "--community", "1", "--from", "1")
    assert claim["dispute"] == 1 and claim["bond_wei"] == 5 * 10**16
    assert run("dispute", "vote", "1", "--dismiss", "--from", "10")["ruled"] is False
    assert run("dispute", "vote", "1", "--dismiss", "--from", "11")["status"] == "dismissed"
    assert run("dispute", "show", "1")["status"] == "dismissed"
    assert run("dispute", "bond", "--from", "5")["withdrawn_wei"] == 5 * 10**16
    stranger = cli.invoke("dispute", "vote", "1", "--uphold", "--from", "12")
    assert stranger.exit_code == 2 and "Arbitrator" in stranger.output
