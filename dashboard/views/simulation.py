"""Simulation: start a royalty-economy scenario, follow its progress, and read its results."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import results
from dashboard.client import ApiClient
from dashboard.schema import Job
from dashboard.ui import api_session, when

FINISHED = ("done", "failed", "interrupted")
SELECTED = "simulation_job"


def scenario_form() -> dict[str, Any] | None:
    """The form; the scenario to run (economy/scenario.py's fields) once it is submitted."""
    with st.form("scenario"):
        st.markdown("**New simulation** · the defaults give a quick run (seconds); the README's scenario is "
                    "12 communities of 40 works, 2,000 listeners over 120 days (minutes).")
        a, b, c, d = st.columns(4)
        name = a.text_input("Name", value="dashboard run", max_chars=80)
        seed = b.number_input("Seed", min_value=0, max_value=2**31 - 1, value=7, step=1)
        communities = c.number_input("Communities", min_value=2, max_value=40, value=3, step=1)
        works = d.number_input("Works per community", min_value=1, max_value=500, value=6, step=1)
        a, b, c, d = st.columns(4)
        listeners = a.number_input("Listeners", min_value=10, max_value=1_000_000, value=40, step=10)
        days = b.number_input("Days of listening", min_value=1, max_value=730, value=8, step=1)
        warmup = c.number_input("Warm-up days", min_value=0, max_value=365, value=4, step=1,
                                help="History the recommenders learn from before the measured days.")
        fair = d.slider("Fairness re-ranking strength", min_value=0.0, max_value=1.0, value=0.35, step=0.05,
                        help="Of the 'ours' regime's recommender: 0 is none.")
        if not st.form_submit_button("Start simulation", type="primary", icon=":material/play_arrow:"):
            return None
    return {"name": name.strip() or "dashboard run", "seed": int(seed),
            "catalogue": {"communities": int(communities), "max_works_per_community": int(works)},
            "listeners": {"count": int(listeners), "days": float(days), "warmup_days": float(warmup)},
            "recommender": {"fair_strength": float(fair)}}


def label(job: Job) -> str:
    """A job in the selector: scenario name, status, when it was started."""
    return f"{job['params'].get('name', '?')} · {job['status']} · {when(job['created'])} · {job['job_id']}"


def pick_job(jobs: list[Job]) -> Job | None:
    """The run to show: the one just started, else the one chosen, else the newest."""
    if not jobs:
        st.info("No simulation yet: start one with the form above.")
        return None
    ids = [j["job_id"] for j in jobs]
    if st.session_state.get(SELECTED) not in ids:
        st.session_state[SELECTED] = ids[0]
    by_id = {j["job_id"]: j for j in jobs}
    chosen: str = st.selectbox("Run", ids, key=SELECTED, format_func=lambda i: label(by_id[i]))
    return by_id[chosen]


@st.fragment(run_every=1.0)
def show_progress(job_id: str) -> None:
    """The running job's stage and progress, polled every second; the whole page reruns when it ends."""
    with api_session() as api:
        job = api.job(job_id)
    if job["status"] in FINISHED:
        st.rerun()
    fraction = job["done"] / job["total"] if job["total"] else 0.0
    stage = job["stage"] or ("waiting for the job before it" if job["status"] == "queued" else "starting")
    st.progress(min(1.0, fraction), text=f"{job['status']}: {stage} ({job['done']:,} of {job['total']:,})")


def show_result(api: ApiClient, job: Job) -> None:
    """Everything a finished run produced."""
    summary = job["result"] or {}
    st.markdown(results.caption(job))
    cat, seconds = summary.get("catalogue", {}), summary.get("seconds")
    cols = st.columns(4)
    cols[0].metric("Communities", cat.get("communities", "—"))
    cols[1].metric("Works", cat.get("works", "—"))
    cols[2].metric("Heritage works", cat.get("heritage", "—"))
    cols[3].metric("Run time", f"{seconds:.0f} s" if isinstance(seconds, (int, float)) else "—")
    results.show_sections(api, job)
    st.subheader("Plots")
    results.show_plots(api, job)
    with st.expander("Summary (summary.json)"):
        st.json(summary, expanded=1)
    st.download_button("Download summary.json", api.simulation_file(job["job_id"], "summary.json"),
                       file_name=f"summary-{job['job_id']}.json", mime="application/json", icon=":material/download:")


def show_front(api: ApiClient) -> None:
    """The re-ranking settings' Pareto front from the latest tuning study: fairness against
    ranking quality on held-out listeners, abandonment as colour; the chosen point and its rule."""
    front = api.tuning_front()
    with st.expander("Tuned re-ranking: the Pareto front (`heritage tune economy`)", expanded=False):
        if front is None:
            st.info("No tuning study yet: run `heritage tune economy --config scenarios/tuning.yaml` and reload.")
            return
        meta, base = front["meta"], front["baseline"]["heldout"]
        st.caption(f"{meta['trials']} trials ({meta['sampler']}) on scenario `{meta['scenario']}`, {meta['when']}; "
                   f"source: {front['source']}. Figures on held-out listeners.")
        rows = [{"trial": r["trial"], "NDCG@20": r["heldout ndcg@20"], "Jain": r["heldout jain"],
                 "abandonment HR": r["heldout abandonment_hr"], "strength": r["fair_strength"],
                 "tilt": r["familiarity_tilt"], "on the front": r["on_front"]} for r in front["trials"]]
        rows.append({"trial": -1, "NDCG@20": base["ndcg@20"], "Jain": base["jain"], "abandonment HR": 1.0,
                     "strength": 0.0, "tilt": 0.0, "on the front": False})
        st.scatter_chart(rows, x="NDCG@20", y="Jain", color="on the front", size="abandonment HR")
        st.caption("Trial −1 is the unconditioned arm (no re-ranking). Larger dots: more abandonment.")
        chosen = front["chosen"]
        cols = st.columns(3)
        if chosen is None:
            cols[0].metric("Chosen point", "none")
        else:
            cols[0].metric("Chosen: trial", chosen["trial"])
            cols[1].metric("Jain (held-out)", f"{chosen['heldout jain']:.3f}", f"{chosen['heldout jain'] - base['jain']:+.3f}")
            cols[2].metric("NDCG@20 (held-out)", f"{chosen['heldout ndcg@20']:.3f}",
                           f"{chosen['heldout ndcg@20'] - base['ndcg@20']:+.3f}")
        st.markdown(f"**Rule:** {front['rule']}.")
        both = front["both_better"]
        st.markdown("**Fairness and abandonment improved at once:** " +
                    (f"yes, trials {', '.join(map(str, both))}." if both else "no trial did on this population."))
        st.dataframe([r for r in rows if r["on the front"]], hide_index=True)


def main() -> None:
    st.title("Simulation")
    st.caption("Listeners stream the catalogue under three regimes (archive statements, on-chain settlement, and on-chain "
               "with fairness-aware recommendation); each run has its own local chain.")
    with api_session() as api:
        scenario = scenario_form()
        if scenario is not None:
            job = api.start_simulation(scenario)
            st.session_state[SELECTED] = job["job_id"]
            st.toast(f"Simulation {job['job_id']} queued", icon=":material/science:")
        show_front(api)
        job_or_none = pick_job(api.jobs("simulation"))
        if job_or_none is None:
            return
        job = job_or_none
        if job["status"] in ("queued", "running"):
            show_progress(job["job_id"])
        elif job["status"] == "done":
            show_result(api, job)
        else:
            st.error(f"This run {job['status']}: {job['error']}. Change the scenario and start it again.")


main()
