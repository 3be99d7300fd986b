"""Piece: one work seen several ways — its recording as a waveform, a log-mel spectrogram, its pitch
against a tradition's tuning grid (the deviation in cents from the nearest degree), octave-band
amplitudes and the short-time fractal dimension (Katz and Higuchi), its score engraved with
verovio, and its place on the embedding map. The features come from `GET /works/{id}/visual`."""

from __future__ import annotations

import threading
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st
import verovio
from matplotlib.figure import Figure

from dashboard.client import ApiClient, ApiProblem, Bands, Content, Fractal, Grid, Pitch, Spectrogram, Visual, Waveform
from dashboard.media import MediaKind
from dashboard.picker import pick_work
from dashboard.pitch import deviation_chart, pitch_chart, pitch_frame
from dashboard.schema import WorkDetail
from dashboard.ui import api_session, played, short

# Media types verovio engraves (a manifest's renditions are keyed by media type). No bare string
# literals in a page script: Streamlit's "magic" would print them on the page.
SCORE_TYPES = ("application/vnd.recordare.musicxml+xml", "text/vnd.abc", "text/x-kern", "application/mei+xml")
TICKS_HZ = (125, 250, 500, 1000, 2000, 4000, 8000)


@st.cache_data(ttl=300, show_spinner="Analysing the recording (the first look at a long one takes a while)…")
def visual(base_url: str, work_id: int, tradition: str | None, tonic_hz: float | None) -> Visual:
    with ApiClient(base_url) as api:
        return api.visual(work_id, tradition=tradition, tonic_hz=tonic_hz)


_VEROVIO = threading.Lock()  # verovio's toolkits share global state; Streamlit may run two sessions' scripts at once


class _Unreadable(Exception):
    """verovio could not read the score (raised, not returned, so that st.cache_data does not keep the failure)."""


@st.cache_data(max_entries=32, show_spinner="Engraving the score…")
def engrave(data: bytes, page_width: int = 2100) -> list[str]:
    """The score's pages as SVG (verovio reads MusicXML, ABC, Humdrum and MEI); _Unreadable when it cannot read it."""
    with _VEROVIO:
        verovio.enableLog(verovio.LOG_ERROR)
        toolkit = verovio.toolkit()
        toolkit.setResourcePath(str(Path(verovio.__file__).parent / "data"))  # absolute: never relative to the cwd
        toolkit.setOptions({"pageWidth": page_width, "scale": 40, "adjustPageHeight": True, "breaks": "auto", "footer": "none"})
        text = data.decode("utf-8", errors="replace")
        if text.lstrip().startswith(("X:", "%abc")):
            text = _abc_as_musicxml(text)
        if not toolkit.loadData(text):
            raise _Unreadable(toolkit.getLog()[:300])
        return [str(toolkit.renderToSVG(p)) for p in range(1, min(toolkit.getPageCount(), 6) + 1)]


def _abc_as_musicxml(text: str) -> str:
    """ABC through music21 (read as ABC 2.1, where an accidental carries through the bar) to MusicXML:
    verovio's own ABC reader failed intermittently on the demo's Essen songs."""
    from music21 import converter
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    if "%abc-" not in text:
        text = "%abc-2.1\n" + text
    try:
        score = converter.parse(text, format="abc")
        return bytes(GeneralObjectExporter(score).parse()).decode("utf-8")
    except Exception as err:  # music21 raises many types for text it cannot read
        raise _Unreadable(f"music21 could not read the ABC: {err}") from err


# ---------------------------------------------------------------------- charts (pure: frames and charts)
def waveform_chart(w: Waveform) -> alt.Chart:
    frame = pd.DataFrame({"time (s)": w["times_s"], "min": w["minimum"], "max": w["maximum"]})
    chart: alt.Chart = (alt.Chart(frame, height=160).mark_area(opacity=0.8)
                        .encode(x=alt.X("time (s):Q"),
                                y=alt.Y("min:Q", title="amplitude (full scale)", scale=alt.Scale(domain=[-1, 1])),
                                y2="max:Q", tooltip=["time (s)", "min", "max"]))
    return chart


def spectrogram_figure(s: Spectrogram) -> Figure:
    """The log-mel spectrogram as an image: rows are mel bands (labelled in Hz), columns times."""
    fig = Figure(figsize=(11, 3.2), dpi=100, layout="constrained")
    ax = fig.subplots()
    times, rows = s["times_s"], len(s["mel_hz"])
    image = ax.imshow(s["db"], origin="lower", aspect="auto", cmap="magma", vmin=-s["top_db"], vmax=0,
                      extent=(times[0], times[-1], 0, rows), interpolation="nearest")
    ticks = [(min(range(rows), key=lambda i: abs(s["mel_hz"][i] - hz)), hz) for hz in TICKS_HZ if hz <= s["mel_hz"][-1]]
    ax.set_yticks([i + 0.5 for i, _ in ticks], [f"{hz / 1000:g}k" if hz >= 1000 else str(hz) for _, hz in ticks])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz, mel scale)")
    fig.colorbar(image, ax=ax, label="dB re. loudest bin", pad=0.01)
    return fig


def bands_frame(b: Bands) -> pd.DataFrame:
    return pd.DataFrame([{"time (s)": t, "band": band["label"], "dBFS": v} for band, row in zip(b["bands"], b["db"], strict=True)
                         for t, v in zip(b["times_s"], row, strict=True)])


def bands_chart(b: Bands) -> alt.Chart:
    order = [band["label"] for band in b["bands"]]
    chart: alt.Chart = (alt.Chart(bands_frame(b), height=260).mark_line(strokeWidth=1.2)
                        .encode(x=alt.X("time (s):Q"), y=alt.Y("dBFS:Q", title="RMS level (dB re. full scale)",
                                                               scale=alt.Scale(domainMin=-100, clamp=True)),
                                color=alt.Color("band:N", sort=order, scale=alt.Scale(scheme="viridis"), title="octave band"),
                                tooltip=["band", "time (s)", alt.Tooltip("dBFS:Q", format=".1f")]))
    return chart


def fractal_frame(f: Fractal) -> pd.DataFrame:
    series = (("Katz", f["katz"]), ("Higuchi", f["higuchi"]))
    return pd.DataFrame([{"time (s)": t, "method": name, "dimension": v} for name, values in series
                         for t, v in zip(f["times_s"], values, strict=True) if v is not None],
                        columns=["time (s)", "method", "dimension"])


def fractal_chart(frame: pd.DataFrame, method: str, colour: str) -> alt.Chart:
    chart: alt.Chart = (alt.Chart(frame[frame["method"] == method], title=method, height=200).mark_line(color=colour)
                        .encode(x=alt.X("time (s):Q"), y=alt.Y("dimension:Q", title="fractal dimension", scale=alt.Scale(zero=False)),
                                tooltip=["time (s)", alt.Tooltip("dimension:Q", format=".3f")]))
    return chart


# ---------------------------------------------------------------------- sections
def pick_grid(api: ApiClient) -> tuple[str | None, float | None]:
    """The tuning grid and the tonic the pitch is measured against."""
    grids = {g["tradition"]: g for g in api.traditions() if g["tradition"]}
    left, right = st.columns([2, 1])
    tradition: str | None = left.selectbox(
        "Tuning grid", [None, *grids], key="piece_tradition",
        format_func=lambda t: "12-tone equal temperament" if t is None else f"{grids[t]['title']} ({t})")
    default = 440.0 if tradition is None else grids[tradition]["tonic_hz"]
    tonic = right.number_input("Tonic (Hz)", min_value=1.0, max_value=20000.0, value=None, key="piece_tonic",
                               placeholder=f"{default:g} (the grid's reference)")
    return tradition, None if tonic is None else float(tonic)


def show_features(v: Visual) -> None:
    cut = f" (the first {v['analysed_s']:g} s analysed)" if v["analysed_s"] < v["duration_s"] else ""
    st.caption(f"{v['duration_s']:g} s recorded at {v['source_rate']:,} Hz{cut}, analysed at {v['sample_rate']:,} Hz; "
               f"every series at most {v['columns']:,} columns.")
    st.subheader("Waveform")
    st.altair_chart(waveform_chart(v["waveform"]), width="stretch")
    st.subheader("Log-mel spectrogram")
    s = v["spectrogram"]
    st.pyplot(spectrogram_figure(s), width="stretch")
    st.caption(f"{len(s['mel_hz'])} mel bands; STFT of {s['n_fft']} samples every {s['hop_length']} (Hann), power pooled "
               f"to the columns, in dB relative to the loudest bin, floored {s['top_db']:g} dB below it.")
    show_pitch(v["pitch"], v["grid"])
    st.subheader("Band amplitudes")
    st.altair_chart(bands_chart(v["bands"]), width="stretch")
    st.caption(f"RMS level of each octave band (base-2 centres, edges at centre/√2 and centre·√2; the top band a high-pass "
               f"to Nyquist). {v['bands']['filter']}.")
    show_fractal(v["fractal"])


def show_pitch(p: Pitch, grid: Grid) -> None:
    st.subheader("Pitch against the tuning grid")
    voiced = pitch_frame(p, grid)
    degrees = ", ".join(f"{d['name']} ({d['cents']:g})" for d in grid["degrees"])
    st.markdown(f"**Grid:** {grid['title']} — degrees in cents above the tonic: {degrees}")
    cols = st.columns(3)
    cols[0].metric("Tonic", f"{grid['tonic_hz']:g} Hz")
    cols[1].metric("Voiced frames", f"{100 * p['voiced_share']:.0f} %")
    mad = p["median_abs_deviation_cents"]
    cols[2].metric("Median |deviation|", "—" if mad is None else f"{mad:.1f} cents")
    if voiced.empty:
        st.info("pYIN found no pitched frame in this recording (percussion, noise or silence): there is no contour to "
                "measure against the grid.")
        return
    st.altair_chart(pitch_chart(voiced, grid), width="stretch")
    st.altair_chart(deviation_chart(voiced), width="stretch")
    st.caption(f"f0 by pYIN ({p['fmin_hz']:g}–{p['fmax_hz']:g} Hz, frames of {p['frame_length']} samples every "
               f"{p['hop_length']}); its values lie on 10-cent bins. Dashed lines: the grid's degrees (period "
               f"{grid['period_cents']:g} cents). Colour: deviation from the nearest degree, blue flat, red sharp.")


def show_fractal(f: Fractal) -> None:
    st.subheader("Fractal dimension per frame")
    frame = fractal_frame(f)
    if frame.empty:
        st.info("Every frame is flat (silence): the fractal dimension is undefined.")
        return
    katz, higuchi = st.columns(2)
    katz.altair_chart(fractal_chart(frame, "Katz", "#d62728"), width="stretch")
    higuchi.altair_chart(fractal_chart(frame, "Higuchi", "#1f77b4"), width="stretch")
    st.caption(f"Frames of {f['frame_length']} samples every {f['hop_length']}. Katz: log10(n) / (log10(n) + log10(d/L)) with "
               "L the summed amplitude steps, d the largest distance from the frame's first sample, n the number of steps "
               "(1 for a straight line; not bounded by 2). Higuchi: the slope of ln L(k) against ln(1/k) for k = 1 … "
               f"{f['kmax']} (1 for a smooth curve, 2 for white noise).")


def score_source(api: ApiClient, work: WorkDetail, content: Content | None, kind: MediaKind | None) -> bytes | None:
    """The work's score: its content when that is one, else a score among its manifest's renditions."""
    if content is not None and kind is not None and kind.presentation == "score" and kind.media_type in SCORE_TYPES:
        return content.data
    renditions = (work["manifest"] or {}).get("renditions") or {}
    for media, cid in renditions.items():
        if media in SCORE_TYPES:
            return api.content(str(cid)).data
    return None


def show_score(api: ApiClient, work: WorkDetail, content: Content | None, kind: MediaKind | None) -> None:
    st.subheader("Score")
    data = score_source(api, work, content, kind)
    if data is None:
        st.info("Neither the work's content nor its manifest's renditions hold a score (MusicXML, ABC, Humdrum or MEI).")
        return
    try:
        pages = engrave(data)
    except _Unreadable as err:
        st.warning(f"verovio could not read this score ({err or 'no reason given'}); the catalogue page offers it as text.")
        return
    for page in pages:
        st.image(page, width="stretch")
    st.caption(f"Engraved with verovio {verovio.toolkit().getVersion()} ({len(pages)} page{'s' if len(pages) > 1 else ''}).")


def show_map() -> None:
    st.subheader("Place on the embedding map")
    st.info("The API has no endpoint for embedding maps yet: `heritage embedding map` writes its maps to "
            "reports/embedding.md on the machine that runs it. Once the service answers a work's coordinates, "
            "this section will place the piece among its neighbours.", icon=":material/scatter_plot:")


def main() -> None:
    st.title("Piece")
    st.caption("A work's recording seen several ways, its score and its place among the others.")
    with api_session() as api:
        work = pick_work(api, key="piece_work")
        if work is None:
            return
        detail = api.work(work["work_id"])
        st.header(f"#{work['work_id']} {(detail['manifest'] or {}).get('title') or '(no public title)'}")
        cid = work["content_cid"]
        if not cid:
            st.info("Restricted work: its content is not public (only a salted commitment is on the chain), so there is "
                    "nothing to show.", icon=":material/lock:")
            return
        content, kind = played(api, cid, shown=short(cid, 16))
        if kind.presentation == "audio":
            tradition, tonic = pick_grid(api)
            try:
                show_features(visual(api.base_url, work["work_id"], tradition, tonic))
            except ApiProblem as err:
                if err.code not in ("not-audio", "audio-unusable"):
                    raise
                st.info(err.detail)
        else:
            st.info(f"The content is {kind.media_type}, not a recording: the waveform, spectrogram, pitch, bands and "
                    "fractal dimension need audio.", icon=":material/graphic_eq:")
        show_score(api, detail, content, kind)
        show_map()


main()
