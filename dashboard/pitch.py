"""The pitch of a recording against a tradition's tuning grid, drawn: the contour in cents above the
tonic over the grid's degrees, each frame coloured by its deviation from the nearest one (the Piece
page, from GET /works/{id}/visual; the Studio, from a generation job's result)."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from dashboard.client import Grid, Pitch

DEVIATION_SCALE = 50.0  # cents: the colour scale of the pitch plot runs from −50 (flat) to +50 (sharp)


def grid_lines(grid: Grid, low: float, high: float) -> pd.DataFrame:
    """Every degree of the grid, in every period, between low and high cents above the tonic."""
    period = grid["period_cents"]
    rows = [{"cents": d["cents"] + p * period, "degree": d["name"]}
            for p in range(math.floor(low / period) - 1, math.floor(high / period) + 2) for d in grid["degrees"]
            if low <= d["cents"] + p * period <= high]
    return pd.DataFrame(rows, columns=["cents", "degree"])


def pitch_frame(p: Pitch, grid: Grid) -> pd.DataFrame:
    """One row per voiced frame: time, Hz, cents above the tonic, nearest degree and deviation."""
    names = [d["name"] for d in grid["degrees"]]
    rows = [{"time (s)": t, "Hz": hz, "cents": c, "degree": names[d] if d is not None else None, "deviation (cents)": dev}
            for t, hz, c, d, dev in zip(p["times_s"], p["f0_hz"], p["cents"], p["degree"], p["deviation_cents"], strict=True)
            if c is not None]
    return pd.DataFrame(rows, columns=["time (s)", "Hz", "cents", "degree", "deviation (cents)"])


def deviation_colour(field: str, *, legend: bool) -> alt.Color:
    scale = alt.Scale(scheme="redblue", domain=[-DEVIATION_SCALE, DEVIATION_SCALE], reverse=True, clamp=True)
    return alt.Color(f"{field}:Q", scale=scale, title="deviation (cents)", legend=alt.Legend() if legend else None)


def pitch_chart(voiced: pd.DataFrame, grid: Grid) -> alt.LayerChart:
    """The contour in cents above the tonic over the grid's degrees (dashed lines, named), each
    frame's dot coloured by its deviation from the nearest degree (white on the degree)."""
    low, high = float(voiced["cents"].min()) - 60, float(voiced["cents"].max()) + 60
    lines = grid_lines(grid, low, high)
    start = float(voiced["time (s)"].min())
    x = alt.X("time (s):Q")
    y = alt.Y("cents:Q", title=f"cents above the tonic ({grid['tonic_hz']:g} Hz)", scale=alt.Scale(domain=[low, high]))
    rules = alt.Chart(lines).mark_rule(strokeDash=[4, 3], color="#888", opacity=0.7).encode(y=y, tooltip=["degree", "cents"])
    names = alt.Chart(lines).mark_text(align="left", dx=3, dy=-6, color="#555").encode(y=y, x=alt.datum(start), text="degree:N")
    contour = alt.Chart(voiced).mark_line(color="#999", strokeWidth=0.8).encode(x=x, y=y)
    dots = (alt.Chart(voiced).mark_circle(size=30, opacity=1, stroke="#333", strokeWidth=0.6)
            .encode(x=x, y=y, color=deviation_colour("deviation (cents)", legend=True),
                    tooltip=["time (s)", alt.Tooltip("Hz:Q", format=".1f"), alt.Tooltip("cents:Q", format=".1f"), "degree",
                             alt.Tooltip("deviation (cents):Q", format="+.1f")]))
    return alt.LayerChart(layer=[rules, names, contour, dots]).properties(height=300)


def deviation_chart(voiced: pd.DataFrame) -> alt.LayerChart:
    """Each frame's deviation in cents from its nearest degree, over time: red sharp, blue flat; the
    axis spans at least ±10 cents, so a few cents read as a few cents."""
    reach = max(10.0, 1.1 * float(voiced["deviation (cents)"].abs().max()))
    y = alt.Y("deviation (cents):Q", title="deviation (cents)", scale=alt.Scale(domain=[-reach, reach]))
    zero = alt.Chart(pd.DataFrame({"deviation (cents)": [0.0]})).mark_rule(color="#888").encode(y=y)
    bars = (alt.Chart(voiced).mark_bar(width=2)
            .encode(x=alt.X("time (s):Q"), y=y,
                    color=alt.condition("datum['deviation (cents)'] > 0", alt.value("#c0392b"), alt.value("#2c6fbb")),
                    tooltip=["time (s)", "degree", alt.Tooltip("deviation (cents):Q", format="+.1f")]))
    return alt.LayerChart(layer=[zero, bars]).properties(height=170)
