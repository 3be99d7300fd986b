"""`heritage statements submit|verify|community|release|refund`: usage statements (economy/statements/).

A service submits a DSR-shaped usage file and pays its total: matched works through the router,
unmatched usage into the statement's suspense. Anyone checks a line against the anchored root and
the settlement that credited it; a community prints its statement as CSV, reconciled to the router.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import typer
from rich.console import Console

from chain import statements as cs
from cli.common import DataOpt, FromOpt, JsonOpt, connected, emit, errors, sender_address
from core.cid import from_text
from core.errors import InputError
from economy.statements import community as cm
from economy.statements.submit import submit
from economy.statements.trace import trace_file

statements_app = typer.Typer(help="Usage statements: submit, verify a line, community statements, suspense.",
                             no_args_is_help=True)


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file: give the usage file (TSV or CSV)")
    return path.read_bytes()


@statements_app.command("submit")
def statements_submit(file: Path, sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Validate FILE, anchor its Merkle root, settle matched works and hold the rest in suspense."""
    with connected(data_dir) as c, errors():
        s = submit(c, _read(file), sender=sender_address(c, sender))
        emit(as_json, dataclasses.asdict(s),
             f"statement {s.statement_id} (root {s.root}): {s.lines} lines, {s.settled} wei settled in "
             f"{len(s.settle_txs)} batch(es), {s.held} wei held in suspense; gas {s.gas_used}")


@statements_app.command("verify")
def statements_verify(file: Path, line: int = typer.Option(..., "--line", help="The line's number in FILE (header: 1)."),
                      data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Check one line of FILE: its proof against the anchored root, and the settlement that credited it."""
    with connected(data_dir) as c, errors():
        t = trace_file(c, _read(file), line)
        payload = {**dataclasses.asdict(t), "latency_s": t.latency_s, "ok": t.ok}
        credit = t.credit
        where = (f"credited by tx {credit.tx} log {credit.log_index} (work {credit.work_id}, block {credit.block}, "
                 f"{t.latency_s} s after the period's end)" if credit else f"not credited ({t.status})")
        emit(as_json, payload, f"line {t.line} of statement {t.statement_id}: proof {'ok' if t.proof_ok else 'WRONG'} "
                               f"(contract: {'ok' if t.contract_ok else 'WRONG'}); {t.status}; {where}")
        if not t.ok:
            raise typer.Exit(1)


@statements_app.command("community")
def statements_community(community_id: int, out: Path | None = typer.Option(None, help="Write the CSV here."),
                         data_dir: Path = DataOpt) -> None:
    """COMMUNITY_ID's statement as CSV: net credits per period, paid work and crediting work; a
    reconciliation with the router's balance on stderr."""
    with connected(data_dir) as c, errors():
        rows = cm.of_community(c, community_id)
        text = cm.to_csv(rows)
        if out is not None:
            out.write_text(text)
        else:
            sys.stdout.write(text)
        rec = cm.reconcile(c, community_id, rows)
        Console(stderr=True).print(f"treasury {rec.treasury}: statements {rec.statements} wei; router balance "
                                   f"{rec.balance} + withdrawn {rec.withdrawn}; other income {rec.other_income} wei")


@statements_app.command("release")
def statements_release(statement_id: int, work: str = typer.Option(..., help="The held work id or content CID."),
                       sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Pay what a statement holds for WORK to the work it now names (anyone may, within the window)."""
    ident = int(work).to_bytes(32, "big") if work.isascii() and work.isdigit() else from_text(work)
    with connected(data_dir) as c, errors():
        r = cs.release(c, statement_id, ident, sender=sender_address(c, sender))
        log = r.first("SuspenseReleased")
        emit(as_json, {"tx": r.tx, "work": int(log.args["workId"]), "amount": int(log.args["amount"])},
             f"released {log.args['amount']} wei to work {log.args['workId']} in {r.tx}")


@statements_app.command("refund")
def statements_refund(statement_id: int, sender: str = FromOpt, data_dir: Path = DataOpt,
                      as_json: bool = JsonOpt) -> None:
    """After the window, take back what is left in suspense (the submitter only)."""
    with connected(data_dir) as c, errors():
        r = cs.refund(c, statement_id, sender=sender_address(c, sender))
        amount = int(r.first("SuspenseRefunded").args["amount"])
        emit(as_json, {"tx": r.tx, "amount": amount}, f"refunded {amount} wei in {r.tx}")
