"""`heritage community register|list`: communities, their stewards and treasuries."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from chain import gateway as gw
from cli.common import DataOpt, FromOpt, JsonOpt, connected, console, emit, errors, sender_address

community_app = typer.Typer(help="Communities and their stewards.", no_args_is_help=True)


@community_app.command("register")
def community_register(name: str, steward: list[str] = typer.Option(..., help="Steward address or index; repeat."),
                       threshold: int = typer.Option(1, help="Approvals needed (k of n)."),
                       treasury: str = typer.Option(..., help="Treasury address or index."),
                       sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Register a community with its stewards, k-of-n threshold and treasury."""
    with connected(data_dir) as c, errors():
        stewards = [sender_address(c, s) for s in steward]
        cid = gw.register_community(c, name=name, stewards=stewards, threshold=threshold, treasury=sender_address(c, treasury),
                                    sender=sender_address(c, sender))
        emit(as_json, {"community": cid}, f"community {cid} registered")


@community_app.command("list")
def community_list(data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Communities, their stewards and how many heritage works each registered (from the index)."""
    from chain.catalogue import load

    with connected(data_dir) as c, errors():
        cat = load(c.index())
        rows = list(cat.communities.values())
        if as_json:
            print(json.dumps([vars(r) for r in rows]))
            return
        t = Table(title=f"communities (index at block {cat.last_block})")
        for col in ("id", "name", "stewards", "k", "treasury", "works"):
            t.add_column(col)
        for r in rows:
            t.add_row(str(r.community_id), r.name, str(len(r.stewards)), str(r.threshold), r.treasury, str(r.works))
        console.print(t)
