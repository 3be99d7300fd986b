"""`heritage model anchor|prove|show|pot|pay|sweep|withdraw`: a model's training set on chain.

`anchor MODEL --training-set FILE` checks every member (registered heritage work, protocol
allowing machine-learning use), publishes the member list and anchors its Merkle root with each
community's count (contracts/TrainingSets.sol). `prove MODEL WORK` prints a Merkle proof of
membership, checked by the contract. The training set's share of the model's income arrives by
`pay` or through the model's pot (`pot`: name it in the model's split, then `sweep`); each
community's treasury withdraws its share by count.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from chain import trainingsets as ts
from cli.common import DataOpt, FromOpt, JsonOpt, connected, emit, errors, sender_address
from core.blockstore import open_store
from core.errors import InputError
from core.types import CommunityId, Wei, WorkId

model_app = typer.Typer(help="A model's training set: anchor it, prove membership, pay it by community count.",
                        no_args_is_help=True)


def read_training_set(path: Path) -> list[str]:
    """The member CIDs of a training-set file: a JSON list of CIDs, a JSON object with a
    `training_set` (or `members`) list, or one CID per line (# comments allowed)."""
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file: give the training set's member list")
    text = path.read_text()
    try:
        doc = json.loads(text)
    except ValueError:
        return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]
    if isinstance(doc, dict):
        doc = doc.get("training_set", doc.get("members"))
    if not isinstance(doc, list) or not all(isinstance(c, str) for c in doc):
        raise InputError(f"{path}: expected a list of CIDs (JSON, or one per line)")
    return list(doc)


@model_app.command("anchor")
def anchor(model: int, training_set: Path = typer.Option(..., "--training-set", help="The member CIDs (file)."),
           sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Anchor MODEL's training set (sender: the model's owner); once, for good."""
    with errors():
        cids = read_training_set(training_set)
    with connected(data_dir) as c, errors():
        plan = ts.plan_training_set(c, cids)
        view = ts.anchor(c, open_store(c.settings), WorkId(model), plan, sender=sender_address(c, sender))
        counts = {str(k): n for k, n in view.counts}
        emit(as_json, {"model": model, "root": "0x" + view.root.hex(), "members": view.members_cid, "total": view.total,
                       "counts": counts, "pot": ts.pot_of(c, model)},
             f"anchored model {model}'s training set: {view.total} works, root 0x{view.root.hex()}, "
             f"counts by community {counts}; name {ts.pot_of(c, model)} in the model's split for its share")


@model_app.command("prove")
def prove(model: int, work: int, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Prove that WORK is in MODEL's training set (a Merkle proof, checked on chain)."""
    with connected(data_dir) as c, errors():
        p = ts.prove(c, open_store(c.settings), model, work)
        proof = ["0x" + h.hex() for h in p.proof]
        emit(as_json, {"model": model, "work": work, "cid": p.cid, "root": "0x" + p.root.hex(), "proof": proof,
                       "verified": p.verified},
             f"work {work} ({p.cid}) is in model {model}'s training set: proof of {len(proof)} hashes, "
             f"{'verified' if p.verified else 'NOT verified'} by the contract\n" + "\n".join(proof))
        if not p.verified:
            raise typer.Exit(1)


@model_app.command("show")
def show(model: int, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """MODEL's anchored training set: root, counts, what arrived and what each community withdrew."""
    with connected(data_dir) as c, errors():
        v = ts.training_set(c, model)
        emit(as_json, {"model": model, "root": "0x" + v.root.hex(), "members": v.members_cid, "total": v.total,
                       "arrived": v.arrived, "distributed": v.distributed,
                       "communities": [{"community": k, "count": n, "withdrawn": w}
                                       for (k, n), w in zip(v.counts, v.withdrawn, strict=True)]},
             f"model {model}: {v.total} works, {v.arrived} wei arrived, {v.distributed} distributed; "
             + ", ".join(f"community {k}: {n} works" for k, n in v.counts))


@model_app.command("pot")
def pot(model: int, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """The address to name in MODEL's split for its training set's share."""
    with connected(data_dir) as c, errors():
        address = ts.pot_of(c, model)
        emit(as_json, {"model": model, "pot": address}, address)


@model_app.command("pay")
def pay(model: int, amount: int = typer.Argument(..., help="Amount in wei."), sender: str = FromOpt,
        data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Pay MODEL's training set directly."""
    with connected(data_dir) as c, errors():
        ts.deposit(c, WorkId(model), Wei(amount), sender=sender_address(c, sender))
        emit(as_json, {"model": model, "amount": amount}, f"paid {amount} wei to model {model}'s training set")


@model_app.command("sweep")
def sweep(model: int, sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Move what the router credited MODEL's pot into its training set."""
    with connected(data_dir) as c, errors():
        ts.sweep(c, WorkId(model), sender=sender_address(c, sender))
        v = ts.training_set(c, model)
        emit(as_json, {"model": model, "arrived": v.arrived}, f"model {model}'s training set: {v.arrived} wei arrived")


@model_app.command("withdraw")
def withdraw(model: int, community: int = typer.Option(..., help="The community (sender: its treasury)."),
             sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Withdraw COMMUNITY's share of MODEL's training set to its treasury."""
    with connected(data_dir) as c, errors():
        amount = ts.withdraw(c, WorkId(model), CommunityId(community), sender=sender_address(c, sender))
        emit(as_json, {"model": model, "community": community, "amount": amount},
             f"withdrew {amount} wei for community {community}")
