"""A finished simulation on screen: settlement latency, fairness per epoch, Table 2 and the plots.

Shared by the Overview (the latest run) and the Simulation page (any finished run).
"""

from __future__ import annotations

import streamlit as st

from dashboard import charts
from dashboard.client import ApiClient
from dashboard.schema import Job
from dashboard.ui import when

PLOTS = {"latency.png": "Settlement latency per regime", "indices_per_epoch.png": "Fairness indices per epoch",
         "exposure_per_community.png": "Exposure per community"}


def latest_done(api: ApiClient) -> Job | None:
    """The newest finished simulation, if any."""
    return next((j for j in api.jobs("simulation") if j["status"] == "done"), None)


def caption(job: Job) -> str:
    """One line naming a run: scenario, job id, when it finished."""
    name = job["params"].get("name", "?")
    return f"Scenario **{name}** (job `{job['job_id']}`), finished {when(job['finished'])}."


def show_latency(api: ApiClient, job: Job) -> None:
    """The latency distributions per regime (the run's plot) beside their median and p90."""
    summary = job["result"] or {}
    left, right = st.columns(2)
    with left:
        st.image(api.simulation_file(job["job_id"], "latency.png"), caption=PLOTS["latency.png"])
    with right:
        st.caption("From the usage to the time every rightsholder in its lineage can withdraw its share: archive "
                   "statements take weeks, on-chain settlement hours.")
        st.dataframe(charts.latency_quantiles(summary), hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.2f") for c in
                                    ("median (days)", "p90 (days)", "median (hours)", "p90 (hours)")})


def show_fairness(api: ApiClient, job: Job) -> None:
    """Theil T, Gini and Jain per epoch and regime, from fairness_per_epoch.csv."""
    long = charts.fairness_frame(api.simulation_table(job["job_id"], "fairness_per_epoch.csv"))
    if long.empty:
        st.info("This run paid nobody, so there are no fairness indices to draw.")
        return
    for column, index in zip(st.columns(len(charts.INDICES)), charts.INDICES.values(), strict=True):
        with column:
            st.altair_chart(charts.index_chart(long, index), width="stretch")
    st.caption("Over payouts per community in each epoch. Theil T and Gini: 0 is perfectly equal; Jain: 1 is.")


def show_table2(job: Job) -> None:
    """Table 2: every metric for each settlement regime."""
    table = charts.table2(job["result"] or {})
    st.dataframe(table, width="stretch", height=38 + 35 * len(table))


def show_plots(api: ApiClient, job: Job) -> None:
    """The run's other plots, as the simulation drew them."""
    names = api.simulation_files(job["job_id"])
    for column, name in zip(st.columns(2), [n for n in PLOTS if n in names and n != "latency.png"], strict=False):
        with column:
            st.image(api.simulation_file(job["job_id"], name), caption=PLOTS[name])


def show_sections(api: ApiClient, job: Job) -> None:
    """The sections every view of a finished run shows: latency per regime, fairness per epoch, Table 2."""
    st.subheader("Settlement latency per regime")
    show_latency(api, job)
    st.subheader("Fairness per epoch")
    show_fairness(api, job)
    st.subheader("Table 2")
    show_table2(job)
