"""Studio: run the platform's models from the browser (POST /jobs/… on the API) — make a piece in a
tradition conditioned on registered works, hear which instruments play, place a recording or score
in a tradition, read a score image — follow the job, listen, see the pitch against the tradition's
grid and the metrics, and register the result as a machine-made derivative with one signature in
your wallet (POST /jobs/{id}/drafts → wallet → POST /transactions)."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from dashboard import studio
from dashboard.ui import PPM
from dashboard.wallet import flow, words

PAGE = "studio"
JOB = "studio:job"


def pick_input(api: flow.ActionClient, kind: str) -> dict[str, Any] | None:
    """The job's input from the form: an uploaded file (stored first) or a registered work."""
    works = [w for w in api.all_works(status="active") if w["content_cid"]]
    work = st.selectbox("A registered work", [None, *works], key=f"{kind}-work",
                        format_func=lambda w: "—" if w is None else f"#{w['work_id']} {w['kind']}")
    upload = st.file_uploader("…or your own file", key=f"{kind}-file")
    if not st.form_submit_button("Run"):
        return None
    if upload is not None:
        return {"content_cid": api.upload(upload.name, upload.getvalue(), upload.type)["cid"]}
    if work is None:
        st.error("Choose a work or a file.")
        return None
    return {"work_id": work["work_id"]}


def pick_piece(api: flow.ActionClient) -> dict[str, Any] | None:
    traditions = [g for g in api.traditions() if g["tradition"]]
    tradition = st.selectbox("Tradition", traditions, format_func=lambda g: g["title"], key="piece-tradition")
    works = [w for w in api.all_works(status="active") if w["content_cid"]]
    chosen = st.multiselect("Condition on works (their protocols must allow machine-learning use)", works, max_selections=8,
                            format_func=lambda w: f"#{w['work_id']} {w['kind']}", key="piece-works")
    seed = st.number_input("Seed (the same seed, model and works give the same piece)", min_value=0, value=0, step=1)
    seconds = st.slider("Length (s)", min_value=4, max_value=60, value=30)
    if not st.form_submit_button("Run"):
        return None
    if tradition is None or not chosen:
        st.error("Choose a tradition and at least one work.")
        return None
    return {"tradition": tradition["tradition"], "works": [w["work_id"] for w in chosen], "seed": int(seed),
            "seconds": float(seconds)}


def register(api: flow.ActionClient, job_id: str, account: str) -> None:
    with st.form("studio-register"):
        title = st.text_input("Title", key="studio-title")
        share = st.number_input("Share of every payment routed to the works it came from (%)", min_value=0.1,
                                max_value=100.0, value=20.0)
        commercial = st.checkbox("For commercial use")
        go = st.form_submit_button("Register with my wallet")
    if not go:
        return
    body = {"creator": account, "upstream_ppm": int(share * PPM / 100), "commercial": commercial, "title": title.strip() or None}
    draft = api.post(f"/jobs/{job_id}/drafts", body)
    consent = sorted({f"work #{p['work_id']}'s community" for p in draft["parents"]
                      for proto in api.get(f"/works/{p['work_id']}/protocol") if proto["consent_required"]})
    what = words.derivative(title=title.strip() or "your Studio result", commercial=commercial, consent_from=consent,
                            parents=[(p["work_id"], p["ppm"], f"{p['work_id']}") for p in draft["parents"]])
    flow.ask(PAGE, "send", {"transaction": draft["transaction"]}, words.transaction(draft["transaction"], what, account=account),
             label="Confirm in wallet")


st.title("Studio")
st.caption("Run the platform's models on a registered work or your own file. Works whose community forbids "
           "machine-learning use are refused before anything runs; whatever you make credits the works it came from.")
with flow.session() as api:
    chain, w = flow.step(api, PAGE)
    relayed = flow.outcome(PAGE)
    if relayed is not None and relayed.get("work_id"):
        st.write(f"Your result is work **#{relayed['work_id']}**, status **{relayed.get('status')}**; the provenance "
                 "explorer shows what it credits.")
        st.page_link("views/provenance.py", label="What it credits: lineage, royalty route, training sets",
                     icon=":material/account_tree:", query_params={"work": str(relayed["work_id"])})
    kind = st.radio("What to do", list(studio.KINDS), format_func=lambda k: studio.KINDS[k], horizontal=True, key="studio-kind")
    ready, model_line = studio.model_words(api.get("/studio/models"), kind)
    st.caption(model_line)
    if ready:
        with st.form(f"studio-{kind}"):
            body = pick_piece(api) if kind == "generation" else pick_input(api, kind)
        if body is not None:
            st.session_state[JOB] = api.post(f"/jobs/{kind}", body)["job_id"]
    job_id = st.session_state.get(JOB)
    if job_id:
        job = api.job(job_id)
        if not studio.show_progress(dict(job)):
            if job["status"] in ("queued", "running"):
                time.sleep(1.0)
                st.rerun()
            st.stop()
        studio.show_result(api, dict(job))
        if flow.connect_hint(chain, w):
            assert w.account is not None
            register(api, job_id, w.account)
