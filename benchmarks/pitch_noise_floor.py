"""The pitch tracker's own noise floor: exact scales of every tradition, rendered and tracked back.

    .venv/bin/python -m benchmarks.pitch_noise_floor [--traditions javanese_pelog maqam_rast]
        [--instruments flute violin] [--tonic-shifts 0 2.5 5 7.5] [--note-seconds 1.0]
        [--sample-rate 22050] [--out-dir benchmarks/results]

For each tradition file (ml/tradition/files/*.yaml, all by default): the exact scale of its
tuning (every degree over one period and the closing tonic, cents from the file, at the file's
tonic reference in Hz, moved by each of --tonic-shifts cents) is rendered as separate notes of
--note-seconds, 0.1 s apart,

- by additive synthesis (`render_additive`, a sustained and a plucked timbre): exact by construction;
- by FluidSynth with FluidR3_GM and each GM instrument of --instruments (`render_fluidsynth`, one
  pitch bend per note): exact to ½ cent relative to the soundfont's own tuning, which is itself a
  few cents off and differs between samples.

Each render is tracked with pYIN alone (its 10-cent grid) and with pYIN + YIN refinement (the
tracker of ml.metrics), in the metrics' default band 65–2093 Hz, one median per note over the note
minus 0.05 s at both ends. pYIN's grid is fixed in Hz (steps of 10 cents from fmin), so its error
depends on where a pitch falls between grid points: the tonic shifts (default quarter steps of
the grid) sample that phase instead of flattering or penalising one tuning. Reported per
tradition × renderer × tracker: median, 90th percentile and max of |tracked − exact| in cents, the
median signed error (bias: for FluidSynth mostly the soundfont's detune), and the p90 after
removing that bias. A modal error measured from audio is meaningful only above these figures.

Writes benchmarks/results/pitch_noise_floor.json (every note's error) and pitch_noise_floor.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from core.errors import InputError
from ml.data.render import soundfonts
from ml.generation.microtonal import PLUCKED, SUSTAINED, MicroNote, hz_to_cents, render_additive, render_fluidsynth, scale_notes
from ml.metrics.pitch import note_pitches, track_pitch
from ml.tradition import load_tradition, traditions

RESULTS = Path(__file__).parent / "results"
BAND = (65.0, 2093.0)  # Hz: the default of ml.metrics.modal_error_audio, independent of any tonic


def renders(
    notes: list[MicroNote], *, tonic_hz: float, instruments: list[str], soundfont: Path | None, sample_rate: int
) -> dict[str, NDArray[np.float32]]:
    """Audio of the scale notes by every renderer, by renderer name."""
    out = {
        "additive sustained": render_additive(notes, tonic_hz=tonic_hz, timbre=SUSTAINED, sample_rate=sample_rate),
        "additive plucked": render_additive(notes, tonic_hz=tonic_hz, timbre=PLUCKED, sample_rate=sample_rate),
    }
    if soundfont is not None:
        for instrument in instruments:
            out[f"FluidR3 {instrument}"] = render_fluidsynth(
                notes, program=instrument, soundfont=soundfont, tonic_hz=tonic_hz, sample_rate=sample_rate
            )
    return out


def errors(y: NDArray[np.float32], notes: list[MicroNote], *, tonic_hz: float, sample_rate: int) -> dict[str, list[float]]:
    """Tracked minus exact cents, one per note (NaN where the note was not voiced), by tracker: one pYIN
    pass serves both (the "pyin" row reads its grid values, the refined row the YIN-refined ones)."""
    refined = track_pitch(y, sample_rate=sample_rate, fmin=BAND[0], fmax=BAND[1], refine=True)
    tracks = {"pyin": replace(refined, f0_hz=refined.pyin_hz), "pyin+yin": refined}
    out = {}
    for tracker, track in tracks.items():
        tracked = note_pitches(track, spans=[(n.onset, n.onset + n.duration) for n in notes])
        cents = hz_to_cents(np.array([t.hz for t in tracked]), tonic_hz=tonic_hz)
        out[tracker] = [float(c - float(n.cents or 0.0)) for c, n in zip(cents, notes, strict=True)]
    return out


def stats(errs: list[float]) -> dict[str, float | int]:
    e = np.array(errs)
    e = e[np.isfinite(e)]
    if e.size == 0:
        return {"notes": 0, "untracked": len(errs)}
    bias = float(np.median(e))
    return {
        "notes": int(e.size),
        "untracked": len(errs) - int(e.size),
        "median_abs": float(np.median(np.abs(e))),
        "p90_abs": float(np.percentile(np.abs(e), 90)),
        "max_abs": float(np.max(np.abs(e))),
        "bias": bias,
        "p90_abs_unbiased": float(np.percentile(np.abs(e - bias), 90)),
    }


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        "# Pitch tracker noise floor on exact renders",
        "",
        f"Command: `{meta['command']}`  ",
        f"Sample rate {meta['sample_rate']} Hz, notes {meta['note_seconds']} s, tonic shifts {meta['tonic_shifts_cents']} cents, "
        f"tracker band {BAND[0]:.0f}–{BAND[1]:.0f} Hz, soundfont {meta['soundfont'] or '(none)'}; "
        f"{meta['seconds']:.0f} s on {meta['platform']}.",
        "",
        "|cents| = |tracked − exact| per note (median over the note's voiced frames), pooled over the tonic shifts. "
        "Bias: median signed error (for FluidSynth mostly the soundfont sample's own detune); p90 unbiased: after removing it.",
        "",
        "| tradition | renderer | tracker | notes | median | p90 | max | bias | p90 unbiased |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        s = r["stats"]
        if s["notes"] == 0:
            lines.append(f"| {r['tradition']} | {r['renderer']} | {r['tracker']} | 0 | – | – | – | – | – |")
            continue
        lines.append(
            f"| {r['tradition']} | {r['renderer']} | {r['tracker']} | {s['notes']} | {s['median_abs']:.2f} | {s['p90_abs']:.2f} | "
            f"{s['max_abs']:.2f} | {s['bias']:+.2f} | {s['p90_abs_unbiased']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traditions", nargs="+", default=None, help="tradition ids (default: every file in ml/tradition/files)")
    parser.add_argument("--instruments", nargs="+", default=["flute", "violin"], help="GM instruments for FluidSynth")
    parser.add_argument("--tonic-shifts", nargs="+", type=float, default=[0.0, 2.5, 5.0, 7.5], help="cents added to the tonic")
    parser.add_argument("--note-seconds", type=float, default=1.0, help="length of each scale note in s (default 1.0)")
    parser.add_argument("--sample-rate", type=int, default=22050, help="Hz (default 22050)")
    parser.add_argument("--out-dir", type=Path, default=RESULTS, help="where the JSON and markdown go (default benchmarks/results)")
    args = parser.parse_args()
    console = Console()
    ids = args.traditions or traditions()
    fonts = [f for f in soundfonts() if f.name == "FluidR3_GM.sf2"]
    soundfont = fonts[0].path if fonts else None
    if soundfont is None:
        console.print("[yellow]FluidR3_GM.sf2 not installed (apt-get install fluid-soundfont-gm): additive renders only[/]")

    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with Progress(console=console) as progress:
        task = progress.add_task("render and track", total=len(ids) * len(args.tonic_shifts))
        for tradition_id in ids:
            tradition = load_tradition(tradition_id)
            exact = tradition.scale_cents()
            notes = scale_notes(exact, note_s=args.note_seconds, gap_s=0.1)
            pooled: dict[tuple[str, str], dict[str, list[float]]] = {}
            for shift in args.tonic_shifts:
                tonic_hz = tradition.tonic_hz * 2 ** (shift / 1200)
                progress.update(task, description=f"{tradition_id} {shift:+g} c: rendering")
                try:
                    audio = renders(
                        notes, tonic_hz=tonic_hz, instruments=args.instruments, soundfont=soundfont, sample_rate=args.sample_rate
                    )
                except InputError as exc:
                    raise SystemExit(f"error: {exc}") from exc
                for renderer, y in audio.items():
                    progress.update(task, description=f"{tradition_id} {shift:+g} c: tracking {renderer}")
                    for tracker, errs in errors(y, notes, tonic_hz=tonic_hz, sample_rate=args.sample_rate).items():
                        pooled.setdefault((renderer, tracker), {})[f"{shift:g}"] = errs
                progress.advance(task)
            for (renderer, tracker), by_shift in pooled.items():
                everything = [e for errs in by_shift.values() for e in errs]
                rows.append({"tradition": tradition_id, "renderer": renderer, "tracker": tracker, "exact_cents": exact.tolist(),
                             "errors_cents_by_tonic_shift": by_shift, "stats": stats(everything)})  # fmt: skip

    meta = {
        "command": "python -m benchmarks.pitch_noise_floor" + ("" if args.traditions is None else " --traditions " + " ".join(ids)),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sample_rate": args.sample_rate,
        "note_seconds": args.note_seconds,
        "tonic_shifts_cents": args.tonic_shifts,
        "band_hz": BAND,
        "instruments": args.instruments,
        "soundfont": soundfont.name if soundfont else None,
        "seconds": time.perf_counter() - started,
    }
    table = Table(title="Tracker noise floor, |tracked − exact| cents")
    for column in ("tradition", "renderer", "tracker", "median", "p90", "bias", "p90 unbiased"):
        table.add_column(column, justify="left" if column in ("tradition", "renderer", "tracker") else "right")
    for r in rows:
        s = r["stats"]
        if s["notes"]:
            table.add_row(r["tradition"], r["renderer"], r["tracker"], f"{s['median_abs']:.2f}", f"{s['p90_abs']:.2f}",
                          f"{s['bias']:+.2f}", f"{s['p90_abs_unbiased']:.2f}")  # fmt: skip
    console.print(table)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "pitch_noise_floor.json").write_text(json.dumps({**meta, "rows": rows}, indent=2))
    (args.out_dir / "pitch_noise_floor.md").write_text(markdown(rows, meta))
    console.print(f"wrote {args.out_dir / 'pitch_noise_floor.json'} and {args.out_dir / 'pitch_noise_floor.md'}")


if __name__ == "__main__":
    main()
