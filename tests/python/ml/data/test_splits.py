"""Splits: grouped, stratified, deterministic, identified by their members."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InputError
from ml.data.corpora import essen
from ml.data.splits import split

Item = tuple[str, str, str]  # (label, group, cid)


def _split(items: list[Item], seed: int = 0) -> object:
    return split(items, label=lambda x: x[0], group=lambda x: x[1], cid=lambda x: x[2], seed=seed)


items_st = st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from([f"g{i}" for i in range(30)]),
                              st.sampled_from([f"c{i}" for i in range(60)])), min_size=1, max_size=200)


@given(items_st)
def test_no_group_or_cid_in_two_splits_and_nothing_lost(items: list[Item]) -> None:
    s = split(items, label=lambda x: x[0], group=lambda x: x[1], cid=lambda x: x[2])
    parts = s.parts()
    assert sorted(x for p in parts.values() for x in p) == sorted(items)
    for key in (1, 2):
        owners: dict[str, set[str]] = {}
        for name, part in parts.items():
            for x in part:
                owners.setdefault(x[key], set()).add(name)
        assert all(len(o) == 1 for o in owners.values())


def test_han_songs_stratified_by_province_and_deterministic() -> None:
    han = essen(("Chinese Han",))
    s = split(han, label=lambda p: p.province or "?", group=lambda p: p.piece_id, cid=lambda p: p.cid)
    n = len(han)
    assert abs(len(s.train) / n - 0.70) < 0.02 and abs(len(s.test) / n - 0.15) < 0.02
    per = {name: Counter(p.province for p in part) for name, part in s.parts().items()}
    total = Counter(p.province for p in han)
    for province, count in total.items():
        if count >= 40:
            assert abs(per["train"][province] / count - 0.70) < 0.08, province
    shuffled = han[:]
    random.Random(1).shuffle(shuffled)
    again = split(shuffled, label=lambda p: p.province or "?", group=lambda p: p.piece_id, cid=lambda p: p.cid)
    assert again.split_id == s.split_id and {p.cid for p in again.test} == {p.cid for p in s.test}
    other = split(han, label=lambda p: p.province or "?", group=lambda p: p.piece_id, cid=lambda p: p.cid, seed=1)
    assert other.split_id != s.split_id


def test_split_id_changes_with_the_members() -> None:
    items = [("a", f"g{i}", f"c{i}") for i in range(40)]
    base = split(items, label=lambda x: x[0], group=lambda x: x[1], cid=lambda x: x[2])
    fewer = split(items[:-1], label=lambda x: x[0], group=lambda x: x[1], cid=lambda x: x[2])
    assert base.split_id != fewer.split_id


@pytest.mark.parametrize(("items", "fractions", "message"), [
    ([], (0.7, 0.15, 0.15), "nothing to split"),
    ([("a", "g", "c")], (0.7, 0.2, 0.2), "sum to 1"),
    ([("a", "g", "c")], (1.1, -0.05, -0.05), "non-negative"),
])
def test_bad_input(items: list[Item], fractions: tuple[float, float, float], message: str) -> None:
    with pytest.raises(InputError, match=message):
        split(items, label=lambda x: x[0], group=lambda x: x[1], cid=lambda x: x[2], fractions=fractions)
