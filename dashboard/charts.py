"""Tables and charts of a finished simulation, from its summary and `fairness_per_epoch.csv` records.

Pure functions of the API's answers (pandas frames and Altair charts, no Streamlit calls).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

INDICES = {"theil_t": "Theil T", "gini": "Gini", "jain": "Jain"}
"""Columns of fairness_per_epoch.csv → names; Theil T and Gini: 0 is equal, Jain: 1 is equal."""
REGIMES = ("archive", "unconditioned", "ours")


def table2(summary: dict[str, Any]) -> pd.DataFrame:
    """Table 2 (metrics × regimes) from a simulation's summary; regimes in the order the paper gives."""
    frame = pd.DataFrame(summary.get("table2", {}))
    ordered = [r for r in REGIMES if r in frame.columns] + [c for c in frame.columns if c not in REGIMES]
    return frame[ordered]


def latency_quantiles(summary: dict[str, Any]) -> pd.DataFrame:
    """Median and 90th percentile settlement latency per regime, in days and in hours."""
    rows = []
    for regime, values in table2(summary).to_dict().items():
        median, p90 = values.get("median settlement days"), values.get("p90 settlement days")
        rows.append({"regime": regime, "median (days)": median, "p90 (days)": p90,
                     "median (hours)": None if median is None else 24 * median, "p90 (hours)": None if p90 is None else 24 * p90})
    return pd.DataFrame(rows, columns=["regime", "median (days)", "p90 (days)", "median (hours)", "p90 (hours)"])


def fairness_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per regime, epoch and index (long form); the `all` rows (whole run) are left out."""
    frame = pd.DataFrame(records)
    if frame.empty:
        return pd.DataFrame(columns=["arm", "epoch", "index", "value"])
    frame = frame[frame["epoch"].astype(str) != "all"].copy()
    frame["epoch"] = frame["epoch"].astype(int)
    long = frame.melt(id_vars=["arm", "epoch"], value_vars=list(INDICES), var_name="index", value_name="value")
    long["index"] = long["index"].map(INDICES)
    return long.sort_values(["index", "arm", "epoch"]).reset_index(drop=True)


def payments_chart(paid: pd.DataFrame) -> alt.Chart:
    """Horizontal bars of ETH per community (columns `community`, `ETH`), with the names in full."""
    chart: alt.Chart = (alt.Chart(paid)
                        .mark_bar()
                        .encode(x=alt.X("ETH:Q", title="ETH paid"), y=alt.Y("community:N", title=None, sort="-x",
                                                                             axis=alt.Axis(labelLimit=360)),
                                tooltip=["community", alt.Tooltip("ETH:Q", format=".6f")]))
    return chart


def index_chart(long: pd.DataFrame, index: str) -> alt.Chart:
    """A line chart (with points, so a single epoch still shows) of one index per epoch, a line per regime."""
    data = long[long["index"] == index]
    chart: alt.Chart = (alt.Chart(data, title=index)
            .mark_line(point=True)
            .encode(x=alt.X("epoch:O", title="epoch"), y=alt.Y("value:Q", title=index, scale=alt.Scale(zero=False)),
                    color=alt.Color("arm:N", title="regime", sort=list(REGIMES)),
                    tooltip=["arm", "epoch", alt.Tooltip("value:Q", format=".4f")]))
    return chart
