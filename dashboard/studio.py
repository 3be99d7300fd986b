"""What the Studio page shows of a job (the page is dashboard/views/studio.py): its progress, and its
result — a generated piece to listen to with its pitch against the tradition's grid and its metrics,
instruments per segment, label distributions, a transcription to download."""

from __future__ import annotations

from typing import Any, cast

import pandas as pd
import streamlit as st

from dashboard.client import Grid, Pitch
from dashboard.pitch import deviation_chart, pitch_chart, pitch_frame
from dashboard.ui import short
from dashboard.wallet.flow import ActionClient

KINDS = {"generation": "Make a piece", "recognition": "Hear the instruments", "classification": "Place it in a tradition",
         "transcription": "Read a score image"}
MODELS = {"generation": ("generation",), "recognition": ("recognition",), "transcription": ("omr",),
          "classification": ("classification/tradition", "classification/han_region", "classification/han_genre",
                             "classification/dance")}


def model_words(models: dict[str, dict[str, Any]], kind: str) -> tuple[bool, str]:
    """Whether the job's model is there, and a line that says which (or how to get one)."""
    found = [(k, models[k]) for k in MODELS[kind] if models.get(k, {}).get("available")]
    if not found:
        return False, ("This service has no model for this yet: its operator restores the shipped `models/` folder or "
                       "trains one (`heritage --help`).")
    return True, "Model: " + ", ".join(f"`{m['file']}` ({'shipped default' if m['shipped'] else 'trained here'}, "
                                       f"{_size(m['size'])})" for _, m in found)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} KB"


def show_progress(job: dict[str, Any]) -> bool:
    """The job's progress bar while it runs; True once it is done, an error when it failed."""
    if job["status"] in ("queued", "running"):
        st.progress(float(job["progress"]), text=f"{job['status']}: {job['stage'] or 'waiting for the worker'}")
        return False
    if job["status"] != "done":
        st.error(f"The job {job['status']}: {job['error']}", icon=":material/error:")
        return False
    return True


def show_result(api: ActionClient, job: dict[str, Any]) -> None:
    result: dict[str, Any] = job["result"]
    show = {"generation": _piece, "recognition": _instruments, "classification": _labels, "transcription": _transcription}
    show[job["kind"]](api, result)
    model = result["models"][0] if result["models"] else {}
    st.caption(f"Stored by CID with its manifest `{short(result['manifest_cid'], 16)}` · model `{model.get('file')}` "
               f"(`{short(model.get('cid'), 16)}`) · inputs: " +
               ", ".join(f"work #{i['work_id']}" if i["work_id"] else f"`{short(i['cid'], 16)}`" for i in result["inputs"]))


def _piece(api: ActionClient, r: dict[str, Any]) -> None:
    st.subheader(f"{r['bars']} cycles of {r['cycle']} in {r['tradition']} ({r['mode'] or 'no mode'}), {r['notes']} notes")
    st.audio(api.content(r["outputs"]["wav"]["cid"]).data, format="audio/wav")
    st.download_button("Download the MIDI", api.content(r["outputs"]["midi"]["cid"]).data, file_name="piece.mid",
                       mime="audio/midi")
    metrics = pd.DataFrame([{"metric": k, "value": v} for k, v in sorted(r["metrics"].items())])
    st.dataframe(metrics, hide_index=True)
    pitch = cast(Pitch, r["pitch"])
    grid = cast(Grid, r["pitch"]["grid"])
    voiced = pitch_frame(pitch, grid)
    mad = pitch["median_abs_deviation_cents"]
    st.markdown(f"**Pitch against the grid of {grid['title']}** — median |deviation| "
                f"{'—' if mad is None else f'{mad:.1f} cents'}, {100 * pitch['voiced_share']:.0f} % of frames voiced")
    if voiced.empty:
        st.info("pYIN found no pitched frame in the rendering: there is no contour to measure.")
        return
    st.altair_chart(pitch_chart(voiced, grid), width="stretch")
    st.altair_chart(deviation_chart(voiced), width="stretch")


def _instruments(api: ActionClient, r: dict[str, Any]) -> None:
    rows = [{"segment": s["segment"], "from (s)": s["start_s"],
             **{f"#{i + 1}": f"{x['instrument']} {x['p']:.2f}" for i, x in enumerate(s["top"])}} for s in r["segments"]]
    st.subheader(f"Instruments per {r['segment_s']:g}-s segment")
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def _labels(api: ActionClient, r: dict[str, Any]) -> None:
    for task, dist in r["distributions"].items():
        st.subheader(f"{task}: {r['top'].get(task, '—')}")
        top = sorted(dist.items(), key=lambda kv: -kv[1])[:8]
        st.bar_chart(pd.DataFrame({"label": [k for k, _ in top], "p": [v for _, v in top]}).set_index("label"))


def _transcription(api: ActionClient, r: dict[str, Any]) -> None:
    st.subheader(f"{r['staves']} staves, {r['notes']} notes ({r['ignored_tokens']} tokens ignored)")
    for name, file, mime in (("musicxml", "transcription.musicxml", "application/vnd.recordare.musicxml+xml"),
                             ("midi", "transcription.mid", "audio/midi")):
        st.download_button(f"Download the {name.upper()}", api.content(r["outputs"][name]["cid"]).data, file_name=file,
                           mime=mime, key=f"download-{name}")
