"""`heritage dispute raise|vote|expire|withdraw|release|bond|show`: claims through HeritageDisputes.

A steward raises a claim with a bond (0.05 ETH + the arbitrator's cost); the committee's members
vote (`HERITAGE_ARBITRATORS`); after the ruling anyone releases the escrow per token; bonds are
withdrawn by whoever was credited them.
"""

from __future__ import annotations

from pathlib import Path

import typer

from chain import disputes
from chain.types import cid_bytes
from cli.common import DataOpt, FromOpt, JsonOpt, connected, emit, errors, sender_address
from core.errors import InputError
from core.types import ETH, CommunityId, WorkId

dispute_app = typer.Typer(help="Claims on works: raise with a bond, committee vote, escrow release, bonds.",
                          no_args_is_help=True)


@dispute_app.command("raise")
def dispute_raise(work: int, community: int = typer.Option(..., help="The claimant community (sender: its steward)."),
                  evidence: str = typer.Option("", help="CID of the evidence (stored content)."),
                  heritage_work: int = typer.Option(0, help="Omission claim: the community's heritage work left out."),
                  claimed_ppm: int = typer.Option(0, help="Omission or contested heritage: the share claimed (ppm)."),
                  sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Raise a claim on WORK with the bond; its own share is escrowed until the claim closes."""
    with connected(data_dir) as c, errors():
        bond = disputes.claim_bond(c)
        dispute = disputes.raise_claim(c, WorkId(work), CommunityId(community), heritage_work=heritage_work,
                                       claimed_ppm=claimed_ppm, evidence=cid_bytes(evidence) if evidence else b"",
                                       sender=sender_address(c, sender))
        emit(as_json, {"dispute": dispute, "work": work, "bond_wei": int(bond)},
             f"claim {dispute} raised on work {work} with a bond of {bond / 10**18:.4f} ETH")


@dispute_app.command("vote")
def dispute_vote(dispute: int, uphold: bool = typer.Option(..., "--uphold/--dismiss"), sender: str = FromOpt,
                 data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Vote on a claim as a member of the dispute committee; the majority of eligible members rules."""
    with connected(data_dir) as c, errors():
        case = disputes.dispute(c, dispute).arbitrator_id
        ruled = disputes.vote(c, case, disputes.UPHELD if uphold else disputes.DISMISSED, sender=sender_address(c, sender))
        status = disputes.dispute(c, dispute).status.label
        emit(as_json, {"dispute": dispute, "ruled": ruled, "status": status},
             f"claim {dispute} {status}" if ruled else "vote recorded")


@dispute_app.command("expire")
def dispute_expire(dispute: int, sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Dismiss a claim the committee did not rule on within 30 days (anyone may)."""
    with connected(data_dir) as c, errors():
        disputes.expire(c, dispute, sender=sender_address(c, sender))
        emit(as_json, {"dispute": dispute, "status": "expired"}, f"claim {dispute} expired")


@dispute_app.command("withdraw")
def dispute_withdraw(dispute: int, sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Approve withdrawing the claim as a steward of the claimant community (k-of-n)."""
    with connected(data_dir) as c, errors():
        withdrawn = disputes.approve_withdrawal(c, dispute, sender=sender_address(c, sender))
        emit(as_json, {"dispute": dispute, "withdrawn": withdrawn},
             f"claim {dispute} withdrawn" if withdrawn else "approval recorded: another steward must approve it")


@dispute_app.command("release")
def dispute_release(work: int, token: str = typer.Option(ETH, help="Token address (default ETH)."),
                    sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """After a claim closes, credit WORK's escrow of a token (anyone may)."""
    with connected(data_dir) as c, errors():
        amount = disputes.release_escrow(c, WorkId(work), token, sender=sender_address(c, sender))
        emit(as_json, {"work": work, "token": token, "released_wei": int(amount)}, f"released {amount} of {token}")


@dispute_app.command("bond")
def dispute_bond(to: str = typer.Option("", help="Where to send it (default: the sender)."), sender: str = FromOpt,
                 data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Withdraw the sender's returned or won bonds."""
    with connected(data_dir) as c, errors():
        me = sender_address(c, sender)
        if not disputes.bond_of(c, me):
            raise InputError(f"{me} has no bond to withdraw")
        amount = disputes.withdraw_bond(c, to=to or me, sender=me)
        emit(as_json, {"account": me, "withdrawn_wei": int(amount)}, f"withdrew {amount / 10**18:.4f} ETH of bonds")


@dispute_app.command("show")
def dispute_show(dispute: int, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """One claim: its work, community, kind, status, deadline, bond and award."""
    with connected(data_dir) as c, errors():
        d = disputes.dispute(c, dispute)
        info = {"dispute": d.dispute_id, "work": d.work, "community": d.community, "kind": d.kind.name.lower(),
                "status": d.status.label, "heritage_work": d.heritage_work, "claimed_ppm": d.claimed_ppm,
                "claimant": d.claimant, "owner": d.owner, "deadline": d.deadline, "bond_wei": int(d.bond),
                "held_descendants": list(disputes.held_descendants_of(c, dispute))}
        emit(as_json, info, "\n".join(f"{k}: {v}" for k, v in info.items()))
