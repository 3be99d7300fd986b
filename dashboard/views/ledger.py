"""Real ledger: fairness and settlement latency from the usage statements settled on chain.

Per statement period, the net credits of each community treasury (after lineage routing, what it
can withdraw) with Theil T, Gini and Jain over them; and the settlement latency of every usage
line, from its period's end to the block that credited it. All from `GET /statements/ledger`,
computed by the API from the chain (economy/statements/ledger.py), not from simulations.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.ui import api_session, eth

DAY_S = 86_400


def _date(unix: int) -> str:
    return datetime.fromtimestamp(unix, tz=UTC).strftime("%Y-%m-%d")


def fairness_table(periods: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per statement period: communities paid, net ETH, and the three indices."""
    return pd.DataFrame([{"period": f"{_date(p['period_start'])} – {_date(p['period_end'])}",
                          "communities": len(p["credits_wei"]),
                          "net credits (ETH)": eth(sum(int(v) for v in p["credits_wei"].values())),
                          "Theil T": round(p["theil_t"], 4), "Gini": round(p["gini"], 4), "Jain": round(p["jain"], 4)}
                         for p in periods])


def credits_table(periods: list[dict[str, Any]]) -> pd.DataFrame:
    """Net credits per community (rows) and period (columns), in ETH."""
    rows: dict[str, dict[str, str]] = {}
    for p in periods:
        column = f"{_date(p['period_start'])} – {_date(p['period_end'])}"
        for community, wei in p["credits_wei"].items():
            rows.setdefault(f"community {community}", {})[column] = eth(wei)
    return pd.DataFrame.from_dict(rows, orient="index").fillna("0")


def latency_chart(latencies_s: list[int]) -> alt.Chart:
    days = pd.DataFrame({"days": [s / DAY_S for s in latencies_s]})
    chart: alt.Chart = alt.Chart(days).mark_bar().encode(
        alt.X("days:Q", bin=alt.Bin(maxbins=30), title="settlement latency (days)"), alt.Y("count():Q", title="usage lines"))
    return chart


def main() -> None:
    st.title("Real ledger")
    st.caption("Fairness and settlement latency of the usage statements settled on chain (not simulated).")
    with api_session() as api:
        ledger = api.ledger()
    periods, latencies = ledger["periods"], ledger["latencies_s"]
    if not periods:
        st.info("No usage statement has been settled yet: submit one with `heritage statements submit FILE` or "
                "POST /statements.", icon=":material/receipt_long:")
        return
    st.subheader("Fairness of net community credits, per period")
    st.dataframe(fairness_table(periods), hide_index=True, width="stretch")
    st.caption("Theil T, Gini and Jain over each community treasury's net credits in the period (after routing: a "
               "derivative's upstream share counts for the community it reaches).")
    st.dataframe(credits_table(periods), width="stretch")
    st.subheader("Settlement latency")
    cols = st.columns(3)
    cols[0].metric("Usage lines settled", len(latencies))
    cols[1].metric("Median", f"{ledger['median_s'] / DAY_S:.2f} days" if ledger["median_s"] is not None else "–")
    cols[2].metric("p90", f"{ledger['p90_s'] / DAY_S:.2f} days" if ledger["p90_s"] is not None else "–")
    if latencies:
        st.altair_chart(latency_chart(latencies), width="stretch")
    st.caption("From each usage line's period end to the block time of the router payment that credited it.")


main()
