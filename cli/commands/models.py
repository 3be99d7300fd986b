"""`heritage models build|list|register`: the small default models shipped in models/.

`build` retrains them (each capability's own training code, small settings, one thread, fixed
seeds) and writes each weights file's manifest; `list` shows them with their CIDs checked;
`register` stores each by CID and registers it on chain as a machine-made derivative of the works it
learned from, with its whole training set anchored (`chain.trained`). `heritage model …` (singular)
proves membership in an anchored set and pays it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from cli.common import DataOpt, FromOpt, JsonOpt, connected, console, emit, errors, sender_address, stages
from core.errors import HeritageError
from core.types import Progress as ProgressFn
from ml.defaults import SHIPPED_DIR

models_app = typer.Typer(help="The small default models shipped in models/: rebuild, list, register on chain.",
                         no_args_is_help=True)


@models_app.command("build")
def build(only: list[str] = typer.Option([], help="Rebuild only these (repeat): recognition, classification, omr, generation."),
          out: Path = typer.Option(SHIPPED_DIR, help="Where the weights and manifests go."),
          cache: Path = typer.Option(Path("cache/shipped"), help="Rendered clips and engraved lines, reused between runs."),
          as_json: bool = JsonOpt) -> None:
    """Retrain every shipped model (or --only some) with its capability's own training code on small
    settings, one thread and fixed seeds, and write each one's manifest (CID, training-set CIDs,
    settings, seeds, library versions, threads, held-out metrics, training and load times). About 25
    minutes for all four on one thread of a 2-core machine shared with other work, rendering
    included (minutes each at the last build: recognition 10, omr 7, generation 3, classification 3)."""
    from ml.shipped.build_experiment import RECIPES
    from ml.shipped.build_experiment import build as build_recipe

    names = only or list(RECIPES)
    rows: list[dict[str, Any]] = []
    with _progress(as_json) as say:
        unknown = [n for n in names if n not in RECIPES]
        if unknown:
            raise typer.BadParameter(f"unknown model {', '.join(unknown)}; choose from {', '.join(RECIPES)}")
        for name in names:
            stage = f"{name}: building (about {RECIPES[name].minutes:g} min at the last build)"
            say(stage, 0, 1)
            t0 = time.perf_counter()
            for b, path in build_recipe(name, out=out, cache=cache, say=say):
                rows.append({"kind": b.kind, "weights": str(b.path), "manifest": str(path), "bytes": b.path.stat().st_size,
                             "metrics": b.metrics, "train_seconds": round(b.train_seconds, 1),
                             "build_seconds": round(time.perf_counter() - t0, 1)})
            say(stage, 1, 1)
    emit(as_json, {"built": rows}, "\n".join(f"{r['kind']}: {r['weights']} ({r['bytes'] / 1e6:.2f} MB, built in "
                                                f"{r['build_seconds']:.0f} s) " + _metrics(r["metrics"]) for r in rows))


@contextmanager
def _progress(quiet: bool) -> Iterator[ProgressFn]:
    """`stages()`'s bars, or (for --json, whose output is the JSON alone) errors handled and no bars."""
    if not quiet:
        with stages() as say:
            yield say
        return
    with errors():
        yield lambda stage, done, total: None


def _metrics(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3g}" for k, v in metrics.items())


@models_app.command("list")
def list_models(folder: Path = typer.Option(SHIPPED_DIR, help="The shipped models' folder."), as_json: bool = JsonOpt) -> None:
    """The shipped models: size, CID (checked against the weights), held-out metrics, training and load times."""
    from ml.shipped import manifest

    with errors():
        found = list(manifest.shipped(folder))
    rows = [{"kind": s.kind, "file": str(s.weights), "bytes": s.manifest["bytes"], "cid": s.manifest["cid"],
             "cid_matches": s.cid_matches, "metrics": s.manifest["metrics"], "train_seconds": s.manifest["train_seconds"],
             "load_seconds": s.manifest["load_seconds"], "training_set": len(s.manifest["training_set"])} for s in found]
    if as_json:
        emit(True, {"models": rows}, "")
        return
    t = Table(title=f"shipped models in {folder}")
    for col in ("kind", "MB", "CID", "works", "metrics", "train s", "load s"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["kind"], f"{r['bytes'] / 1e6:.2f}", r["cid"][:16] + "…" + ("" if r["cid_matches"] else " [red]MISMATCH[/red]"),
                  str(r["training_set"]), _metrics(r["metrics"]),
                  f"{r['train_seconds']:g}", f"{r['load_seconds']:g}")
    console.print(t)


@models_app.command("register")
def register(kind: list[str] = typer.Option([], help="Register only these kinds (repeat); all shipped models by default."),
             folder: Path = typer.Option(SHIPPED_DIR, help="The models' folder: the shipped models/ (default), or "
                                                          "cache/models for the ones you trained."),
             upstream_ppm: int = typer.Option(200_000, min=1, max=1_000_000,
                                              help="Share of every payment to a model routed to its parents (one work per "
                                                   "community of its training set), ppm."),
             set_ppm: int = typer.Option(500_000, min=0, max=1_000_000,
                                         help="Share of what the model keeps routed to its training set's pot (paid to "
                                              "each community by its count of works), ppm."),
             sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Store each shipped model (or, with --folder cache/models, each one you trained) by CID and
    register it as a machine-made derivative of the registered works it learned from, its whole
    training set anchored as a Merkle root with each community's count. A work whose protocol
    forbids machine-learning use refuses its model (nothing sent for it); a model none of whose
    works is registered is skipped; a rerun sends nothing."""
    from chain.trained import register_trained
    from core.blockstore import open_store
    from ml.shipped import manifest

    with errors():
        listed = [s for s in manifest.registrable(folder) if not kind or s.kind in kind]
        found = [s for s in listed if isinstance(s, manifest.Shipped)]
        stale = [s.kind for s in found if not s.cid_matches]
        if stale:
            raise typer.BadParameter(f"the weights of {', '.join(stale)} are not the ones their manifests name: "
                                     "`heritage models build` or restore models/ from git")
    rows: list[dict[str, Any]] = [{"kind": e.kind, "cid": "", "training_set": 0, "status": "refused", "reason": str(e)}
                                  for e in listed if isinstance(e, manifest.Unrecorded)]
    with connected(data_dir) as c, errors():
        store, operator = open_store(c.settings), sender_address(c, sender)
        for s in found:
            m = s.manifest
            row: dict[str, Any] = {"kind": s.kind, "cid": m["cid"], "training_set": len(m["training_set"])}
            try:
                r = register_trained(c, store, model_file=s.weights, architecture=m["architecture"],
                                     training_set=m["training_set"], operator=operator,
                                     parameters={"settings": m["settings"], "shipped_manifest": m["command"]},
                                     seed=m["seeds"].get("split"), metrics=m["metrics"], upstream_ppm=upstream_ppm,
                                     set_ppm=set_ppm)
            except HeritageError as err:  # one model refused (its protocol, a floor): say so, carry on with the others
                rows.append({**row, "status": "refused", "reason": str(err)})
                continue
            d = r.derived
            row.update({"members": r.members, "sent": r.sent,
                        "work": d.model_work if d else None, "pending": bool(d and d.pending),
                        "awaiting": [{"work": a.work, "community": a.community} for a in d.awaiting] if d else [],
                        "counts": {str(k): n for k, n in r.anchored.counts} if r.anchored else {},
                        "status": ("no registered work" if d is None else "awaiting consent" if d.pending or d.model_work is None
                                   else "registered" if r.sent else "already registered")})
            rows.append(row)
    emit(as_json, {"models": rows}, "\n".join(_line(r) for r in rows) or f"no shipped models in {folder}")


def _line(r: dict[str, Any]) -> str:
    head = f"{r['kind']} ({r['cid'][:16]}…): "
    if r["status"] == "refused":
        return head + f"[red]refused[/red]: {r['reason']}"
    if r["status"] == "no registered work":
        return head + (f"none of its {r['training_set']} training works is registered on this chain: nothing to credit, "
                       "nothing sent (register them, then run this again)")
    text = head + f"{r['status']}, work {r['work']}; {r['members']} of its {r['training_set']} training works on chain"
    if r["counts"]:
        text += ", anchored by community " + ", ".join(f"{k}: {n}" for k, n in r["counts"].items())
    return text + "".join(f"\nawaiting consent: `heritage derivative approve {a['work']} --community {a['community']}` by its "
                          "stewards" for a in r["awaiting"])
