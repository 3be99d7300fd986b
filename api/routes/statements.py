"""Usage statements over HTTP: submit a usage file, read a statement, check one line (its Merkle
proof and the settlement that credited it), a community's statement and the real ledger's figures.

The rules live in economy/statements/; this file parses, calls one function and answers. A
statement is paid by its submitter: in demo mode the service sends it from a development account
(`submitter`, an index, default 5); with the service's own key (HERITAGE_PRIVATE_KEY) from that
key; otherwise it refuses (403). Bodies above api_max_json_bytes are refused (413): submit larger
statements with `heritage statements submit`. Amounts in wei are decimal strings (JSON numbers
lose precision past 2^53).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, UploadFile
from pydantic import BaseModel

from api.deps import State
from api.problems import Problem
from api.routes.demo import WARNING as DEMO_WARNING
from api.state import ApiState
from chain import gateway as gw
from chain import statements as cs
from core.errors import InputError
from economy.statements import community, dsr, ledger, trace
from economy.statements.submit import StatementAlreadySubmitted, StatementUnderfunded, stored_statement, submit

router = APIRouter(tags=["statements"])
StatementIdPath = Annotated[int, Path(ge=1, le=2**63, description="A statement id.")]
LinePath = Annotated[int, Path(ge=2, le=2**31, description="A usage line's number in the file (the header is line 1).")]


class SubmissionOut(BaseModel):
    statement_id: int
    root: str
    lines: int
    total_wei: str
    settled_wei: str
    held_wei: str
    anchor_tx: str | None
    settle_txs: list[str]
    hold_txs: list[str]
    gas_used: int
    submitter: str
    warning: str | None = None


class PaymentOut(BaseModel):
    work_id: int
    amount_wei: str
    tx: str
    log_index: int
    block: int


class StatementOut(BaseModel):
    statement_id: int
    root: str
    submitter: str
    anchored_at: int
    period_start: int
    period_end: int
    lines: int
    batches: int
    total_wei: str
    accounted_wei: str
    suspense_wei: str
    window_closes_at: int
    payments: list[PaymentOut]


class CreditOut(BaseModel):
    work_id: int
    tx: str
    block: int
    log_index: int
    block_time: int
    amount_wei: str


class LineOut(BaseModel):
    statement_id: int
    line: int
    work: str
    amount_wei: str
    leaf: str
    proof: list[str]
    root: str
    proof_ok: bool
    contract_ok: bool
    status: trace.Status
    credit: CreditOut | None
    latency_s: int | None


class CommunityRowOut(BaseModel):
    statement_id: int
    period_start: int
    period_end: int
    treasury: str
    paid_work: int
    credited_via: int
    amount_wei: str


class CommunityStatementOut(BaseModel):
    community_id: int
    treasury: str
    rows: list[CommunityRowOut]
    statements_wei: str
    balance_wei: str
    withdrawn_wei: str
    other_income_wei: str


class PeriodOut(BaseModel):
    period_start: int
    period_end: int
    credits_wei: dict[str, str]
    theil_t: float
    gini: float
    jain: float


class LedgerOut(BaseModel):
    periods: list[PeriodOut]
    latencies_s: list[int]
    median_s: float | None
    p90_s: float | None


def _submitter(state: ApiState, index: int) -> str:
    if state.chain.signer is not None:
        return state.chain.signer.account.address
    if not state.demo:
        raise Problem(403, "demo-off", "the service pays statements only from its own key (HERITAGE_PRIVATE_KEY) or, in "
                      "demo mode, a development account; submit with `heritage statements submit` from your own node")
    accounts = state.chain.accounts()
    if not 0 <= index < len(accounts):
        raise Problem(422, "invalid-request", f"submitter {index} is not a development account (0-{len(accounts) - 1})")
    return accounts[index]


def _known(state: ApiState, statement_id: int) -> cs.StatementView:
    if not 1 <= statement_id <= cs.statement_count(state.chain):
        raise Problem(404, "unknown-statement", f"no statement {statement_id}: there are {cs.statement_count(state.chain)}")
    return cs.statement(state.chain, statement_id)


@router.post("/statements", status_code=201, response_model=SubmissionOut, summary="Submit a usage statement")
def submit_statement(state: State, file: UploadFile,
                     submitter: Annotated[int, Query(ge=0, le=255, description="Demo mode: the paying account.")] = 5,
                     ) -> SubmissionOut:
    """Validate every line (a 422 names the first bad line), refuse a statement submitted before
    (409), anchor its Merkle root, settle matched works through the router and hold the rest in
    suspense."""
    data = file.file.read()
    sender = _submitter(state, submitter)
    try:
        with state.write_lock:
            s = submit(state.chain, data, sender=sender)
    except dsr.StatementFormatError as err:
        raise Problem(422, "statement-invalid", str(err), line=err.line, error=type(err).__name__) from err
    except StatementAlreadySubmitted as err:
        raise Problem(409, "statement-already-submitted", str(err), statement_id=err.statement_id) from err
    except StatementUnderfunded as err:
        raise Problem(409, "insufficient-funds", str(err)) from err
    return SubmissionOut(statement_id=s.statement_id, root=s.root, lines=s.lines, total_wei=str(s.total),
                         settled_wei=str(s.settled), held_wei=str(s.held), anchor_tx=s.anchor_tx,
                         settle_txs=list(s.settle_txs), hold_txs=list(s.hold_txs),
                         gas_used=s.gas_used, submitter=sender, warning=DEMO_WARNING if state.demo else None)


@router.get("/statements/ledger", response_model=LedgerOut, summary="The real ledger: fairness and latency")
def real_ledger(state: State) -> LedgerOut:
    """Per period, net community credits with Theil T, Gini and Jain; settlement latency per line."""
    found = ledger.ledger(state.chain)
    return LedgerOut(periods=[PeriodOut(period_start=p.period_start, period_end=p.period_end,
                                        credits_wei={str(c): str(a) for c, a in p.credits.items()}, theil_t=p.theil_t,
                                        gini=p.gini, jain=p.jain) for p in found.periods],
                     latencies_s=list(found.latencies_s), median_s=found.median_s, p90_s=found.p90_s)


@router.get("/statements/communities/{community_id}", response_model=CommunityStatementOut,
            summary="A community's statement: net credits by period and work")
def community_statement(state: State, community_id: Annotated[int, Path(ge=1, le=2**63)],
                        format: Annotated[Literal["json", "csv"], Query()] = "json") -> CommunityStatementOut | Response:
    if not 1 <= community_id <= gw.community_count(state.chain):
        raise Problem(404, "unknown-community", f"no community {community_id}")
    rows = community.of_community(state.chain, community_id)
    if format == "csv":
        return Response(community.to_csv(rows), media_type="text/csv")
    rec = community.reconcile(state.chain, community_id, rows)
    return CommunityStatementOut(
        community_id=community_id, treasury=rec.treasury,
        rows=[CommunityRowOut(statement_id=r.statement_id, period_start=r.period_start, period_end=r.period_end,
                              treasury=r.treasury, paid_work=r.paid_work, credited_via=r.credited_via,
                              amount_wei=str(r.amount))
              for r in rows],
        statements_wei=str(rec.statements), balance_wei=str(rec.balance), withdrawn_wei=str(rec.withdrawn),
        other_income_wei=str(rec.other_income))


@router.get("/statements/{statement_id}", response_model=StatementOut, summary="A statement as anchored and settled")
def read_statement(state: State, statement_id: StatementIdPath) -> StatementOut:
    view = _known(state, statement_id)
    paid = cs.settlement_logs(state.chain, bytes.fromhex(view.root[2:]))
    return StatementOut(statement_id=view.statement_id, root=view.root, submitter=view.submitter,
                        anchored_at=view.anchored_at, period_start=view.period_start, period_end=view.period_end,
                        lines=view.line_count, batches=view.batches, total_wei=str(view.total),
                        accounted_wei=str(view.accounted), suspense_wei=str(view.suspense),
                        window_closes_at=view.anchored_at + cs.suspense_window(state.chain),
                        payments=[PaymentOut(work_id=int(p.args["workId"]), amount_wei=str(int(p.args["amount"])), tx=p.tx,
                                             log_index=p.log_index, block=p.block) for p in paid])


@router.get("/statements/{statement_id}/lines/{line}", response_model=LineOut,
            summary="One line: its Merkle proof and the settlement that credited it")
def read_line(state: State, statement_id: StatementIdPath, line: LinePath) -> LineOut:
    view = _known(state, statement_id)
    try:
        statement, tree = stored_statement(state.chain, view.root)
    except InputError as err:
        raise Problem(404, "statement-file-not-here", str(err)) from err
    try:
        usage = statement.line(line)
    except dsr.StatementFormatError as err:
        raise Problem(404, "unknown-line", str(err), line=line) from err
    t = trace.trace_line(state.chain, statement_id, statement, tree, usage)
    credit = None if t.credit is None else CreditOut(work_id=t.credit.work_id, tx=t.credit.tx, block=t.credit.block,
                                                      log_index=t.credit.log_index, block_time=t.credit.block_time,
                                                      amount_wei=str(t.credit.amount))
    return LineOut(statement_id=t.statement_id, line=t.line, work=t.work, amount_wei=str(t.amount), leaf=t.leaf,
                   proof=list(t.proof), root=t.root, proof_ok=t.proof_ok, contract_ok=t.contract_ok,
                   status=t.status, credit=credit, latency_s=t.latency_s)
