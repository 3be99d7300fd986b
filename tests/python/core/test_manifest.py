"""Manifests: canonical bytes (same manifest, same CID), strict fields, clear errors."""

from __future__ import annotations

import json

import pytest

from core.cid import bytes_cid
from core.errors import InputError
from core.manifest import (
    DerivativeManifest,
    HeritageManifest,
    Label,
    ModelMaker,
    Parent,
    PersonMaker,
    Recording,
    from_bytes,
    make,
    to_bytes,
)

CONTENT = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
MODEL = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def heritage(**overrides: object) -> HeritageManifest:
    fields: dict[str, object] = {
        "title": "Xiao bai cai", "content_cid": CONTENT, "community": "Hebei folk singers",
        "tradition": "Han Chinese folk song", "region": "Hebei", "instruments": ("voice",),
        "recording": Recording(place="Baoding", recorded_by="Essen folksong collection"),
        "labels": (Label(id="TK Attribution"),),
    }
    fields.update(overrides)
    return HeritageManifest(**fields)  # type: ignore[arg-type]


def test_to_bytes_is_canonical_and_round_trips() -> None:
    m = heritage()
    data = to_bytes(m)
    assert data == to_bytes(heritage())
    canonical = json.dumps(json.loads(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert data == canonical.encode()
    assert list(json.loads(data)) == sorted(json.loads(data))
    assert from_bytes(data) == m
    assert bytes_cid(data) == bytes_cid(to_bytes(from_bytes(data)))


def test_a_different_field_gives_a_different_cid() -> None:
    assert bytes_cid(to_bytes(heritage())) != bytes_cid(to_bytes(heritage(region="Shaanxi")))


def test_derivative_by_a_model_round_trips() -> None:
    m = DerivativeManifest(
        title="Air", content_cid=CONTENT,
        maker=ModelMaker(model_cid=MODEL, architecture="markov-abc-1", seed=7, parameters={"max_notes": 48},
                         inputs=(CONTENT,), metrics={"modal_error_cents": 4.2}),
        parents=(Parent(work_id=3, ppm=200_000), Parent(work_id=4, ppm=100_000)),
    )
    back = from_bytes(to_bytes(m))
    assert isinstance(back, DerivativeManifest) and isinstance(back.maker, ModelMaker)
    assert back.maker.seed == 7 and back.maker.parameters == {"max_notes": 48}
    assert back == m


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"parents": ({"work_id": 1, "ppm": 1}, {"work_id": 1, "ppm": 2})}, "listed twice"),
        ({"parents": ({"work_id": 1, "ppm": 700_000}, {"work_id": 2, "ppm": 400_000})}, "more than the whole"),
        ({"parents": ()}, "parents"),
        ({"parents": ({"work_id": 0, "ppm": 1},)}, "parents.0.work_id"),
        ({"maker": {"type": "model", "model_cid": "Qm-not-v1", "architecture": "x"}}, "model_cid"),
        ({"maker": {"type": "robot"}}, "maker"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_make_refuses_bad_derivatives_naming_the_field(fields: dict[str, object], problem: str) -> None:
    base: dict[str, object] = {"title": "x", "content_cid": CONTENT, "maker": {"type": "person"},
                               "parents": ({"work_id": 1, "ppm": 1},)}
    with pytest.raises(InputError, match=problem):
        make(DerivativeManifest, **{**base, **fields})


def test_person_maker_address_is_checked() -> None:
    with pytest.raises(InputError, match="address"):
        make(DerivativeManifest, title="x", content_cid=CONTENT, maker={"type": "person", "address": "0x12"},
             parents=({"work_id": 1, "ppm": 1},))
    assert PersonMaker(address="0x" + "ab" * 20).address


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "neither"),
        (b'{"kind": "song"}', "neither"),
        (b'{"kind": "heritage", "title": "t"}', "content_cid"),
    ],
)
def test_from_bytes_explains_what_is_wrong(data: bytes, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        from_bytes(data)
