"""Reads: communities, works, lineage and the royalty route through it, payments, balances, audit,
content, metrics.

Everything but the audit and balances comes from the catalogue the event index holds; the
audit reads the chain and the store on purpose (it checks that they agree with the index).
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from web3 import Web3

from api.deps import State
from api.limits import UINT256_MAX
from api.models import (
    Balance,
    Community,
    CommunityPage,
    Health,
    Lineage,
    LineageEdge,
    LineageNode,
    Metrics,
    Payment,
    ProtocolOut,
    SplitOut,
    Work,
    WorkDetail,
    WorkPage,
)
from api.problems import Problem
from chain import gateway as gw
from chain import trainingsets as ts
from chain.audit import audit_work
from chain.routing import flow
from core.cid import from_text
from core.errors import ChainError, ContentStoreError, InputError
from core.manifest import from_bytes
from core.types import ETH, Cid
from economy.statements.community import credited_by_community

router = APIRouter(tags=["reads"])


def _cached(state: State, request: Request, render: Callable[[], BaseModel]) -> Response:
    """Answer from the rendered view of this URL at the current index block (see ApiState.view)."""
    key = request.url.path + "?" + request.url.query
    return Response(state.view(key, lambda: render().model_dump_json().encode()), media_type="application/json")
Offset = Annotated[int, Query(ge=0, description="Skip this many items.")]
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items.")]


@router.get("/health", response_model=Health, summary="The service, its chain and its index")
def health(state: State) -> Health:
    cat = state.catalogue()
    d = state.chain.deployment
    return Health(status="ok", chain_id=d.chain_id, block=int(state.chain.w3.eth.block_number), index_block=cat.last_block,
                  registry=d.registry, router=d.router, relayer=state.relayer, demo=state.demo)


@router.get("/communities", response_model=CommunityPage, summary="Communities and their stewards")
def communities(state: State, request: Request, offset: Offset = 0, limit: Limit = 50) -> Response:
    return _cached(state, request, lambda: _communities(state, offset, limit))


def _communities(state: State, offset: int, limit: int) -> CommunityPage:
    cat = state.catalogue()
    rows = sorted(cat.communities.values(), key=lambda c: c.community_id)
    return CommunityPage(total=len(rows), offset=offset, limit=limit, index_block=cat.last_block,
                         items=[Community(**vars(c)) for c in rows[offset: offset + limit]])


@router.get("/communities/{community_id}", response_model=Community, summary="One community")
def community(state: State, community_id: int) -> Community:
    return Community(**vars(state.catalogue().community(community_id)))


@router.get("/works", response_model=WorkPage, summary="The catalogue, filtered and paged")
def works(state: State, offset: Offset = 0, limit: Limit = 50,
          community: Annotated[int | None, Query(description="Works of, or descending from, this community.")] = None,
          kind: Annotated[str | None, Query(pattern="^(heritage|restricted|derivative)$")] = None,
          status: Annotated[str | None, Query(pattern="^(pending|active|restricted|rejected)$")] = None,
          *, request: Request) -> Response:
    return _cached(state, request, lambda: _works(state, offset, limit, community, kind, status))


def _works(state: State, offset: int, limit: int, community: int | None, kind: str | None, status: str | None) -> WorkPage:
    cat = state.catalogue()
    if community is not None:
        cat.community(community)
    rows = cat.select(community=community, kind=kind, status=status)
    return WorkPage(total=len(rows), offset=offset, limit=limit, index_block=cat.last_block,
                    items=[Work(**r.to_json()) for r in rows[offset: offset + limit]])


@router.get("/works/{work_id}", response_model=WorkDetail, summary="One work, its ancestors, communities and manifest")
def work(state: State, request: Request, work_id: int) -> Response:
    return _cached(state, request, lambda: _work(state, work_id))


def _work(state: State, work_id: int) -> WorkDetail:
    cat = state.catalogue()
    row = cat.work(work_id)
    manifest: dict[str, Any] | None = None
    if row.manifest_cid:
        try:
            manifest = from_bytes(b"".join(state.store.cat(Cid(row.manifest_cid)))).model_dump(mode="json")
        except (ContentStoreError, InputError):
            manifest = None  # the audit says why; the record itself is still worth showing
    return WorkDetail(**row.to_json(), ancestors=cat.ancestors(work_id), communities=sorted(cat.communities_of(work_id)),
                      manifest=manifest)


@router.get("/works/{work_id}/lineage", response_model=Lineage, summary="The lineage graph up to the heritage roots")
def lineage(state: State, request: Request, work_id: int) -> Response:
    return _cached(state, request, lambda: _lineage(state, work_id))


def _lineage(state: State, work_id: int) -> Lineage:
    cat = state.catalogue()
    ids = [work_id, *cat.ancestors(work_id)]
    nodes: list[LineageNode] = []
    edges: list[LineageEdge] = []
    for i in ids:
        w = cat.work(i)
        nodes.append(LineageNode(work_id=i, kind=w.kind, status=w.status, community_id=w.community_id,
                                 content_cid=w.content_cid, disputed=w.disputed, model_made=w.model_cid is not None))
        edges.extend(LineageEdge(child=i, parent=p, ppm=ppm) for p, ppm in zip(w.parents, w.parent_ppms, strict=True))
    return Lineage(work_id=work_id, nodes=nodes, edges=edges)


class RouteShareOut(BaseModel):
    work_id: int
    received_wei: str = Field(description="What the work receives of the payment, over every path (decimal wei).")
    kept_wei: str = Field(description="What it keeps after routing its parents' shares on (decimal wei).")


class CommunityCreditOut(BaseModel):
    community_id: int
    works: int = Field(description="The community's count of works in the training set.")
    received_wei: str = Field(description="What the community is owed of this payment through the set (decimal wei).")


class TrainingSetCreditOut(BaseModel):
    model: int = Field(description="A model in the lineage with an anchored training set.")
    kept_wei: str = Field(description="What the model keeps of the payment (decimal wei).")
    set_wei: str = Field(description="Of that, what its split routes to its training set's pot (decimal wei).")
    works: int = Field(description="Works in the training set.")
    communities: list[CommunityCreditOut] = Field(description="Each community of the set, paid pro rata to its count of "
                                                              "works (whole multiples of the set's total; the carry waits).")


class RouteOut(BaseModel):
    work_id: int
    amount_wei: str
    shares: list[RouteShareOut] = Field(description="The paid work first, then its ancestors as in its lineage; the kept "
                                                    "amounts add up to the payment, to the wei.")
    training_sets: list[TrainingSetCreditOut] = Field(
        default_factory=list, description="For each model in the lineage whose training set is anchored: the share of the "
                                          "payment its set receives, by community.")


@router.get("/works/{work_id}/route", response_model=RouteOut,
            summary="How a payment to a work is credited through its lineage, by the router's rule")
def royalty_route(state: State, request: Request, work_id: int,
                  amount_wei: Annotated[int, Query(gt=0, le=UINT256_MAX, description="The payment (wei); 1 ETH when "
                                                   "omitted.")] = 10**18) -> Response:
    return _cached(state, request, lambda: _route(state, work_id, amount_wei))


def _route(state: State, work_id: int, amount_wei: int) -> RouteOut:
    cat = state.catalogue()
    ids = [work_id, *cat.ancestors(work_id)]
    parents = {i: tuple(zip(cat.work(i).parents, cat.work(i).parent_ppms, strict=True)) for i in ids}
    shares = {s.work_id: s for s in flow(parents, work_id, amount_wei)}
    credits = [ts.set_credit(state.chain, i, shares[i].kept) for i in ids
               if i in shares and shares[i].kept and cat.work(i).model_cid is not None]
    return RouteOut(work_id=work_id, amount_wei=str(amount_wei),
                    shares=[RouteShareOut(work_id=i, received_wei=str(shares[i].received), kept_wei=str(shares[i].kept))
                            for i in ids if i in shares],
                    training_sets=[TrainingSetCreditOut(
                        model=c.model, kept_wei=str(c.kept), set_wei=str(c.pot), works=c.total,
                        communities=[CommunityCreditOut(community_id=k, works=n, received_wei=str(wei))
                                     for k, n, wei in c.communities]) for c in credits if c is not None])


@router.get("/works/{work_id}/protocol", response_model=list[ProtocolOut],
            summary="The cultural protocol of a heritage work, or of each heritage root of a derivative")
def protocol(state: State, work_id: int) -> list[ProtocolOut]:
    roots = state.catalogue().work(work_id).roots
    return [ProtocolOut(work_id=root, **gw.protocol_of(state.chain, root).as_dict()) for root in roots]


@router.get("/works/{work_id}/split", response_model=SplitOut, summary="Who receives a work's own share, in ppm")
def split(state: State, work_id: int) -> SplitOut:
    state.catalogue().work(work_id)
    rows = gw.split_of(state.chain, work_id)
    return SplitOut(work_id=work_id, recipients=[{"account": r.account, "ppm": int(r.ppm)} for r in rows])


@router.get("/works/{work_id}/payments", response_model=list[Payment], summary="Payments to a work, oldest first")
def payments(state: State, work_id: int) -> list[Payment]:
    state.catalogue().work(work_id)
    out = []
    for e in state.events(name="Paid", work_id=work_id):
        a: dict[str, Any] = e["args"]  # type: ignore[assignment]
        out.append(Payment(work_id=work_id, block=int(e["block"]), timestamp=int(e["timestamp"]),  # type: ignore[call-overload]
                           payer=a["payer"], token=a["token"], amount=str(a["amount"]),
                           usage_ref=a["usageRef"], usage_time=int(a["usageTime"]), tx=str(e["tx"])))
    return out


@router.get("/works/{work_id}/audit", summary="Audit one work from its content to the chain")
def audit(state: State, work_id: int) -> dict[str, Any]:
    state.catalogue().work(work_id)
    return audit_work(state.chain, state.store, work_id).to_json()


@router.get("/balances/{account}", response_model=Balance, summary="What an account can withdraw from the router")
def balance(state: State, account: str, token: Annotated[str, Query(description="ERC-20 address; ETH when omitted.")] = ETH) -> Balance:
    if not (Web3.is_address(account) and Web3.is_address(token)):
        raise Problem(400, "invalid-address", f"{account!r} or {token!r} is not an Ethereum address (0x and 40 hex digits)")
    acct, tok = Web3.to_checksum_address(account), Web3.to_checksum_address(token)
    wei = gw.balance_of(state.chain, acct, tok)
    return Balance(account=acct, token=tok, amount=str(wei))


@router.get("/content/{cid}", summary="Stored content, verified block by block against its CID",
            response_class=StreamingResponse, responses={200: {"content": {"application/octet-stream": {}}}})
def content(state: State, cid: str) -> StreamingResponse:
    try:
        from_text(cid)
    except (InputError, ValueError) as err:
        raise Problem(400, "invalid-cid", f"{cid!r} is not a CIDv1 in base32 ({err})") from err
    if not state.store.has(Cid(cid)):
        raise Problem(404, "unknown-content", f"no content {cid} in this store; upload it with POST /content")
    try:
        media = state.view(f"media-type:{cid}", lambda: _media_type(state, cid).encode()).decode()  # once per index block
    except ChainError:  # the node is down: the content needs no chain, only its media type does
        media = "application/octet-stream"
    blocks = state.store.cat(Cid(cid))
    first = next(blocks, b"")  # a corrupt first block is a clean error, not a broken stream

    def body() -> Iterator[bytes]:
        yield first
        yield from blocks

    return StreamingResponse(body(), media_type=media)


def _media_type(state: State, cid: str) -> str:
    cat = state.catalogue()
    for w in cat.works.values():
        if w.content_cid == cid and w.manifest_cid:
            try:
                m = from_bytes(b"".join(state.store.cat(Cid(w.manifest_cid))))
            except (ContentStoreError, InputError):
                break
            rec = getattr(m, "recording", None)
            if rec is not None and rec.media_type:
                return str(rec.media_type)
            title = getattr(m, "title", "")
            return mimetypes.guess_type(title)[0] or "application/octet-stream"
    return "application/octet-stream"


@router.get("/metrics", response_model=Metrics, summary="Catalogue and payment totals")
def metrics(state: State) -> Metrics:
    """Not cached per block like the other reads: the job counts change between blocks."""
    cat = state.catalogue()
    kinds: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for w in cat.works.values():
        kinds[w.kind] = kinds.get(w.kind, 0) + 1
        statuses[w.status] = statuses.get(w.status, 0) + 1
    paid_per_community: dict[str, int] = {}
    for w in cat.works.values():
        for c in cat.communities_of(w.work_id):
            paid_per_community[str(c)] = paid_per_community.get(str(c), 0) + w.paid_wei
    jobs = state.jobs.list()
    return Metrics(index_block=cat.last_block, communities=len(cat.communities), works=len(cat.works), by_kind=kinds,
                   by_status=statuses, payments=sum(w.payments for w in cat.works.values()),
                   paid_wei=str(sum(w.paid_wei for w in cat.works.values())),
                   paid_wei_by_community={k: str(v) for k, v in paid_per_community.items()},
                   credited_wei_by_community=_credited(state),
                   jobs={s: sum(1 for j in jobs if j.status == s) for s in ("queued", "running", "done", "failed", "interrupted")})


def _credited(state: State) -> dict[str, str]:
    """The treasuries' net credits (economy.statements.community), read from the router once per
    indexed block (`state.view`): a treasury's balance and its withdrawals only change with a block."""
    def render() -> bytes:
        return json.dumps({str(c): str(v) for c, v in credited_by_community(state.chain).items()}).encode()

    return dict(json.loads(state.view("credited-by-community", render)))
