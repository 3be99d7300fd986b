"""GET /works/{id}/visual over a real anvil: a registered recording seen every way, measured
against 12-TET or a tradition's grid, cached by CID; scores, MIDI, restricted works, unknown works
and traditions refused with their problem codes; GET /visual/traditions."""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]

from chain.signatures import sign
from ml.tradition import load_tradition, traditions
from tests.python.api.conftest import Api

RATE = 16_000


def wav(hz: float, seconds: float = 1.5) -> bytes:
    """A sine at `hz` then half a second of silence, 16-bit mono WAV at 16 kHz."""
    t = np.arange(int(seconds * RATE)) / RATE
    y = np.concatenate([0.4 * np.sin(2 * np.pi * hz * t), np.zeros(RATE // 2)])
    buf = io.BytesIO()
    sf.write(buf, y, RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def register(api: Api, data: bytes, media: str, name: str) -> int:
    """A heritage work with this content, signed by the community's steward; its id."""
    steward = api.keys[1]
    draft = api.heritage_draft(api.upload(data, media, name), steward.address, media_type=media)
    body = {"typed_data": draft["typed_data"], "signer": steward.address,
            "signature": "0x" + sign(draft["typed_data"], steward.key).hex()}
    r = api.client.post("/works", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["work_id"])


@pytest.fixture(scope="module")
def tone(api: Api) -> int:
    return register(api, wav(330.0), "audio/wav", "e4.wav")


def median(values: list[Any]) -> float:
    return float(np.median([v for v in values if v is not None]))


def test_a_recording_is_seen_every_way_and_cached_by_cid(api: Api, tone: int) -> None:
    r = api.client.get(f"/works/{tone}/visual", params={"columns": 120})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["cached"], got["source_rate"], got["sample_rate"], got["duration_s"]) == (False, RATE, 22050, 2.0)
    for series in ("waveform", "spectrogram", "pitch", "bands", "fractal"):
        assert 0 < len(got[series]["times_s"]) <= 120, series
    assert max(got["waveform"]["maximum"]) == pytest.approx(0.4, abs=0.01)
    spec = got["spectrogram"]
    assert len(spec["db"]) == len(spec["mel_hz"]) and all(len(row) == len(spec["times_s"]) for row in spec["db"])
    assert len(got["bands"]["db"]) == len(got["bands"]["bands"]) == 8
    pitch = got["pitch"]
    assert median(pitch["f0_hz"]) == pytest.approx(330.0, rel=0.01)
    assert pitch["f0_hz"][-1] is None and pitch["cents"][-1] is None and pitch["deviation_cents"][-1] is None
    grid = got["grid"]
    assert (grid["tradition"], grid["tonic_hz"], len(grid["degrees"])) == (None, 440.0, 12)
    # 330 Hz is a just fourth below A4 (−498 cents), i.e. a just fifth above A3: 12-TET's degree 5, 2 cents flat of it
    assert median(pitch["cents"]) == pytest.approx(-498.0, abs=8)
    assert abs(median(pitch["deviation_cents"])) < 8 and grid["degrees"][median_degree(pitch)]["name"] == "5"
    assert len(got["fractal"]["katz"]) == len(got["fractal"]["higuchi"]) == len(got["fractal"]["times_s"])
    assert all(v is None or 1.0 <= v <= 2.2 for v in got["fractal"]["higuchi"])

    cache = list((api.state.settings.data_dir / "visual").glob(f"{got['content_cid']}.c120.*.json"))
    assert len(cache) == 1
    again = api.client.get(f"/works/{tone}/visual", params={"columns": 120}).json()
    assert again["cached"] is True and again["pitch"] == pitch and again["spectrogram"] == spec


def median_degree(pitch: dict[str, Any]) -> int:
    return int(np.median([d for d in pitch["degree"] if d is not None]))


def test_a_tonic_and_a_traditions_grid_are_measured_from_the_cached_track(api: Api, tone: int) -> None:
    at_tonic = api.client.get(f"/works/{tone}/visual", params={"columns": 120, "tonic_hz": 330.0}).json()
    assert at_tonic["cached"] is True and abs(median(at_tonic["pitch"]["cents"])) < 8
    tradition = load_tradition("javanese_slendro")
    r = api.client.get(f"/works/{tone}/visual", params={"columns": 120, "tradition": "javanese_slendro"})
    assert r.status_code == 200, r.text
    grid = r.json()["grid"]
    assert grid["tradition"] == "javanese_slendro" and grid["tonic_hz"] == tradition.tonic_hz
    assert [d["cents"] for d in grid["degrees"]] == [d.cents for d in tradition.degrees]
    assert grid["period_cents"] == tradition.period_cents
    pitch = r.json()["pitch"]
    voiced = [(c, d) for c, d in zip(pitch["cents"], pitch["deviation_cents"], strict=True) if c is not None]
    expected = tradition.deviations([c for c, _ in voiced])
    assert [d for _, d in voiced] == pytest.approx(expected, abs=0.11)  # the answer rounds to 0.1 cent


def test_the_traditions_the_visualisation_draws(api: Api) -> None:
    listed = api.client.get("/visual/traditions").json()
    assert [t["tradition"] for t in listed] == traditions()
    assert all(t["degrees"][0]["cents"] == 0 for t in listed)


@pytest.mark.parametrize(("make", "params", "status", "code", "says"), [
    ("midi", {}, 415, "not-audio", "a MIDI file"),
    ("abc", {}, 415, "not-audio", "an ABC score"),
    ("restricted", {}, 409, "work-restricted", "restricted (secret/sacred)"),
    ("unknown", {}, 404, "unknown-work", "no work"),
    ("tone", {"tradition": "no_such_tradition"}, 400, "unknown-tradition", "javanese_slendro"),
    ("tone", {"tonic_hz": 0}, 422, "invalid-request", "tonic_hz"),
    ("tone", {"columns": 5000}, 422, "invalid-request", "columns"),
])
def test_what_cannot_be_shown_is_refused_with_its_code(api: Api, tone: int, make: str, params: dict[str, Any], status: int,
                                                      code: str, says: str) -> None:
    if make == "midi":
        work = register(api, b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0" + os.urandom(40), "audio/midi", "air.mid")
    elif make == "abc":
        work = register(api, b"X:1\nT:a tune\nK:G\nGABc|d2d2|]\n" + os.urandom(8).hex().encode(), "text/vnd.abc", "tune.abc")
    elif make == "restricted":
        api.state.chain.send(api.state.chain.registry.functions.registerRestrictedWork(api.community, os.urandom(32), b"", 0, 1, []),
                             api.keys[1].address)
        api.state.catalogue(fresh=True)
        work = int(api.state.chain.registry.functions.workCount().call())
    else:
        work = 10_000 if make == "unknown" else tone
    r = api.client.get(f"/works/{work}/visual", params=params)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert r.headers["content-type"] == "application/problem+json" and says in r.json()["detail"]
