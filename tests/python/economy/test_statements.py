"""Usage statements on a real anvil: parsing with named errors, Merkle proofs agreeing with
OpenZeppelin's npm library, submission and settlement through the router, refusals that send
nothing, suspense released to a work registered later or refunded after the window, line traces,
and a community statement reconciled to the router's balances."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest

from chain import gateway as gw
from chain import statements as cs
from chain.anvil import Anvil
from chain.client import connect
from chain.errors import ContractRevert
from core.cid import to_text
from core.config import Settings
from core.paths import REPO_ROOT
from core.types import Wei
from economy.statements import community, dsr, merkle
from economy.statements.submit import StatementAlreadySubmitted, plan, submit
from economy.statements.trace import StatementNotAnchored, trace_file
from tests.python.economy.statements_env import HEADER, Env, fresh_cid, usage_file

WINDOW_S = 60
LINE = "2026-01-01\t2026-01-31\tStreamCo\tKZ\t{work}\tstream\t3\t{amount}"


@pytest.fixture(scope="module")
def env(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("statements")
    chain = connect(Settings(data_dir=tmp, deployments_dir=tmp / "deployments", rpc_url=anvil.url))
    cs.deploy_new(chain, suspense_window_s=WINDOW_S)  # a short window, so that it can pass in a test
    yield Env(chain)
    chain.close()


# ---------------------------------------------------------------------- parsing
def _file(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


GOOD = LINE.format(work=7, amount=10)


@pytest.mark.parametrize(("data", "expect", "line"), [
    (_file(GOOD, GOOD), nullcontext(), 0),
    (_file(GOOD).replace(b"\n", b"\r\n"), nullcontext(), 0),
    (_file(GOOD.replace("\t", ","), header=HEADER.replace("\t", ",")), nullcontext(), 0),
    (b"", pytest.raises(dsr.StatementEmpty), 0),
    (_file(), pytest.raises(dsr.StatementEmpty), 0),
    (_file(GOOD, header="start\tend"), pytest.raises(dsr.StatementHeaderInvalid), 1),
    (_file(GOOD, GOOD + "\textra"), pytest.raises(dsr.StatementLineMalformed), 3),
    (_file(GOOD, LINE.format(work=7, amount="ten")), pytest.raises(dsr.StatementLineMalformed), 3),
    (_file(LINE.format(work=7, amount=0)), pytest.raises(dsr.StatementLineMalformed), 2),
    (_file(LINE.format(work=7, amount=2**97)), pytest.raises(dsr.StatementLineMalformed), 2),
    (_file(LINE.format(work=0, amount=1)), pytest.raises(dsr.StatementLineMalformed), 2),
    (_file(LINE.format(work="not-a-cid", amount=1)), pytest.raises(dsr.StatementLineMalformed), 2),
    (_file(GOOD, GOOD.replace("2026-01-31", "2026-13-40")), pytest.raises(dsr.StatementPeriodMismatch), 3),
    (_file(GOOD.replace("2026-01-31", "2026-13-40")), pytest.raises(dsr.StatementLineMalformed), 2),
    (_file(GOOD.replace("2026-01-01", "2026-02-15")), pytest.raises(dsr.StatementLineMalformed), 2),
    (_file(GOOD.replace("StreamCo", '"StreamCo"')), pytest.raises(dsr.StatementLineMalformed), 2),
    (_file(GOOD.replace("StreamCo", " ")), pytest.raises(dsr.StatementLineMalformed), 2),
    (_file(GOOD, GOOD.replace("StreamCo", "S" * (dsr.MAX_FIELD + 1))), pytest.raises(dsr.StatementLineMalformed), 3),
    (_file(GOOD.replace("\t3\t", "\t" + "9" * 41 + "\t")), pytest.raises(dsr.StatementLineMalformed), 2),
    (_file(GOOD.replace("\t3\t", "\t\u00b3\t")), pytest.raises(dsr.StatementLineMalformed), 2),
    (_file(GOOD) + b"\xff\xfe", pytest.raises(dsr.StatementLineMalformed), 3),
])
def test_parse_names_the_line(data: bytes, expect: AbstractContextManager[object], line: int) -> None:
    with expect as raised:
        statement = dsr.parse(data)
        assert statement.lines[0].work.work_id == 7 and statement.total == 10 * len(statement.lines)
        assert statement.period_end - statement.period_start == 31 * 86_400 - 1
    if raised is not None:
        assert isinstance(raised.value, dsr.StatementFormatError) and raised.value.line == line  # type: ignore[attr-defined]


def test_line_hash_is_the_lines_bytes() -> None:
    statement = dsr.parse(_file(GOOD).replace(b"\n", b"\r\n"))
    assert statement.lines[0].line_hash == merkle.keccak(GOOD.encode())


# ---------------------------------------------------------------------- Merkle tree vs OpenZeppelin's
def _oz(values: list[tuple[int, bytes, int]]) -> dict[str, object]:
    node_path = os.environ.get("NODE_PATH", str(REPO_ROOT / "node_modules"))
    if not (Path(node_path) / "@openzeppelin" / "merkle-tree").exists():
        pytest.fail(f"@openzeppelin/merkle-tree is not installed under {node_path}: run `npm ci` (package.json lists it)")
    script = Path(__file__).with_name("oz_merkle.js")
    payload = json.dumps([[str(n), "0x" + h.hex(), str(a)] for n, h, a in values])
    out = subprocess.run([shutil.which("node") or "node", str(script)], input=payload, capture_output=True, text=True,
                         check=True, env={**os.environ, "NODE_PATH": node_path}, timeout=60)
    result: dict[str, object] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 33])
def test_tree_matches_openzeppelin(n: int) -> None:
    rng = random.Random(n)
    values = [(i + 2, rng.randbytes(32), rng.randrange(1, 10**20)) for i in range(n)]
    tree = merkle.build([merkle.leaf(*v) for v in values])
    oz = _oz(values)
    assert "0x" + tree.root.hex() == oz["root"]
    assert [["0x" + p.hex() for p in tree.proof(i)] for i in range(n)] == oz["proofs"]
    leaf = merkle.leaf(*values[0])
    assert merkle.verify(tree.root, leaf, tree.proof(0))
    assert n == 1 or not merkle.verify(tree.root, merkle.leaf(values[0][0], values[0][1], values[0][2] + 1), tree.proof(0))


# ---------------------------------------------------------------------- on chain
def _sent(env: Env) -> int:
    return int(env.chain.w3.eth.block_number)


def test_submit_settles_per_work_and_traces_each_line(env: Env) -> None:
    work, cid = env.heritage()
    child = env.derivative(work, 300_000)
    unknown = fresh_cid()
    data = usage_file([(str(work), 100), (cid, 50), (str(child), 1_000), (to_text(unknown), 7)])
    before_t = gw.balance_of(env.chain, env.treasury)
    before_c = gw.balance_of(env.chain, env.creator)
    s = submit(env.chain, data, sender=env.service)

    assert (s.lines, s.total, s.settled, s.held) == (4, 1_157, 1_150, 7)
    assert len(s.settle_txs) == 1 and len(s.hold_txs) == 1
    view = cs.statement(env.chain, s.statement_id)
    assert view.root == s.root and view.submitter == env.service and view.line_count == 4 and view.suspense == 7
    assert gw.balance_of(env.chain, env.treasury) - before_t == 150 + 300  # the derivative's floor share routed up
    assert gw.balance_of(env.chain, env.creator) - before_c == 700
    assert cs.suspense_of(env.chain, s.statement_id, unknown) == 7

    by_id, by_cid = trace_file(env.chain, data, 2), trace_file(env.chain, data, 3)
    for t in (by_id, by_cid):
        assert t.ok and t.status == "settled" and t.credit is not None
        assert t.credit.work_id == work and t.credit.amount == 150 and t.credit.tx == s.settle_txs[0]
        assert t.latency_s is not None and t.latency_s == t.credit.block_time - view.period_end
    assert by_id.credit == by_cid.credit  # one payment per work: both lines credited by the same log
    derived = trace_file(env.chain, data, 4)
    assert derived.credit is not None and by_id.credit is not None
    assert derived.credit.work_id == child and derived.credit.log_index != by_id.credit.log_index
    held = trace_file(env.chain, data, 5)
    assert held.ok and held.status == "held" and held.credit is None


def test_a_statement_settles_once(env: Env) -> None:
    work, _ = env.heritage()
    data = usage_file([(str(work), 5)], service="Replay")
    first = submit(env.chain, data, sender=env.service)
    head = _sent(env)
    with pytest.raises(StatementAlreadySubmitted) as raised:
        submit(env.chain, data, sender=env.chain.accounts()[7])
    assert raised.value.statement_id == first.statement_id and _sent(env) == head
    with pytest.raises(ContractRevert, match="UsageStatementsDuplicateRoot"):  # the contract refuses it too
        cs.anchor(env.chain, root=bytes.fromhex(first.root[2:]), period_start=0, period_end=1, line_count=1, total=Wei(1),
                  sender=env.chain.accounts()[7])


def test_an_interrupted_settlement_resumes_only_for_its_submitter(env: Env) -> None:
    (a, _), (b, _) = env.heritage(), env.heritage()
    unknown = fresh_cid()
    data = usage_file([(str(a), 10), (str(b), 20), (str(a), 5), (to_text(unknown), 3)], service="Crashed")
    p = plan(dsr.parse(data), lambda ident: cs.work_of(env.chain, ident))
    sid, _ = cs.anchor(env.chain, root=p.root, period_start=p.statement.period_start, period_end=p.statement.period_end,
                       line_count=4, total=p.statement.total, sender=env.service)
    cs.settle(env.chain, sid, [a], [Wei(15)], sender=env.service)  # then the service stopped
    with pytest.raises(StatementAlreadySubmitted):  # another key cannot take the statement over
        submit(env.chain, data, sender=env.chain.accounts()[7])
    before = gw.balance_of(env.chain, env.treasury)
    resumed = submit(env.chain, data, sender=env.service)
    assert (resumed.statement_id, resumed.anchor_tx, resumed.settled, resumed.held) == (sid, None, 20, 3)
    assert gw.balance_of(env.chain, env.treasury) - before == 20  # a was not paid twice
    view = cs.statement(env.chain, sid)
    assert view.accounted == view.total == 38 and view.suspense == 3
    with pytest.raises(StatementAlreadySubmitted):
        submit(env.chain, data, sender=env.service)
    assert trace_file(env.chain, data, 4).status == "settled" and trace_file(env.chain, data, 5).status == "held"


def test_an_invalid_file_settles_nothing(env: Env) -> None:
    work, _ = env.heritage()
    good = usage_file([(str(work), 5)] * 3, service="Broken")
    bad = good[:-2] + b"x\n"  # the last line's amount is "x"
    head, count = _sent(env), cs.statement_count(env.chain)
    with pytest.raises(dsr.StatementLineMalformed) as raised:
        submit(env.chain, bad, sender=env.service)
    assert raised.value.line == 4 and _sent(env) == head and cs.statement_count(env.chain) == count
    with pytest.raises(StatementNotAnchored):
        trace_file(env.chain, good, 2)


def test_suspense_paid_to_the_work_registered_later(env: Env) -> None:
    cid = fresh_cid()
    data = usage_file([(to_text(cid), 40), (to_text(cid), 2)], service="Late")
    s = submit(env.chain, data, sender=env.service)
    assert s.held == 42 and s.settled == 0
    with pytest.raises(ContractRevert, match="UsageStatementsWorkNotMatched"):
        cs.release(env.chain, s.statement_id, cid, sender=env.chain.accounts()[8])
    work, _ = env.heritage(cid)
    before = gw.balance_of(env.chain, env.treasury)
    r = cs.release(env.chain, s.statement_id, cid, sender=env.chain.accounts()[8])  # anyone may: it can only go to the work
    assert gw.balance_of(env.chain, env.treasury) - before == 42
    t = trace_file(env.chain, data, 3)
    assert t.status == "released" and t.credit is not None and t.credit.tx == r.tx and t.credit.work_id == work
    with pytest.raises(ContractRevert, match="UsageStatementsNothingInSuspense"):
        cs.release(env.chain, s.statement_id, cid, sender=env.chain.accounts()[8])


def test_suspense_refunded_after_the_window_only_to_the_submitter(env: Env) -> None:
    cid = fresh_cid()
    s = submit(env.chain, usage_file([(to_text(cid), 9)], service="Gone"), sender=env.service)
    with pytest.raises(ContractRevert, match="UsageStatementsWindowOpen"):
        cs.refund(env.chain, s.statement_id, sender=env.service)
    env.chain.w3.provider.make_request("evm_increaseTime", [WINDOW_S + 1])  # type: ignore[arg-type]
    env.chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    with pytest.raises(ContractRevert, match="UsageStatementsNotSubmitter"):
        cs.refund(env.chain, s.statement_id, sender=env.chain.accounts()[8])
    env.heritage(cid)  # registered too late: the window has closed
    with pytest.raises(ContractRevert, match="UsageStatementsWindowClosed"):
        cs.release(env.chain, s.statement_id, cid, sender=env.service)
    before = env.chain.w3.eth.get_balance(env.service)  # type: ignore[arg-type]
    r = cs.refund(env.chain, s.statement_id, sender=env.service)
    assert r.first("SuspenseRefunded").args["amount"] == 9
    fee = r.gas_used * int(env.chain.w3.eth.get_transaction_receipt(r.tx)["effectiveGasPrice"])  # type: ignore[arg-type]
    assert env.chain.w3.eth.get_balance(env.service) == before + 9 - fee  # type: ignore[arg-type]
    assert cs.statement(env.chain, s.statement_id).suspense == 0


def test_community_statement_reconciles_to_the_router(env: Env) -> None:
    rows = community.of_community(env.chain, env.community)
    assert rows and all(r.community_id == env.community and r.treasury == env.treasury for r in rows)
    rec = community.reconcile(env.chain, env.community, rows)
    assert rec.statements == rec.balance and rec.withdrawn == 0 and rec.other_income == 0
    # a derivative's upstream share shows as credited through its heritage root
    assert any(r.paid_work != r.credited_via for r in rows)
    text = community.to_csv(rows)
    assert text.splitlines()[0].startswith("statement_id,period_start") and len(text.splitlines()) == len(rows) + 1
    assert sum(int(line.rsplit(",", 1)[1]) for line in text.splitlines()[1:]) == rec.balance
    work, _ = env.heritage()
    gw.pay(env.chain, work, Wei(1_000_000), usage_ref=b"\1" * 32, usage_time=0, sender=env.service)
    rec2 = community.reconcile(env.chain, env.community, community.of_community(env.chain, env.community))
    assert rec2.other_income == 1_000_000  # income outside statements shows as the difference
    # the overview's net figure: every income, from the router
    assert community.credited_by_community(env.chain)[env.community] == rec2.balance + rec2.withdrawn
