"""`heritage audit` and `heritage cid`: checks from the stored file to the chain."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from cli.common import DataOpt, JsonOpt, connected, console, errors
from core.blockstore import open_store
from core.cid import file_cid


def audit(work: int = typer.Argument(0, help="Work id; omit with --all."),
          all_: bool = typer.Option(False, "--all", help="Audit the whole catalogue."),
          data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Re-hash stored content against the chain, walk the lineage to its heritage roots and check
    every protocol; exit status 1 on any mismatch. --all reports provenance traceability."""
    from chain.audit import audit_catalogue, audit_work, summarise

    if not work and not all_:
        raise typer.BadParameter("give a WORK id or --all")
    with connected(data_dir) as c, errors():
        store = open_store(c.settings)
        if all_:
            summary, results = audit_catalogue(c, store)
        else:
            results = [audit_work(c, store, work)]
            summary = summarise(results)
        if as_json:
            print(json.dumps({"summary": summary, "works": [r.to_json() for r in results]}))
        else:
            t = Table(title="audit")
            for col in ("work", "kind", "status", "check", "verdict"):
                t.add_column(col)
            for r in results:
                for v in r.verdicts:
                    t.add_row(str(r.work_id), r.kind, r.status, v.check, ("ok: " if v.ok else "FAIL: ") + v.detail)
            console.print(t)
            console.print(summary)
        if not all(r.ok for r in results):
            raise typer.Exit(1)


def cid(file: Path = typer.Argument(..., help="Any file; streamed in bounded memory."), as_json: bool = JsonOpt) -> None:
    """Print the CID that `ipfs add --cid-version=1 FILE` prints for the same file."""
    with errors():
        value = file_cid(file)
    print(json.dumps({"file": str(file), "cid": value}) if as_json else value)
