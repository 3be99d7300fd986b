"""A trained model registered as a derivative of what it learned from, on a real anvil."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chain import gateway as gw
from chain.anvil import Anvil
from chain.audit import audit_work
from chain.catalogue import load
from chain.client import Chain
from chain.derive import Consent, DeriveRefused, ProtocolSource, protocol_sources, register_model
from chain.types import HeritageParams, Protocol, everything_to
from core.blockstore import ContentStore, open_store
from core.cid import from_text
from core.errors import InputError
from core.manifest import DerivativeManifest, ModelMaker, from_bytes
from core.types import ETH, PPM, Cid, CommunityId, WorkId
from ml.data.training import Source
from tests.python.chain.connected import connected

_fresh = itertools.count()


def protocol(*, consent: bool = False, ml: bool = True, floor: int = 100_000) -> tuple[Any, ...]:
    return (True, consent, True, ml, True, False, floor, 0, 1, 0)


class Env:
    def __init__(self, chain: Chain, store: ContentStore, tmp: Path) -> None:
        self.chain, self.store, self.tmp = chain, store, tmp
        self.acct = [str(a) for a in chain.w3.eth.accounts]
        self.reg = chain.registry.functions
        self.communities = {name: self.community(name) for name in ("open", "no-ml", "consent")}

    def community(self, name: str) -> CommunityId:
        self.chain.send(self.reg.registerCommunity(name, [self.acct[1]], 1, self.acct[3]), self.acct[0])
        return CommunityId(int(self.reg.communityCount().call()))

    def works(self, n: int, community: str = "open", **proto: Any) -> list[Cid]:
        """Register `n` new heritage works; their content CIDs."""
        cids = [self.store.put_bytes(f"X:{next(_fresh)}\nT:tune\nK:G\nGABc|\n".encode()) for _ in range(n)]
        batch = [HeritageParams(self.communities[community], from_text(c), b"", Protocol.from_abi(protocol(**proto)),
                                everything_to(self.acct[3])) for c in cids]
        gw.register_heritage_batch(self.chain, batch, sender=self.acct[1])
        return cids

    def work(self, cid: str) -> WorkId:
        return WorkId(int(self.reg.workByContent(from_text(cid)).call()))

    def unregistered(self, n: int) -> list[Cid]:
        return [self.store.put_bytes(f"corpus piece {next(_fresh)}".encode()) for _ in range(n)]

    def model_file(self) -> Path:
        path = self.tmp / f"model-{next(_fresh)}.pt"
        path.write_bytes(b"fake weights " + path.name.encode())
        return path

    def register(self, learned_from: list[Cid], model: Path | None = None, **kw: Any) -> Any:
        return register_model(self.chain, self.store, model_file=model or self.model_file(), architecture="dnn-hmm",
                              learned_from=learned_from, operator=self.acct[9], parameters={"epochs": 3}, seed=7,
                              metrics={"accuracy": 0.9}, **kw)

    def count(self) -> int:
        return int(self.reg.workCount().call())


@pytest.fixture(scope="module")
def env(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with connected(anvil, tmp_path_factory, "derive") as (chain, settings):
        yield Env(chain, open_store(settings), settings.data_dir)


def test_model_of_eleven_works_goes_through_parts_and_reruns_idempotently(env: Env) -> None:
    works = env.works(10, floor=1_000) + env.works(1, floor=15_000)  # ≈ 18,181 ppm each reaches every floor
    corpus = env.unregistered(2)
    model = env.model_file()
    result = env.register(works + corpus, model)

    assert result.model_work is not None and not result.pending and not result.existing
    assert result.unregistered == tuple(sorted(corpus))
    assert result.model_cid == env.store.put_file(model)
    assert env.work(result.model_cid) == result.model_work
    assert result.parts
    router = env.chain.router.functions
    for w in (result.model_work, *result.parts):
        parents, ppms = router.parentsOf(w).call()
        assert 1 <= len(parents) <= 8
        assert sum(ppms) == (PPM if w in result.parts else 200_000)
    ancestors = load(env.chain.index()).ancestors(result.model_work)
    assert {env.work(c) for c in works} <= set(ancestors)
    assert set(ancestors) == {env.work(c) for c in works} | set(result.parts)

    manifest = from_bytes(b"".join(env.store.cat(result.manifest_cid)))
    assert isinstance(manifest, DerivativeManifest) and isinstance(manifest.maker, ModelMaker)
    assert manifest.maker.inputs == tuple(sorted(works + corpus))
    assert manifest.maker.model_cid == result.model_cid == manifest.content_cid
    for w in (result.model_work, *result.parts):
        assert audit_work(env.chain, env.store, w).ok

    # A payment to the model credits the works' treasury its 20 %, less the parts' rounding dust.
    before = int(router.balanceOf(ETH, env.acct[3]).call())
    env.chain.send(router.pay(result.model_work, b"\1" * 32, 1), env.acct[0], value=10**18)
    credited = int(router.balanceOf(ETH, env.acct[3]).call()) - before
    assert 2 * 10**17 - len(works) <= credited <= 2 * 10**17

    count = env.count()
    again = env.register(works + corpus, model)
    assert env.count() == count
    assert again == dataclasses.replace(result, existing=True)


@pytest.mark.parametrize(("case", "error", "match"), [
    ("a work forbids ML", DeriveRefused, r"work \d+ .*does not allow machine-learning use"),
    ("below the floor", InputError, r"at least 150000 ppm, the floor of heritage work \d+"),
    ("nothing registered", InputError, r"register the source works first \(`heritage work register"),
])
def test_refusals_send_nothing(env: Env, case: str, error: type[Exception], match: str) -> None:
    setups: dict[str, Callable[[], tuple[list[Cid], dict[str, Any]]]] = {
        "a work forbids ML": lambda: (env.works(3) + env.works(1, "no-ml", ml=False), {}),
        "below the floor": lambda: (env.works(2, floor=150_000), {"upstream_ppm": 100_000}),
        "nothing registered": lambda: (env.unregistered(3), {}),
    }
    learned, kw = setups[case]()
    count = env.count()
    with pytest.raises(error, match=match):
        env.register(learned, **kw)
    assert env.count() == count


def test_consent_required_leaves_it_pending_and_a_rerun_finishes(env: Env) -> None:
    community = env.communities["consent"]
    direct = env.register(env.works(1, "consent", consent=True) + env.works(1))
    assert direct.pending and direct.model_work is not None and direct.parts == ()
    assert direct.awaiting == (Consent(direct.model_work, community),)

    # Ten consent works: seven are the model's direct parents, three go into a part, which must
    # be consented to before the model can name it.
    works = env.works(10, "consent", consent=True, floor=10_000)
    model = env.model_file()
    first = env.register(works, model)
    assert first.pending and first.model_work is None and len(first.parts) == 1
    (part,) = first.parts
    assert first.awaiting == (Consent(part, community),)
    env.chain.send(env.reg.approveDerivative(part, community), env.acct[1])

    second = env.register(works, model)
    assert second.model_work is not None and second.parts == (part,) and second.pending
    assert second.awaiting == (Consent(second.model_work, community),)
    env.chain.send(env.reg.approveDerivative(second.model_work, community), env.acct[1])
    assert env.register(works, model).pending is False


def test_protocol_sources_feed_the_training_set_filter(env: Env) -> None:
    (open_cid,), (no_ml,), (loose,) = env.works(1), env.works(1, "no-ml", ml=False), env.unregistered(1)
    sources = protocol_sources(env.chain, [open_cid, no_ml, loose])
    assert sources == (
        ProtocolSource(open_cid, work_id=env.work(open_cid)),
        ProtocolSource(no_ml, ml_allowed=False, work_id=env.work(no_ml)),
        ProtocolSource(loose),
    )
    assert Source(**dataclasses.asdict(sources[1])) == Source(no_ml, ml_allowed=False, work_id=env.work(no_ml))
