"""Training sets never read a work whose protocol forbids ML use, and say what they left out."""

from __future__ import annotations

import pytest

from core.errors import InputError
from ml.data.training import Source, read_allowed, training_set

WORKS = {
    "bafkopen1": Source("bafkopen1", ml_allowed=True, work_id=1),
    "bafkopen2": Source("bafkopen2", ml_allowed=True, work_id=2),
    "bafknoml": Source("bafknoml", ml_allowed=False, work_id=3),
    "bafksacred": Source("bafksacred", ml_allowed=True, restricted=True, work_id=4),
}


def test_forbidden_works_are_refused_before_anything_is_read() -> None:
    opened: list[str] = []

    def read(cid: str) -> bytes:
        opened.append(cid)
        return cid.encode()

    ts = training_set([*WORKS, "bafkopen1"], source=WORKS.__getitem__)
    assert ts.learned_from == ("bafkopen1", "bafkopen2")
    assert {(r.work_id, r.reason.split(" ")[0]) for r in ts.refused} == {(3, "the"), (4, "restricted")}
    assert [cid for cid, _ in read_allowed(ts, read)] == ["bafkopen1", "bafkopen2", "bafkopen1"]
    assert "bafknoml" not in opened and "bafksacred" not in opened


def test_nothing_allowed_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="all 2 are refused"):
        training_set(["bafknoml", "bafksacred"], source=WORKS.__getitem__)
