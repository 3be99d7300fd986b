"""The Studio page, run by Streamlit's AppTest against `heritage api` on its own anvil with tiny
models (HERITAGE_MODELS_DIR): make a piece conditioned on a registered song, follow the job, listen,
see the pitch on the grid and the metrics, and register it with the creator's one signature — the
new work credits the song. And what the page says when a model is missing or a work forbids ML use."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import soundfile as sf  # type: ignore[import-untyped]

from tests.python.api.studio_models import tiny_models
from tests.python.dashboard.services import heritage_api
from tests.python.dashboard.test_wallet_pages import page, say, sign_tx, texts
from tests.python.dashboard.wallet_services import KEYS, community, signed
from tests.python.ml.synthetic import SR, melody, one_thread

STEWARD, TREASURY, CREATOR = KEYS[1], KEYS[2], KEYS[4]


@contextmanager
def serve_studio(root: Path) -> Iterator[tuple[str, list[str]]]:
    """`heritage api` over `root`/data whose models are the tiny ones in `root`/models; its URL and the
    ABC songs the generator learned from."""
    with one_thread():
        songs = tiny_models(root / "models")
    with heritage_api(root, env={"HERITAGE_MODELS_DIR": str(root / "models")}) as url:
        yield url, songs


@pytest.fixture(scope="module")
def studio_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """`heritage api` over a new data dir whose models are the tiny ones; the ABC songs the generator learned from."""
    with serve_studio(tmp_path_factory.mktemp("studio-page")) as served:
        yield served


def song(http: httpx.Client, community_id: int, abc: str, **protocol: object) -> int:
    cid = http.post("/content", files={"file": ("song.abc", abc.encode(), "text/vnd.abc")}).json()["cid"]
    draft = http.post("/works/drafts", json={"community_id": community_id, "steward": STEWARD.address, "content_cid": cid,
                                             "title": "A Han song", "protocol": {"floor_ppm": 10_000, **protocol}}).json()
    r = http.post("/works", json=signed(draft, STEWARD))
    assert r.status_code == 201, r.text
    return int(r.json()["work_id"])


@pytest.fixture(scope="module")
def works(studio_api: tuple[str, list[str]]) -> dict[str, int]:
    url, songs = studio_api
    with httpx.Client(base_url=url, timeout=60) as http:
        c = community(http, steward=STEWARD, treasury=TREASURY)
        return {"open": song(http, c, songs[0]), "no-ml": song(http, c, songs[1], ml_allowed=False)}


def test_make_a_piece_listen_and_register_it_with_one_signature(studio_api: tuple[str, list[str]], works: dict[str, int],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    url = studio_api[0]
    at = say(page(url, monkeypatch, "views/studio.py"), "studio", CREATOR)
    assert not at.exception and "Model: `generation-conditioned.pt` (trained here" in texts(at)
    at.selectbox(key="piece-tradition").select(next(o for o in at.selectbox(key="piece-tradition").options if "Chinese Han" in o))
    at.multiselect(key="piece-works").select(next(o for o in at.multiselect(key="piece-works").options
                                                  if o.startswith(f"#{works['open']} ")))
    at.slider[0].set_value(4)
    at = at.button[0].click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("audio")) == 1 and "Pitch against the grid" in texts(at), (texts(at), [e.value for e in at.error])
    assert any(d.value["metric"].eq("off_mode_share").any() for d in at.dataframe)
    at.text_input(key="studio-title").input("My first Studio piece")
    at = at.button[-1].click().run()
    assert "Register your derivative «My first Studio piece»" in at.session_state["studio:pending"].summary
    at = say(at, "studio", CREATOR, result=sign_tx(at, "studio", CREATOR))
    assert not at.exception and not at.error, [e.value for e in at.error]
    new = int(next(line for line in texts(at).split("\n") if "Your result is work" in line).split("#")[1].split("*")[0])
    with httpx.Client(base_url=url) as http:
        child = http.get(f"/works/{new}").json()
    assert child["parents"] == [works["open"]] and child["registrant"] == CREATOR.address
    assert child["manifest"]["maker"]["type"] == "model"
    assert "studio:pending" not in at.session_state  # cleared once relayed


def test_a_work_that_forbids_ml_use_is_refused_before_anything_runs(studio_api: tuple[str, list[str]], works: dict[str, int],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    at = say(page(studio_api[0], monkeypatch, "views/studio.py"), "studio", CREATOR)
    at.selectbox(key="piece-tradition").select(next(o for o in at.selectbox(key="piece-tradition").options if "Chinese Han" in o))
    at.multiselect(key="piece-works").select(next(o for o in at.multiselect(key="piece-works").options
                                                  if o.startswith(f"#{works['no-ml']} ")))
    at = at.button[0].click().run()
    assert "forbids machine-learning use" in " ".join(e.value for e in at.error)
    assert "studio:job" not in at.session_state


def test_recognition_of_an_uploaded_recording_shows_instruments_per_segment(studio_api: tuple[str, list[str]],
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    at = page(studio_api[0], monkeypatch, "views/studio.py")
    at = at.radio(key="studio-kind").set_value("recognition").run()
    assert "Model: `timbre-dnn-hmm.pt`" in texts(at)
    buf = io.BytesIO()
    sf.write(buf, melody("reed", seconds=6.5, seed=2), SR, format="WAV")
    with httpx.Client(base_url=studio_api[0], timeout=60) as http:  # AppTest cannot fill a file_uploader: the page's two calls
        cid = http.post("/content", files={"file": ("r.wav", buf.getvalue(), "audio/wav")}).json()["cid"]
        job = http.post("/jobs/recognition", json={"content_cid": cid}).json()
    at.session_state["studio:job"] = job["job_id"]
    at = at.run(timeout=60)
    assert not at.exception and "Instruments per 3-s segment" in texts(at)
    assert len(at.dataframe[0].value) == 2


def test_a_missing_model_says_how_to_get_one() -> None:
    from dashboard.studio import model_words

    ready, line = model_words({"omr": {"available": False}}, "transcription")
    assert not ready and "models/" in line
    ready, line = model_words({"omr": {"available": True, "file": "omr-seed.pt", "shipped": True, "size": 2_000_000}},
                              "transcription")
    assert ready and "`omr-seed.pt` (shipped default, 2.0 MB)" in line
