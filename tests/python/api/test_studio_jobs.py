"""The Studio's ML jobs through the API on a real anvil, with tiny models trained here in seconds
(HERITAGE_MODELS_DIR; the shipped folder pointed at an empty one): each job's happy path, its result
stored by CID with a manifest, a result registered as a derivative with the creator's own signature,
and every refusal (type, size, length, protocol, unknown job, missing model) named and queuing nothing."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from chain.sender import dev_account
from chain.signatures import sign
from ml import defaults
from tests.python.api.conftest import Api, make_settings
from tests.python.api.studio_models import HAN, tiny_models
from tests.python.ml.synthetic import INSTRUMENTS, SR, melody, one_thread


@pytest.fixture(scope="module")
def songs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    folder = tmp_path_factory.mktemp("models")
    with one_thread(), pytest.MonkeyPatch.context() as mp:
        abc = tiny_models(folder)
        mp.setenv("HERITAGE_MODELS_DIR", str(folder))
        mp.setattr(defaults, "SHIPPED_DIR", tmp_path_factory.mktemp("no-shipped-models"))
        yield abc


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, songs: list[str]) -> Iterator[Api]:
    settings = make_settings(tmp_path_factory.mktemp("studio"), api_job_max_seconds=12.0, api_job_max_bytes=1_500_000)
    with TestClient(create_app(settings)) as client:
        api = Api(client, [dev_account(i) for i in range(6)], 0)
        reg = api.state.chain.registry.functions
        sent = api.send(api.keys[0], reg.registerCommunity("Han singers", [api.keys[1].address], 1, api.keys[2].address))
        assert sent.status_code == 201, sent.text
        api.community = int(reg.communityCount().call())
        yield api


def wav(y: np.ndarray, sr: int = SR) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def register(api: Api, data: bytes, media: str, **protocol: Any) -> int:
    steward = api.keys[1]
    draft = api.heritage_draft(api.upload(data, media, "file"), steward.address, protocol={"floor_ppm": 10_000, **protocol})
    sig = "0x" + sign(draft["typed_data"], steward.key).hex()
    r = api.client.post("/works", json={"typed_data": draft["typed_data"], "signer": steward.address, "signature": sig})
    assert r.status_code == 201, r.text
    return int(r.json()["work_id"])


def finished(api: Api, job: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got: dict[str, Any] = api.client.get(f"/jobs/{job['job_id']}").json()
        if got["status"] not in ("queued", "running"):
            assert got["status"] == "done", got["error"]
            assert got["progress"] == 1.0 and got["stage"] == "done"
            return got["result"]  # type: ignore[no-any-return]
        assert 0.0 <= got["progress"] <= 1.0
        time.sleep(0.2)
    raise AssertionError(f"job {job['job_id']} did not finish in {timeout} s")


def start(api: Api, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.client.post(f"/jobs/{kind}", json=body)
    assert r.status_code == 202, r.text
    return finished(api, r.json())


def content(api: Api, cid: str) -> bytes:
    r = api.client.get(f"/content/{cid}")
    assert r.status_code == 200
    return bytes(r.content)


def register_result(api: Api, job_id: str, creator_index: int = 4) -> dict[str, Any]:
    """The result's draft, signed by the creator's own key and relayed: the new work."""
    creator = api.keys[creator_index]
    r = api.client.post(f"/jobs/{job_id}/drafts", json={"creator": creator.address})
    assert r.status_code == 200, r.text
    draft = r.json()
    sent = api.client.post("/transactions", json={"raw": api.sign_tx(creator, draft["transaction"])})
    assert sent.status_code == 201, sent.text
    return {**draft, "work_id": sent.json()["work_id"]}


def test_recognition_names_instruments_per_segment_and_silence_and_registers_with_one_signature(api: Api) -> None:
    gap = np.zeros(3 * SR, dtype=np.float32)
    audio = np.concatenate([melody("reed", seconds=3.0, seed=7), gap, melody("reed", seconds=4.0, seed=8)])
    work = register(api, wav(audio), "audio/wav")
    r = api.client.post("/jobs/recognition", json={"work_id": work, "top": 2})
    result = finished(api, r.json())
    segments = result["segments"]
    assert len(segments) == 3 and [len(s["top"]) for s in segments] == [2, 1, 2]
    assert {x["instrument"] for s in (segments[0], segments[2]) for x in s["top"]} == set(INSTRUMENTS)
    assert segments[1]["top"] == [{"instrument": "silence", "p": 1.0}]
    assert json.loads(content(api, result["outputs"]["report"]["cid"]))["segments"] == segments
    manifest = json.loads(content(api, result["manifest_cid"]))
    model = result["models"][0]
    assert manifest["models"][0]["cid"] == model["cid"] and not model["shipped"]
    assert content(api, model["cid"]) == defaults.default_model("recognition").read_bytes()
    assert manifest["inputs"][0]["work_id"] == work and manifest["outputs"]["report"] == result["outputs"]["report"]["cid"]

    done = register_result(api, r.json()["job_id"])
    assert done["parents"] == [{"work_id": work, "ppm": 200_000}]
    child = api.client.get(f"/works/{done['work_id']}").json()
    assert child["kind"] == "derivative" and child["parents"] == [work] and child["registrant"] == api.keys[4].address
    assert child["manifest"]["maker"]["model_cid"] == model["cid"] and child["content_cid"] == result["outputs"]["report"]["cid"]
    again = api.client.post(f"/jobs/{r.json()['job_id']}/drafts", json={"creator": api.keys[4].address})
    assert again.status_code == 409 and again.json()["code"] == "already-registered"


def test_classification_of_a_score_and_of_an_upload(api: Api, songs: list[str]) -> None:
    work = register(api, songs[0].encode(), "text/vnd.abc")
    by_score = start(api, "classification", {"work_id": work})
    dist = by_score["distributions"]["tradition"]
    assert set(dist) <= {*INSTRUMENTS, "silence"} and sum(dist.values()) == pytest.approx(1.0, abs=1e-5)
    upload = api.upload(wav(melody("pluck", seconds=4.0, seed=3)))
    r = api.client.post("/jobs/classification", json={"content_cid": upload})
    by_audio = finished(api, r.json())
    assert by_audio["inputs"] == [{"cid": upload, "work_id": None, "kind": "audio", "size": len(content(api, upload))}]
    refused = api.client.post(f"/jobs/{r.json()['job_id']}/drafts", json={"creator": api.keys[4].address})
    assert refused.status_code == 409 and refused.json()["code"] == "no-lineage"  # no registered work: nobody to credit


def test_transcription_writes_musicxml_and_midi(api: Api, songs: list[str]) -> None:
    from ml.omr.data import render_lines

    buf = io.BytesIO()
    Image.fromarray(render_lines(songs[1], width_px=768)[0].image).save(buf, format="PNG")
    work = register(api, buf.getvalue(), "image/png")
    r = api.client.post("/jobs/transcription", json={"work_id": work})
    result = finished(api, r.json())
    assert result["staves"] == 1 and result["notes"] >= 1
    assert b"score-partwise" in content(api, result["outputs"]["musicxml"]["cid"])
    assert content(api, result["outputs"]["midi"]["cid"]).startswith(b"MThd")

    # The creator's draft signed by another key (its own nonce): refused, nothing registered; then by the creator.
    draft = api.client.post(f"/jobs/{r.json()['job_id']}/drafts", json={"creator": api.keys[4].address}).json()
    thief = api.keys[5]
    stolen = {**draft["transaction"], "nonce": api.state.chain.w3.eth.get_transaction_count(thief.address, "pending")}
    count = api.client.get("/works", params={"limit": 1}).json()["total"]
    refused = api.client.post("/transactions", json={"raw": api.sign_tx(thief, stolen)})
    assert refused.status_code in (403, 409) and refused.json()["code"], refused.text
    assert api.client.get("/works", params={"limit": 1}).json()["total"] == count
    sent = api.client.post("/transactions", json={"raw": api.sign_tx(api.keys[4], draft["transaction"])})
    assert sent.status_code == 201, sent.text
    child = api.client.get(f"/works/{sent.json()['work_id']}").json()
    assert child["parents"] == [work] and child["manifest"]["renditions"] == {"audio/midi": result["outputs"]["midi"]["cid"]}


def test_generation_makes_midi_wav_pitch_and_metrics_and_credits_its_conditioning_work(api: Api, songs: list[str]) -> None:
    work = register(api, songs[2].encode(), "text/vnd.abc")
    body = {"tradition": HAN, "works": [work], "seed": 3, "seconds": 4, "audio_metrics": False}
    r = api.client.post("/jobs/generation", json=body)
    result = finished(api, r.json())
    assert content(api, result["outputs"]["midi"]["cid"]).startswith(b"MThd")
    assert content(api, result["outputs"]["wav"]["cid"]).startswith(b"RIFF")
    assert result["metrics"]["off_mode_share"] == 0.0 and result["seed"] == 3
    pitch = result["pitch"]
    assert pitch["grid"]["tradition"] == HAN and len(pitch["times_s"]) == len(pitch["cents"]) == len(pitch["degree"])
    assert any(c is not None for c in pitch["cents"])
    same = start(api, "generation", body)
    assert same["outputs"]["midi"]["cid"] == result["outputs"]["midi"]["cid"]  # the same seed, model and work: the same piece

    done = register_result(api, r.json()["job_id"], creator_index=5)
    child = api.client.get(f"/works/{done['work_id']}").json()
    maker = child["manifest"]["maker"]
    assert child["parents"] == [work] and maker["type"] == "model" and maker["seed"] == 3
    assert child["manifest"]["renditions"] == {"audio/wav": result["outputs"]["wav"]["cid"]}
    assert maker["metrics"]["off_mode_share"] == 0.0


@pytest.fixture(scope="module")
def refused_works(api: Api) -> dict[str, int]:
    audio = wav(melody("reed", seconds=4.0, seed=11))
    return {"no-ml": register(api, audio, "audio/wav", ml_allowed=False),
            "open-abc": register(api, b"X:1\nT:t\nM:2/4\nL:1/8\nK:C\nCDEF|GABc|\n", "text/vnd.abc")}


@pytest.mark.parametrize(("case", "status", "code"), [
    ("score-to-recognition", 415, "unsupported-input"),
    ("json-to-transcription", 415, "unsupported-input"),
    ("too-big", 413, "input-too-large"),
    ("too-long", 422, "input-too-long"),
    ("forbidden-by-id", 409, "protocol-forbids-ml"),
    ("forbidden-by-cid", 409, "protocol-forbids-ml"),
    ("forbidden-generation", 409, "protocol-forbids-ml"),
    ("unknown-work", 404, "unknown-work"),
    ("no-input", 400, "input-missing"),
    ("unknown-content", 404, "unknown-content"),
    ("unknown-tradition", 400, "unknown-tradition"),
])
def test_refusals_are_named_and_queue_nothing(api: Api, refused_works: dict[str, int], case: str, status: int, code: str) -> None:
    rng = np.random.default_rng(0)
    forbidden_cid = api.client.get(f"/works/{refused_works['no-ml']}").json()["content_cid"]
    kind, body = {
        "score-to-recognition": ("recognition", {"work_id": refused_works["open-abc"]}),
        "json-to-transcription": ("transcription", {"content_cid": api.upload(b'{"a": 1}', "application/json", "a.json")}),
        "too-big": ("recognition", {"content_cid": api.upload(rng.bytes(1_600_000), "audio/wav", "big.wav")}),
        "too-long": ("classification", {"content_cid": api.upload(wav(0.1 * rng.standard_normal(13 * 8000), 8000))}),
        "forbidden-by-id": ("recognition", {"work_id": refused_works["no-ml"]}),
        "forbidden-by-cid": ("classification", {"content_cid": forbidden_cid}),
        "forbidden-generation": ("generation", {"tradition": HAN, "works": [refused_works["open-abc"], refused_works["no-ml"]]}),
        "unknown-work": ("recognition", {"work_id": 10**6}),
        "no-input": ("transcription", {}),
        "unknown-content": ("recognition", {"content_cid": "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"}),
        "unknown-tradition": ("generation", {"tradition": "nowhere", "works": [refused_works["open-abc"]]}),
    }[case]
    before = len(api.state.jobs.list())
    r = api.client.post(f"/jobs/{kind}", json=body)
    assert r.status_code == status and r.json()["code"] == code, r.text
    assert r.json()["detail"] and len(api.state.jobs.list()) == before


def test_unknown_jobs_and_jobs_that_are_not_done(api: Api) -> None:
    assert api.client.get("/jobs/nope").json()["code"] == "unknown-job"
    r = api.client.post("/jobs/nope/drafts", json={"creator": api.keys[4].address})
    assert r.status_code == 404 and r.json()["code"] == "unknown-job"


def test_a_missing_model_is_named_and_says_how_to_get_one(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERITAGE_MODELS_DIR", str(tmp_path))
    listed = api.client.get("/studio/models").json()
    assert not listed["recognition"]["available"] and set(listed) == set(defaults.FILES)
    upload = api.upload(wav(melody("reed", seconds=4.0, seed=5)))
    for kind in ("recognition", "classification"):
        r = api.client.post(f"/jobs/{kind}", json={"content_cid": upload})
        assert r.status_code == 409 and r.json()["code"] == "no-model", r.text
        assert "HERITAGE_MODELS_DIR" in r.json()["detail"]


def test_models_are_loaded_once_per_file(songs: list[str]) -> None:
    from ml.recognition.model import load
    from ml.saved import cached

    path = defaults.default_model("recognition")
    assert cached(path, load) is cached(path, load)
