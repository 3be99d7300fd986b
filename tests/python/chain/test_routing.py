"""The royalty route in Python (chain/routing.py): the lineage's flow and the credits it gives.
The contracts are checked against it in test_contracts_on_anvil.py; the API answers it as
GET /works/{id}/route (tests/python/dashboard/test_client.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chain.routing import Node, flow, route
from core.types import PPM

# 10 ← 11 ← 13 → 12 → 10: work 10 is reached by two paths, as the router pays it.
DIAMOND = {13: ((11, 333_333), (12, 250_000)), 11: ((10, 100_001),), 12: ((10, 500_000),), 10: ()}


@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_flow_conserves_the_payment_to_the_wei_and_pays_a_shared_root_per_path(amount: int) -> None:
    shares = {s.work_id: s for s in flow(DIAMOND, 13, amount)}
    assert list(shares) == [13, 11, 10, 12]
    assert sum(s.kept for s in shares.values()) == amount
    assert shares[13].received == amount
    first, second = amount * 333_333 // PPM, amount * 250_000 // PPM
    assert (shares[11].received, shares[12].received) == (first, second)
    assert shares[10].received == first * 100_001 // PPM + second * 500_000 // PPM == shares[10].kept


def test_route_splits_each_arrival_on_its_own_as_the_router_does() -> None:
    nodes = {13: Node(parents=DIAMOND[13], split=(("creator", 600_000), ("label", 400_000))),
             11: Node(parents=DIAMOND[11], disputed=True), 12: Node(parents=DIAMOND[12], split=(("maker", PPM),)),
             10: Node(split=(("treasury", 999_999), ("singer", 1)))}
    amount = 1_000_000_000_006_315_995  # work 10's two arrivals round down apart to one wei less than their sum would
    kept = {s.work_id: s.kept for s in flow(DIAMOND, 13, amount)}
    arrivals = [amount * 333_333 // PPM * 100_001 // PPM, amount * 250_000 // PPM * 500_000 // PPM]
    credits = route(nodes, 13, amount)
    assert credits.total() == amount
    assert credits.escrow == {11: kept[11]}
    assert credits.balances["label"] == kept[13] * 400_000 // PPM
    assert credits.balances["creator"] == kept[13] - credits.balances["label"]
    assert credits.balances["singer"] == sum(a // PPM for a in arrivals) != kept[10] // PPM
    assert credits.balances["treasury"] + credits.balances["singer"] == kept[10]


def test_a_works_own_share_splits_as_the_router_does_and_a_set_pays_by_counts() -> None:
    from chain.routing import split_own
    from chain.trainingsets import community_shares
    from core.types import CommunityId

    # recipients j >= 1 get floor(own × ppm / PPM), recipient 0 the rest: the parts add up to the wei
    assert split_own(10, [("op", 500_000), ("pot", 333_333), ("x", 166_667)]) == [("op", 6), ("pot", 3), ("x", 1)]
    assert sum(p for _, p in split_own(10**18 + 7, [("a", 1), ("b", 999_999)])) == 10**18 + 7
    # a set pays in whole multiples of its total; the carry waits for the next arrival
    a, b = CommunityId(1), CommunityId(2)
    assert community_shares(4 * 10**16, [(a, 2), (b, 1)]) == [(a, 26_666_666_666_666_666), (b, 13_333_333_333_333_333)]
    assert community_shares(2, [(a, 2), (b, 1)]) == [(a, 0), (b, 0)]
    assert community_shares(10, []) == []
