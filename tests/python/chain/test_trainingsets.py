"""A model's training set on a real anvil (contracts/TrainingSets.sol through chain/trainingsets.py):
30 works of three communities (more than MAX_ROOTS = 16) anchored and proven, the share paid by
count directly and through the model's pot, the attacks refused; the CLI and the API read."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from chain import calls
from chain import gateway as gw
from chain import trainingsets as ts
from chain.anvil import Anvil
from chain.client import Chain, connect
from chain.derive import register_model
from chain.errors import ContractRevert
from chain.types import HeritageParams, Protocol, Recipient, everything_to
from cli.main import app
from core.blockstore import ContentStore, open_store
from core.cid import from_text
from core.config import Settings
from core.errors import ChainError, InputError
from core.types import Cid, CommunityId, Ppm, Wei, WorkId

_fresh = itertools.count()
COUNTS = {"a": 20, "b": 7, "c": 3}


class Env:
    def __init__(self, chain: Chain, store: ContentStore, tmp: Path) -> None:
        self.chain, self.store, self.tmp = chain, store, tmp
        self.acct = [str(a) for a in chain.w3.eth.accounts]
        self.treasury = {"a": self.acct[3], "b": self.acct[4], "c": self.acct[5], "no-ml": self.acct[6]}
        self.community = {name: gw.register_community(chain, name=f"{name}-{next(_fresh)}", stewards=[self.acct[1]],
                                                      threshold=1, treasury=t, sender=self.acct[0])
                          for name, t in self.treasury.items()}
        self.cids = {name: self.works(name, n) for name, n in COUNTS.items()}
        self.forbidden = self.works("no-ml", 1, ml=False)

    def works(self, name: str, n: int, *, ml: bool = True) -> list[Cid]:
        cids = [self.store.put_bytes(f"X:{next(_fresh)}\nT:{name}\nK:G\nGABc|\n".encode()) for _ in range(n)]
        proto = Protocol(ml_allowed=ml, floor_ppm=Ppm(1_000))
        batch = [HeritageParams(self.community[name], from_text(c), b"", proto, everything_to(self.treasury[name]))
                 for c in cids]
        gw.register_heritage_batch(self.chain, batch, sender=self.acct[1])
        return cids

    @property
    def members(self) -> list[Cid]:
        return [c for name in COUNTS for c in self.cids[name]]

    def model(self) -> WorkId:
        """A fresh model registered (owner acct[9]) as a derivative of one work of each community."""
        path = self.tmp / f"model-{next(_fresh)}.pt"
        path.write_bytes(b"weights " + path.name.encode())
        derived = register_model(self.chain, self.store, model_file=path, architecture="gpt", operator=self.acct[9],
                                 learned_from=[self.cids[n][0] for n in COUNTS], seed=1)
        assert derived.model_work is not None
        return derived.model_work


@pytest.fixture(scope="module")
def env(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("trainingsets")
    settings = Settings(data_dir=tmp, deployments_dir=tmp / "deployments", rpc_url=anvil.url)
    chain = connect(settings)
    yield Env(chain, open_store(settings), tmp)
    chain.close()


def test_anchor_counts_more_works_than_the_root_cap_and_proves_each(env: Env) -> None:
    model = env.model()
    plan = ts.plan_training_set(env.chain, env.members)
    view = ts.anchor(env.chain, env.store, model, plan, sender=env.acct[9])
    assert view.total == 30 > 16
    assert dict(view.counts) == {env.community[n]: k for n, k in COUNTS.items()}
    assert view.root == plan.tree.root and view.members_cid is not None
    for cid in (env.cids["a"][0], env.cids["b"][6], env.cids["c"][2]):
        work = gw.work_by_content(env.chain, cid)
        assert work is not None
        proof = ts.prove(env.chain, env.store, model, work)
        assert proof.verified and proof.cid == cid
    stranger = gw.work_by_content(env.chain, env.forbidden[0])
    assert stranger is not None
    with pytest.raises(ts.NotMember):
        ts.prove(env.chain, env.store, model, stranger)


def test_the_share_is_paid_by_count_directly_and_through_the_pot(env: Env) -> None:
    model = env.model()
    ts.anchor(env.chain, env.store, model, ts.plan_training_set(env.chain, env.members), sender=env.acct[9])
    paid = 10**18 + 29  # total 30: a carry of paid % 30 = 9 wei waits for the next arrival
    ts.deposit(env.chain, model, Wei(paid), sender=env.acct[0])
    owed = {n: ts.owed_of(env.chain, model, env.community[n]) for n in COUNTS}
    assert owed == {n: paid // 30 * k for n, k in COUNTS.items()}
    assert sum(owed.values()) + 9 == paid
    pot = ts.pot_of(env.chain, model)
    assert gw.set_split(env.chain, model, (Recipient(env.acct[9], Ppm(500_000)), Recipient(pot, Ppm(500_000))),
                        sender=env.acct[9])
    gw.pay(env.chain, model, Wei(10**18), usage_ref=b"\1" * 32, usage_time=1, sender=env.acct[0])
    at_pot = gw.balance_of(env.chain, pot)
    assert at_pot > 0
    ts.sweep(env.chain, model, sender=env.acct[2])
    view = ts.training_set(env.chain, model)
    assert view.arrived == paid + at_pot
    before = env.chain.w3.eth.get_balance(env.treasury["b"])  # type: ignore[arg-type]
    got = ts.withdraw(env.chain, model, env.community["b"], sender=env.treasury["b"])
    assert got == view.distributed // 30 * 7
    gas = env.chain.w3.eth.get_balance(env.treasury["b"]) - before - got  # type: ignore[arg-type]
    assert gas <= 0  # the treasury received exactly `got`, less its own gas
    assert ts.withdraw(env.chain, model, env.community["b"], sender=env.treasury["b"]) == 0


@pytest.mark.parametrize("attack", ["other key", "again", "forbidden member", "non-treasury withdraws",
                                    "garbage member list"])
def test_attacks_are_refused(env: Env, attack: str) -> None:
    model = env.model()
    plan = ts.plan_training_set(env.chain, env.members)
    if attack == "forbidden member":
        with pytest.raises(InputError, match="forbids machine-learning use"):
            ts.plan_training_set(env.chain, [*env.members, env.forbidden[0]])
        return
    if attack == "other key":
        with pytest.raises(ContractRevert, match="TrainingSetsNotModelOwner"):
            ts.anchor(env.chain, env.store, model, plan, sender=env.acct[2])
        return
    if attack == "garbage member list":  # an owner who publishes something else: nothing provable, no crash
        garbage = env.store.put_bytes(b"\xff not a member list")
        calls.send(env.chain, ts.anchor_call(env.chain, model, plan, garbage), env.acct[9])
        with pytest.raises(ChainError, match="cannot be rebuilt"):
            ts.prove(env.chain, env.store, model, plan.members[0].work)
        return
    ts.anchor(env.chain, env.store, model, plan, sender=env.acct[9])
    if attack == "again":
        with pytest.raises(ContractRevert, match="TrainingSetsAlreadyAnchored"):
            ts.anchor(env.chain, env.store, model, ts.plan_training_set(env.chain, env.members[:5]), sender=env.acct[9])
    else:
        ts.deposit(env.chain, model, Wei(300), sender=env.acct[0])
        with pytest.raises(ContractRevert, match="TrainingSetsNotTreasury"):
            ts.withdraw(env.chain, model, env.community["a"], sender=env.acct[2])


def test_cli_anchor_and_prove_and_the_api_read(env: Env, anvil: Anvil, monkeypatch: pytest.MonkeyPatch) -> None:
    model = env.model()
    members = env.tmp / f"set-{model}.txt"
    members.write_text("# the training set\n" + "\n".join(env.members) + "\n")
    monkeypatch.setenv("HERITAGE_RPC_URL", anvil.url)
    runner = CliRunner()
    d = ["--data-dir", str(env.tmp), "--json"]

    def run(*args: str, code: int = 0) -> dict[str, Any]:
        result = runner.invoke(app, ["model", *args, *d])
        assert result.exit_code == code, result.output
        out: dict[str, Any] = json.loads(result.output.strip().splitlines()[-1]) if code == 0 else {}
        return out

    anchored = run("anchor", str(model), "--training-set", str(members), "--from", env.acct[9])
    assert anchored["total"] == 30
    work = int(gw.work_by_content(env.chain, env.cids["c"][1]) or 0)
    proven = run("prove", str(model), str(work))
    assert proven["verified"] is True and proven["cid"] == env.cids["c"][1]
    run("anchor", str(model), "--training-set", str(members), "--from", env.acct[9], code=2)  # once only

    settings = Settings(data_dir=env.tmp, deployments_dir=env.tmp / "deployments", rpc_url=anvil.url)
    with TestClient(create_app(settings)) as client:
        ok = client.get(f"/models/{model}/training-set/members/{work}")
        assert ok.status_code == 200, ok.text
        assert ok.json()["verified"] is True and ok.json()["proof"] == proven["proof"]
        stranger = int(gw.work_by_content(env.chain, env.forbidden[0]) or 0)
        for path, status in ((f"/models/{model}/training-set/members/{stranger}", 404),
                             (f"/models/{stranger}/training-set/members/{work}", 404),
                             (f"/models/{model}/training-set/members/0", 422),
                             (f"/models/{model}/training-set/members/{2**256}", 422)):
            r = client.get(path)
            assert r.status_code == status, (path, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")


def test_a_training_set_file_needs_cids(tmp_path: Path) -> None:
    from cli.commands.model import read_training_set

    good = tmp_path / "set.json"
    good.write_text(json.dumps({"training_set": ["bafk1", "bafk2"]}))
    assert read_training_set(good) == ["bafk1", "bafk2"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"training_set": [1, 2]}))
    with pytest.raises(InputError, match="list of CIDs"):
        read_training_set(bad)
    with pytest.raises(InputError, match="does not exist"):
        read_training_set(tmp_path / "missing")


def test_plan_refuses_unregistered_and_empty(env: Env) -> None:
    with pytest.raises(InputError, match="empty"):
        ts.plan_training_set(env.chain, [])
    with pytest.raises(InputError, match="no registered work"):
        ts.plan_training_set(env.chain, [env.store.put_bytes(b"never registered")])
    _ = CommunityId
