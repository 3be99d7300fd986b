"""Every page, run by Streamlit's AppTest against the running API: what it shows is what the API says."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.ui import eth
from tests.python.dashboard.conftest import Service
from tests.python.dashboard.services import free_port, tone_wav

APP = Path(__file__).resolve().parents[3] / "dashboard" / "app.py"
PAGES = ["views/overview.py", "views/provenance.py", "views/catalogue.py", "views/simulation.py"]
Open = Callable[[str], AppTest]


def texts(at: AppTest) -> str:
    """Every markdown, caption and header of the run, as one string."""
    parts = [e.value for kind in (at.title, at.header, at.subheader, at.markdown, at.caption) for e in kind]
    return "\n".join(str(p) for p in parts)


def table2(at: AppTest) -> pd.DataFrame | None:
    """Table 2 of the run shown (metrics × regimes), if the page shows one."""
    return next((d.value for d in at.dataframe if "median settlement days" in d.value.index), None)


def elements(at: AppTest, kind: str) -> list[Any]:
    return list(at.get(kind))


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.fixture()
def open_page(api_url: str, monkeypatch: pytest.MonkeyPatch) -> Open:
    """Run the app, then switch to `page` (a path relative to dashboard/app.py) and run it."""
    monkeypatch.setenv("HERITAGE_API_URL", api_url)

    def open_(page: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60).run()
        if page != PAGES[0]:
            at.switch_page(page).run()
        return at

    return open_


def test_overview_shows_the_catalogue_the_api_reports(open_page: Open, http: httpx.Client, service: Service) -> None:
    at = ok(open_page(PAGES[0]))
    metrics = http.get("/metrics").json()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Works"] == str(metrics["works"])
    assert shown["Communities"] == str(metrics["communities"])
    assert shown["Derivatives"] == str(metrics["by_kind"]["derivative"])
    communities = at.dataframe[0].value
    assert sorted(communities["community"]) == sorted(c["name"] for c in http.get("/communities").json()["items"])
    # Net, after routing: each treasury's credits as the router holds them (the demo paid and withdrew).
    credited = metrics["credited_wei_by_community"]
    assert credited and any(int(v) > 0 for v in credited.values())
    for _, row in communities.iterrows():
        assert row["credited, net (ETH)"] == eth(credited.get(str(row["id"]), "0"))
    assert '"field": "community"' in elements(at, "vega_lite_chart")[0].proto.spec, "no payments chart"


def test_overview_shows_the_latest_simulation(open_page: Open, service: Service) -> None:
    at = ok(open_page(PAGES[0]))
    assert f"(job `{service.job_id}`)" in texts(at)
    table = table2(at)
    assert table is not None and list(table.columns) == ["archive", "unconditioned", "ours"]
    latency = at.dataframe[1].value.set_index("regime")
    assert latency.loc["archive", "median (days)"] == table.loc["median settlement days", "archive"]
    specs = [e.proto.spec for e in elements(at, "vega_lite_chart")]
    for index in ("Theil T", "Gini", "Jain"):
        assert any(f'"{index}"' in spec and '"line"' in spec for spec in specs), f"no line chart of {index}"
    assert elements(at, "image"), "no latency plot"


def test_provenance_draws_the_lineage_edges_with_their_shares(open_page: Open, http: httpx.Client, service: Service) -> None:
    at = open_page(PAGES[1])
    at.selectbox(key="provenance_work").set_value(service.midi_work).run()
    ok(at)
    dot = elements(at, "graphviz_chart")[0].proto.spec
    lineage = http.get(f"/works/{service.midi_work}/lineage").json()
    assert len(lineage["edges"]) >= 3
    for edge in lineage["edges"]:
        assert f'w{edge["child"]} -> w{edge["parent"]} [label="' in dot
        assert f'({edge["ppm"]:,} ppm)' in dot
    for n in lineage["nodes"]:
        assert f'w{n["work_id"]} [label="#{n["work_id"]}\\n{n["kind"]} · {n["status"]}' in dot
    assert "audit passed" in dot and "pending" in dot
    checks = at.dataframe[0].value
    audit = http.get(f"/works/{service.midi_work}/audit").json()
    assert list(checks["check"]) == [c["check"] for c in audit["checks"]]
    route = at.dataframe[1].value
    assert len(route) == len(lineage["nodes"]) and route["receives (ETH)"].iloc[0] == "1"


def test_provenance_opens_the_work_named_in_the_url(api_url: str, monkeypatch: pytest.MonkeyPatch, service: Service) -> None:
    monkeypatch.setenv("HERITAGE_API_URL", api_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGES[1])
    at.query_params["work"] = str(service.audio_work)
    ok(at.run())
    assert at.header[0].value.startswith(f"#{service.audio_work} A test tone")
    assert "digraph" in elements(at, "graphviz_chart")[0].proto.spec


def test_catalogue_filters_and_pages(open_page: Open, http: httpx.Client) -> None:
    at = open_page(PAGES[2])
    at.selectbox(key="catalogue_kind").set_value("derivative").run()
    ok(at)
    table = at.dataframe[0].value
    expected = http.get("/works", params={"kind": "derivative"}).json()
    assert set(table["kind"]) == {"derivative"} and len(table) == expected["total"]
    at.selectbox(key="catalogue_kind").set_value("any").run()
    at.selectbox(key="catalogue_size").set_value(10).run()
    at.number_input(key="catalogue_page").set_value(2).run()
    ok(at)
    second = http.get("/works", params={"offset": 10, "limit": 10}).json()["items"]
    assert list(at.dataframe[0].value["id"]) == [w["work_id"] for w in second]


def test_catalogue_plays_audio_shows_scores_and_offers_midi(open_page: Open, service: Service) -> None:
    at = open_page(PAGES[2])
    at.selectbox(key="catalogue_size").set_value(100).run()
    at.selectbox(key="catalogue_work").set_value(service.audio_work).run()
    ok(at)
    audio = elements(at, "audio")
    assert len(audio) == 1 and audio[0].proto.url.endswith(".wav")
    assert "audio/wav" in texts(at)
    at.selectbox(key="catalogue_work").set_value(service.midi_work).run()
    ok(at)
    assert not elements(at, "audio")
    assert any("does not play in the browser" in i.value for i in at.info)
    assert elements(at, "download_button")
    at.selectbox(key="catalogue_work").set_value(1).run()
    ok(at)
    assert at.code[0].value.startswith("X:")


def test_simulation_shows_a_finished_run(open_page: Open, service: Service) -> None:
    at = open_page(PAGES[3])
    at.selectbox(key="simulation_job").set_value(service.job_id).run()
    ok(at)
    table = table2(at)
    assert table is not None and list(table.columns) == ["archive", "unconditioned", "ours"]
    assert len(elements(at, "image")) >= 3  # latency, indices per epoch, exposure per community
    assert {m.label for m in at.metric} >= {"Communities", "Works", "Run time"}


def test_simulation_form_starts_a_run_and_follows_it_to_the_end(open_page: Open, http: httpx.Client) -> None:
    at = open_page(PAGES[3])
    before = {j["job_id"] for j in http.get("/jobs").json()}
    at.text_input[0].input("from the form")
    for label, value in (("Listeners", 10), ("Days of listening", 3), ("Warm-up days", 1), ("Communities", 2),
                         ("Works per community", 3)):
        next(n for n in at.number_input if n.label == label).set_value(value)
    at.button[0].click().run()
    ok(at)
    started = [j for j in http.get("/jobs").json() if j["job_id"] not in before]
    assert len(started) == 1 and started[0]["params"]["listeners"]["count"] == 10
    assert started[0]["params"]["name"] == "from the form"
    seen_progress, deadline = bool(at.get("progress")), time.monotonic() + 120
    while table2(at) is None and time.monotonic() < deadline:
        time.sleep(1)
        ok(at.run())
        seen_progress = seen_progress or bool(at.get("progress"))
    assert seen_progress, "no progress bar while the run was going"
    assert f"(job `{started[0]['job_id']}`)" in texts(at)
    assert list(table2(at).columns) == ["archive", "unconditioned", "ours"]  # type: ignore[union-attr]


@pytest.mark.parametrize("page", PAGES)
def test_an_unreachable_api_is_a_message_not_a_traceback(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERITAGE_API_URL", f"http://127.0.0.1:{free_port()}")
    at = AppTest.from_file(APP, default_timeout=30).run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    assert not at.exception
    messages = [e.value for e in at.error]
    assert any("Cannot reach the Heritage Ledger API" in m and "heritage api" in m for m in messages), messages


# ---------------------------------------------------------------------- the piece page and the listening room
NEW_PAGES = ["views/piece.py", "views/listening.py"]
CRITERIA: list[dict[str, Any]] = [
    {"name": "authenticity", "prompt": "How authentic does the piece sound?",
     "scale": {"min": 1, "max": 5, "labels": ["not at all", "slightly", "somewhat", "mostly", "fully"]}},
    {"name": "overall", "prompt": "Overall quality", "scale": {"min": 1, "max": 5}},
    {"name": "performance", "prompt": "Are you satisfied with the performance?", "scale": {"min": 1, "max": 4},
     "approval_threshold": 3},
    {"name": "visualisation", "prompt": "Are you satisfied with its visualisation?", "scale": {"min": 1, "max": 4},
     "approval_threshold": 3},
]
# Two raters' ratings of the three pieces on each criterion (pieces in the order added), varied so that the ICCs exist.
RATINGS = {"authenticity": [[5, 3, 1], [4, 3, 2]], "overall": [[4, 3, 2], [5, 2, 2]], "performance": [[4, 3, 1], [4, 2, 1]],
           "visualisation": [[3, 2, 1], [4, 3, 2]]}


@dataclass(frozen=True)
class Lab:
    """A listening study made through the API: its researcher's token, raters' tokens and the pieces' CIDs."""

    study_id: str
    researcher: str
    raters: list[str]
    pieces: list[str]


def tone_cid(http: httpx.Client, hz: float) -> str:
    r = http.post("/content", files={"file": (f"tone-{hz:g}.wav", tone_wav(hz=hz), "audio/wav")})
    assert r.status_code == 201, r.text
    return str(r.json()["cid"])


def make_study(http: httpx.Client, service: Service, *, raters: int = 3, rated: int = 0, state: str = "open",
               valid_for_s: int = 3600) -> Lab:
    """A blind study of the audio work and two tones on four criteria, opened (and closed when asked), with
    `raters` invited by link, the first `rated` of whom have rated every piece (RATINGS)."""
    audio = http.get(f"/works/{service.audio_work}").json()["content_cid"]
    pieces = [audio, tone_cid(http, 523.25), tone_cid(http, 587.33)]
    r = http.post("/studies", json={"title": "Test tones", "instructions": "Listen with headphones; rate each piece once."})
    assert r.status_code == 201, r.text
    study, token = r.json()["study_id"], r.json()["researcher_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for cid, condition, work in zip(pieces, ["original", "model A", "model B"], [service.audio_work, None, None], strict=True):
        body = {"cid": cid, "condition": condition} | ({"work_id": work} if work else {})  # the tones are not registered
        assert http.post(f"/studies/{study}/pieces", json=body, headers=auth).status_code == 201
    for c in CRITERIA:
        assert http.post(f"/studies/{study}/criteria", json=c, headers=auth).status_code == 201
    assert http.post(f"/studies/{study}/open", headers=auth).status_code == 200
    tokens = []
    for _ in range(raters):
        r = http.post(f"/studies/{study}/invitations", json={"valid_for_s": valid_for_s}, headers=auth)
        assert r.status_code == 201, r.text
        tokens.append(str(r.json()["token"]))
    for i in range(rated):
        for j, cid in enumerate(pieces):
            values = {name: rows[i][j] for name, rows in RATINGS.items()}
            r = http.post(f"/studies/{study}/ratings", json={"piece": cid, "values": values},
                          headers={"Authorization": f"Bearer {tokens[i]}"})
            assert r.status_code == 201, r.text
    if state == "closed":
        assert http.post(f"/studies/{study}/close", headers=auth).status_code == 200
    return Lab(study, token, tokens, pieces)


def open_study(api_url: str, monkeypatch: pytest.MonkeyPatch, study: str, token: str) -> AppTest:
    """The listening room opened with the link `?study=…&token=…`."""
    monkeypatch.setenv("HERITAGE_API_URL", api_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(NEW_PAGES[1])
    at.query_params["study"] = study
    at.query_params["token"] = token
    return at.run()


def test_piece_shows_a_recording_against_a_tuning_grid(open_page: Open, service: Service, http: httpx.Client) -> None:
    at = open_page(NEW_PAGES[0])
    at.selectbox(key="piece_work").set_value(service.audio_work).run()
    ok(at)
    assert at.header[0].value.startswith(f"#{service.audio_work} A test tone")
    assert len(elements(at, "audio")) == 1
    shown = {m.label: m.value for m in at.metric}
    assert "**Grid:** 12-tone equal temperament" in texts(at) and shown["Tonic"] == "440 Hz"
    v = http.get(f"/works/{service.audio_work}/visual").json()
    assert shown["Median |deviation|"] == f"{v['pitch']['median_abs_deviation_cents']:.1f} cents"
    specs = [e.proto.spec for e in elements(at, "vega_lite_chart")]
    assert len(specs) == 6  # waveform, pitch, deviation, bands, Katz, Higuchi
    assert any('"deviation (cents)"' in s and '"strokeDash"' in s for s in specs), "no pitch contour over grid lines"
    assert any('"Katz"' in s for s in specs) and any('"Higuchi"' in s for s in specs)
    assert elements(at, "image"), "no spectrogram"
    assert any("no endpoint for embedding maps" in i.value for i in at.info)
    assert any("Neither the work's content" in i.value for i in at.info), "a WAV heritage work has no score"

    at.selectbox(key="piece_tradition").set_value("javanese_slendro").run()
    ok(at)
    slendro = http.get("/visual/traditions").json()
    grid = next(g for g in slendro if g["tradition"] == "javanese_slendro")
    assert f"**Grid:** {grid['title']}" in texts(at)
    assert {m.label: m.value for m in at.metric}["Tonic"] == f"{grid['tonic_hz']:g} Hz"
    assert any(f"period {grid['period_cents']:g} cents" in c.value for c in at.caption)


def test_piece_engraves_a_score_and_says_what_is_not_audio(open_page: Open, service: Service) -> None:
    at = open_page(NEW_PAGES[0])
    at.selectbox(key="piece_work").set_value(1).run()  # the demo's first work: an ABC score
    ok(at)
    assert any("not a recording" in i.value for i in at.info)
    assert not elements(at, "audio") and not elements(at, "vega_lite_chart")
    # In the full suite verovio has refused scores it reads in a fresh process (cause not found yet); the page
    # then says so. test_engrave_reads_the_demo_score_in_a_fresh_process holds engraving itself to account.
    warned = any("verovio could not read this score" in w.value for w in at.warning)
    assert elements(at, "image") or warned, ("neither engraved nor explained", [i.value for i in at.info])
    assert warned or any("Engraved with verovio" in c.value for c in at.caption)
    at.selectbox(key="piece_work").set_value(service.midi_work).run()
    ok(at)
    assert any("Neither the work's content" in i.value for i in at.info)


def test_a_rater_rates_a_piece_and_moves_on(api_url: str, monkeypatch: pytest.MonkeyPatch, http: httpx.Client,
                                            service: Service) -> None:
    lab = make_study(http, service, raters=1)
    at = ok(open_study(api_url, monkeypatch, lab.study_id, lab.raters[0]))
    assert at.header[0].value == "Test tones" and "headphones" in texts(at)
    assert at.subheader[0].value == "Piece 1 of 3" and len(elements(at, "audio")) == 1
    assert [r.label.split("**")[1] for r in at.radio] == [c["name"] for c in CRITERIA]
    assert at.radio[0].options == ["1 · not at all", "2 · slightly", "3 · somewhat", "4 · mostly", "5 · fully"]
    at.radio[0].set_value(4)
    at.button[0].click().run()  # three questions left open: refused, nothing stored
    ok(at)
    assert any("still open" in w.value for w in at.warning)
    auth = {"Authorization": f"Bearer {lab.researcher}"}
    assert http.get(f"/studies/{lab.study_id}", headers=auth).json()["ratings"] == 0
    for radio, value in zip(at.radio, [4, 3, 3, 2], strict=True):
        radio.set_value(value)
    at.button[0].click().run()
    ok(at)
    assert any("Your ratings of piece 1 are stored" in s.value for s in at.success)
    assert at.subheader[0].value == "Piece 2 of 3" and all(r.value is None for r in at.radio)
    assert http.get(f"/studies/{lab.study_id}", headers=auth).json()["ratings"] == 4


def test_a_second_rating_of_a_piece_is_refused_and_said_so(api_url: str, monkeypatch: pytest.MonkeyPatch, http: httpx.Client,
                                                          service: Service) -> None:
    lab = make_study(http, service, raters=1)
    at = ok(open_study(api_url, monkeypatch, lab.study_id, lab.raters[0]))
    shown = http.get(f"/studies/{lab.study_id}/next", params={"token": lab.raters[0]}).json()["piece"]["cid"]
    r = http.post(f"/studies/{lab.study_id}/ratings", json={"piece": shown, "values": {"authenticity": 2}},
                  headers={"Authorization": f"Bearer {lab.raters[0]}"})  # the same rater, in another tab
    assert r.status_code == 201
    for radio in at.radio:
        radio.set_value(3)
    at.button[0].click().run()
    assert not at.exception
    assert any("already rated this piece" in w.value for w in at.warning)


@pytest.mark.parametrize("case", ["expired", "invalid", "closed", "done"])
def test_the_listening_room_explains_a_link_it_cannot_open(case: str, api_url: str, monkeypatch: pytest.MonkeyPatch,
                                                           http: httpx.Client, service: Service) -> None:
    lab = make_study(http, service, raters=1, rated=1 if case == "done" else 0, state="closed" if case == "closed" else "open",
                     valid_for_s=1 if case == "expired" else 3600)
    token = lab.raters[0] + ("x" if case == "invalid" else "")
    if case == "expired":
        time.sleep(1.5)
    at = open_study(api_url, monkeypatch, lab.study_id, token)
    assert not at.exception
    errors, infos = [e.value for e in at.error], [i.value for i in at.info]
    if case == "expired":
        assert any("Your invitation has expired" in e for e in errors), errors
    elif case == "invalid":
        assert any("This link is not valid" in e for e in errors), errors
    elif case == "closed":
        assert any("not taking ratings" in i and "closed" in i for i in infos), infos
    else:
        assert any("rated every piece" in s.value for s in at.success)
        assert not at.radio


def test_the_researcher_sees_means_iccs_approval_and_the_seed_tables(api_url: str, monkeypatch: pytest.MonkeyPatch,
                                                                      http: httpx.Client, service: Service) -> None:
    lab = make_study(http, service, raters=2, rated=2)
    at = ok(open_study(api_url, monkeypatch, lab.study_id, lab.researcher))
    shown = {m.label: m.value for m in at.metric}
    assert (shown["State"], shown["Pieces"], shown["Raters"], shown["Ratings"]) == ("open", "3", "2", "24")
    results = http.get(f"/studies/{lab.study_id}/results", headers={"Authorization": f"Bearer {lab.researcher}"}).json()
    per_criterion = at.dataframe[0].value.set_index("criterion")
    for c in results["analysis"]["criteria"]:
        icc = c["reliability"]["icc2_k"]
        assert per_criterion.loc[c["name"], "ICC(2,k)"].startswith(f"{icc['value']:.2f} [{icc['ci_low']:.2f}, {icc['ci_high']:.2f}]")
        assert per_criterion.loc[c["name"], "mean ± SD"] == f"{c['summary']['mean']:.2f} ± {c['summary']['sd']:.2f}"
    assert per_criterion.loc["performance", "approval"] == "50.0 % (≥ 3)"
    assert per_criterion.loc["authenticity", "ICC(2,k)"].endswith(" †")  # 3 pieces × 2 raters: the lower bound is 7.5
    conditions = at.dataframe[1].value
    assert set(conditions["condition"]) == {"original", "model A", "model B"}
    titles = [m.value for m in at.markdown if m.value.startswith("**")]
    assert titles[:3] == ["**Authenticity (1–5) per condition**", "**Ratings per model (mean ± SD)**", "**Satisfaction**"]
    satisfaction = at.table[2].value
    assert list(satisfaction["Question"]) == ["performance", "visualisation"]
    assert list(satisfaction["Approval"]) == ["50.00%", "50.00%"]


def test_the_researcher_anchors_a_closed_studys_results_on_chain_and_sees_them_verified(
        api_url: str, monkeypatch: pytest.MonkeyPatch, http: httpx.Client, service: Service) -> None:
    lab = make_study(http, service, raters=2, rated=2, state="closed")
    at = ok(open_study(api_url, monkeypatch, lab.study_id, lab.researcher))
    assert any("No attestation of these results yet" in c.value for c in at.caption)
    button = next(b for b in at.button if b.label == "Anchor the results on chain")
    at = ok(button.click().run())
    assert any("Attestation" in m.value and "linking works" in m.value for m in at.success), [m.value for m in at.success]
    verdict = [m.value for m in at.markdown if m.value.startswith("Attestation ")]
    assert verdict and "verified" in verdict[0] and "does not verify" not in verdict[0]
    checks = at.dataframe[-1].value
    assert checks["ok"].all()


def test_an_open_study_is_not_anchored(api_url: str, monkeypatch: pytest.MonkeyPatch, http: httpx.Client,
                                       service: Service) -> None:
    lab = make_study(http, service, raters=1, rated=1)
    at = ok(open_study(api_url, monkeypatch, lab.study_id, lab.researcher))
    assert not any(b.label == "Anchor the results on chain" for b in at.button)
    assert any("anchored once it is closed" in c.value for c in at.caption)


@pytest.mark.parametrize("page", NEW_PAGES)
def test_the_new_pages_with_the_api_down_say_so(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERITAGE_API_URL", f"http://127.0.0.1:{free_port()}")
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page(page)
    at.query_params.update({"study": "s-0123", "token": "a.b"})
    at.run()
    assert not at.exception
    messages = [e.value for e in at.error]
    assert any("Cannot reach the Heritage Ledger API" in m and "heritage api" in m for m in messages), messages


def test_the_listening_room_without_a_link_asks_for_one(open_page: Open) -> None:
    at = ok(open_page(NEW_PAGES[1]))
    assert any("Open the link you were sent" in i.value for i in at.info)
    assert [t.label for t in at.text_input] == ["Study", "Token"]


def test_engrave_reads_the_demo_score_in_a_fresh_process(http: httpx.Client) -> None:
    """The Piece page's engraving of the demo's first work (an Essen ABC song), in its own interpreter."""
    import subprocess
    import sys

    abc = http.get("/works/1").json()["content_cid"]
    data = http.get(f"/content/{abc}").content
    code = ("import sys; from dashboard.views.piece import engrave; pages = engrave.__wrapped__(sys.stdin.buffer.read()); "
            "assert pages and all(p.lstrip().startswith('<') and '<svg' in p for p in pages), pages[:1]; print(len(pages))")
    done = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert int(done.stdout.decode().split()[-1]) >= 1


def test_simulation_shows_the_tuning_front_the_api_serves(open_page: Open, http: httpx.Client, service: Service) -> None:
    from tests.python.economy.test_tuning import front_of_four

    fr = front_of_four()
    from economy import tuning_report
    tuning_report.remember(fr, {"trials": 4, "sampler": "nsga2", "scenario": "synthetic", "when": "now"}, service.data_dir)
    served = http.get("/tuning/economy").json()
    assert served["source"] == "this data directory" and served["chosen"]["trial"] == 1
    at = ok(open_page(PAGES[3]))
    shown = {m.label: m.value for m in at.metric}
    assert shown["Chosen: trial"] == "1"
    assert shown["Jain (held-out)"] == "0.800"
    assert "yes, trials 3." in texts(at)
    assert any("Jain" in d.value.columns and len(d.value) == sum(r["on_front"] for r in fr.rows) for d in at.dataframe)
