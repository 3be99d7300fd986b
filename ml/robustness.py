"""Robustness of the audio models: the same held-out clips under the changes a user's recording brings.

Each condition (`CONDITIONS`) turns a clean clip (mono, full scale ±1, at its rate) into what a
user might hand in — quieter, padded with silence, at another rate, in stereo, through a lossy
codec, noisier, a little sharper or faster — and the model answers it through its own
preprocessing (`ml.data.preprocess`), as `heritage recognize` and `classify` do. Accuracy per
condition sits beside the clean figure in reports/robustness.md.

`recognition_clips` and `task_clips` give the held-out clips of the recognition experiment (its
unseen songs in both soundfont families, the held-out tabla takes) and of a classification task
(its test songs, other soundfont family).

A clip of a song the model learned from is left out of that model's evaluation (`evaluate`), and
the report counts it: a shipped model and a recognition experiment can split the same corpus
differently, and a song heard in training is no test of robustness.

Scoring: a model gives one label per clip (`Model.predict`): the recogniser the label most of its
non-silent segments carry, a task classifier its most likely label. A clip answered "silence" is wrong.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from core.errors import InputError
from core.types import Progress
from ml.data.audio import add_noise, downmix, resample
from ml.data.preprocess import SILENCE, Prepared, PreprocessConfig, prepare

Signal = tuple[np.ndarray, int]
"""Samples ((n,) mono or (n, channels)) and their rate in Hz."""


@dataclass(frozen=True)
class Condition:
    name: str
    group: str
    apply: Callable[[np.ndarray, int, int], Signal]
    """(clean y (n,), its rate, seed) → what the model is given."""


def _level(db: float) -> Callable[[np.ndarray, int, int], Signal]:
    return lambda y, sr, seed: (y * np.float32(10 ** (db / 20) / max(float(np.max(np.abs(y))), 1e-12)), sr)


def _pad(lead_s: float, tail_s: float) -> Callable[[np.ndarray, int, int], Signal]:
    return lambda y, sr, seed: (np.concatenate([np.zeros(round(lead_s * sr), np.float32), y,
                                                np.zeros(round(tail_s * sr), np.float32)]), sr)


def _rate(target: int) -> Callable[[np.ndarray, int, int], Signal]:
    return lambda y, sr, seed: (resample(y, orig_rate=sr, target_rate=target), target)


def spaced_pair(delay_ms: float) -> Callable[[np.ndarray, int, int], Signal]:
    """Right channel 3 dB down and `delay_ms` late: a spaced pair, not a duplicated mono."""
    def run(y: np.ndarray, sr: int, seed: int) -> Signal:
        d = round(delay_ms / 1000 * sr)
        right = np.concatenate([np.zeros(d, np.float32), y[: len(y) - d]]) * np.float32(10 ** (-3 / 20))
        return np.stack([y, right], axis=1), sr

    return run


def _codec(fmt: str) -> Callable[[np.ndarray, int, int], Signal]:
    def run(y: np.ndarray, sr: int, seed: int) -> Signal:
        import soundfile as sf  # type: ignore[import-untyped]

        with tempfile.TemporaryDirectory(prefix="heritage-codec-") as tmp:
            path = Path(tmp) / f"clip.{fmt.lower()}"
            sf.write(path, y, sr, format=fmt)
            data, rate = sf.read(path, dtype="float32", always_2d=True)
        return data, int(rate)

    return run


def _noise(snr_db: float) -> Callable[[np.ndarray, int, int], Signal]:
    return lambda y, sr, seed: (add_noise(y, snr_db=snr_db, seed=seed), sr)


def _pitch(semitones: float) -> Callable[[np.ndarray, int, int], Signal]:
    def run(y: np.ndarray, sr: int, seed: int) -> Signal:
        import librosa

        return np.asarray(librosa.effects.pitch_shift(y, sr=sr, n_steps=semitones), dtype=np.float32), sr

    return run


def _tempo(rate: float) -> Callable[[np.ndarray, int, int], Signal]:
    def run(y: np.ndarray, sr: int, seed: int) -> Signal:
        import librosa

        return np.asarray(librosa.effects.time_stretch(y, rate=rate), dtype=np.float32), sr

    return run


CONDITIONS: tuple[Condition, ...] = (
    Condition("clean", "clean", lambda y, sr, seed: (y, sr)),
    *(Condition(f"peak {db:g} dBFS", "level", _level(db)) for db in (0.0, -20.0, -40.0)),
    Condition("1 s leading + 3 s trailing silence", "silence", _pad(1.0, 3.0)),
    *(Condition(f"{r / 1000:g} kHz", "sample rate", _rate(r)) for r in (8_000, 16_000, 44_100, 48_000)),
    Condition("stereo (R −3 dB, 0.5 ms late)", "stereo", spaced_pair(0.5)),
    Condition("MP3", "codec", _codec("MP3")),
    Condition("OGG Vorbis", "codec", _codec("OGG")),
    *(Condition(f"white noise, SNR {s:g} dB", "noise", _noise(s)) for s in (30.0, 20.0, 10.0)),
    *(Condition(f"pitch {s:+g} semitone", "pitch", _pitch(s)) for s in (-1.0, 1.0)),
    *(Condition(f"tempo ×{r:g}", "tempo", _tempo(r)) for r in (0.9, 1.1)),
)


@dataclass(frozen=True)
class Clip:
    label: str
    audio: np.ndarray
    """(n,) mono float32 at sample_rate."""
    sample_rate: int
    piece: str | None = None
    """CID of the song played; None for material that is not a rendered score (the tabla's rhythms)."""


@dataclass(frozen=True)
class Model:
    """A model as the robustness run sees it: its preprocessing and one label per prepared recording."""

    name: str
    preprocess: PreprocessConfig
    predict: Callable[[Prepared], str]
    learned_from: frozenset[str] = frozenset()
    """CIDs of the songs the model trained on: their clips are not evaluated."""


def recogniser_model(name: str, path: Path) -> Model:
    """A saved DNN-HMM (`heritage recognize`'s model): a clip's label is its segments' most frequent non-silent answer."""
    from ml.recognition.model import load

    r = load(path)

    def predict(p: Prepared) -> str:
        votes = [max(s, key=lambda k: s[k]) for s in r.recognise_prepared(p)]
        voiced = [v for v in votes if v != SILENCE]
        return max(sorted(set(voiced)), key=voiced.count) if voiced else SILENCE

    return Model(name, r.preprocess, predict, frozenset(r.learned_from))


def classifier_model(name: str, path: Path) -> Model:
    """A saved task classifier (`heritage classify`'s model): its most likely label."""
    from ml.classification.saved import classify_prepared, load

    m = load(path)
    return Model(name, m.preprocess, lambda p: next(iter(classify_prepared(m, p))), m.learned_from)


def select_conditions(names: Sequence[str]) -> tuple[Condition, ...]:
    """The conditions named (by name or group, case-insensitive) with clean first; all for no names.
    InputError naming the choices for a name that is neither."""
    if not names:
        return CONDITIONS
    wanted = {n.strip().lower() for n in names}
    known = {c.name.lower() for c in CONDITIONS} | {c.group.lower() for c in CONDITIONS}
    unknown = sorted(wanted - known)
    if unknown:
        groups = sorted({c.group for c in CONDITIONS})
        raise InputError(f"no condition or group {', '.join(map(repr, unknown))}: choose from the groups {', '.join(groups)} "
                         "or a condition's full name (`heritage robustness evaluate --help`)")
    return tuple(c for c in CONDITIONS if c.group == "clean" or c.name.lower() in wanted or c.group.lower() in wanted)


T = TypeVar("T")


def take(clips: list[T], limit: int) -> list[T]:
    """At most `limit` of `clips` (0: all), taken evenly so every class keeps its share."""
    if not limit or len(clips) <= limit:
        return clips
    step = len(clips) / limit
    return [clips[int(i * step)] for i in range(limit)]


def evaluate(runs: Sequence[tuple[Model, Sequence[Clip]]], *, conditions: Sequence[Condition] = CONDITIONS,
             say: Progress | None = None, seed: int = 0, mix: Callable[[np.ndarray], np.ndarray] = downmix) -> dict[str, Any]:
    """Accuracy of each model on its held-out clips under every condition: {"models": {name:
    {condition: {"accuracy", "n", "silence"}}}, "conditions": [...], "clips": {name: n}, "heard":
    {name: clips left out because the model learned from their song}}. A condition's random parts
    (noise) are seeded by (seed, clip index); `mix` is the path's channel mix (`benchmarks/downmix.py`
    compares the plain average)."""
    tell = say or (lambda stage, done, total: None)
    out: dict[str, dict[str, dict[str, float]]] = {}
    used: list[tuple[Model, list[Clip]]] = []
    heard: dict[str, int] = {}
    for model, given in runs:
        clips = [c for c in given if c.piece is None or c.piece not in model.learned_from]
        heard[model.name] = len(given) - len(clips)
        used.append((model, clips))
        per: dict[str, dict[str, float]] = {}
        for c in conditions:
            right = silent = 0
            for i, clip in enumerate(clips):
                y, sr = c.apply(clip.audio, clip.sample_rate, seed * 100_003 + i)
                answer = model.predict(prepare(y, sample_rate=sr, cfg=model.preprocess, mix=mix))
                right += answer == clip.label
                silent += answer == SILENCE
                tell(f"{model.name}: {c.name}", i + 1, len(clips))
            per[c.name] = {"accuracy": right / max(len(clips), 1), "n": len(clips), "silence": silent / max(len(clips), 1)}
        out[model.name] = per
    return {"models": out, "conditions": [{"name": c.name, "group": c.group} for c in conditions],
            "clips": {m.name: len(c) for m, c in used}, "heard": heard}


def write_report(report: dict[str, Any], out: Path) -> None:
    """reports/robustness.md and .json: per model, accuracy per condition beside the clean figure."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "robustness.json").write_text(json.dumps(report, indent=2))
    lines = ["# Robustness of the audio models to what users hand in", "",
             "Produced by `heritage robustness evaluate` on each model's held-out clips"
             f"{' — ' + report['description'] if report.get('description') else ''}. Every model answers through its own "
             "preprocessing (`ml/data/preprocess.py`: loudness to −23 LUFS, silence trimmed and marked). A clip's label: the "
             "recogniser's most frequent non-silent segment answer, a classifier's most likely label; \"silence\" counts as wrong.",
             ""]
    for name, per in report["models"].items():
        clean = per.get("clean", {}).get("accuracy")
        heard = report.get("heard", {}).get(name, 0)
        lines += [f"## {name} ({report['clips'][name]} clips"
                  + (f"; {heard} more left out: the model learned from their songs" if heard else "") + ")", "",
                  "| condition | group | accuracy | change from clean | answered silence |", "|---|---|---|---|---|"]
        for c in report["conditions"]:
            r = per[c["name"]]
            delta = "" if clean is None or c["name"] == "clean" else f"{100 * (r['accuracy'] - clean):+.1f} points"
            lines.append(f"| {c['name']} | {c['group']} | {r['accuracy']:.1%} | {delta} | {r['silence']:.1%} |")
        lines.append("")
    from ml.runtime import report_lines

    lines += report_lines(report)
    (out / "robustness.md").write_text("\n".join(lines) + "\n")


def recognition_clips(*, pieces: int, seconds: float, cache_dir: Path, seed: int = 0, instruments: Sequence[str] | None = None,
                      tabla: bool = True) -> list[Clip]:
    """The recognition experiment's held-out clips: its unseen test songs played by every instrument
    in both soundfont families, and tabla rhythms of the held-out takes (as `recognition evaluate`)."""
    from ml.data.render import both_families
    from ml.recognition.dataset import INSTRUMENTS_12, SAMPLE_RATE, TRIM_SLACK_S, clips
    from ml.recognition.experiment import choose_pieces
    from ml.recognition.tabla import LABEL, tabla_clips, tabla_files

    _, _, test_p, _, _ = choose_pieces(pieces, seed)
    out = []
    for font in both_families("the robustness evaluation").values():
        rendered = clips(test_p, instruments or INSTRUMENTS_12, font, cache_dir=cache_dir, seconds=seconds)
        out += [Clip(c.instrument, c.audio, SAMPLE_RATE, c.piece.cid if c.piece else None) for c in rendered]
    if tabla:
        made = tabla_clips(tabla_files().test, len(test_p), seconds=seconds + TRIM_SLACK_S, salt="test", sample_rate=SAMPLE_RATE)
        out += [Clip(LABEL, y, SAMPLE_RATE) for y in made]
    return out


def task_clips(task: str, *, cache_dir: Path, per_class: int = 60) -> list[Clip]:
    """A classification task's test songs rendered from the other (TimGM6mb) family, as `classification evaluate` tests them."""
    from ml.classification.experiment import ClassifyConfig, _pick, select
    from ml.classification.saved import SAMPLE_RATE
    from ml.classification.symbolic import TASKS
    from ml.data.render import both_families, render
    from ml.recognition.dataset import TRIM_SLACK_S

    cfg = ClassifyConfig(per_class=per_class)
    parts, _, _ = select(TASKS[task], cfg)
    font = both_families("the robustness evaluation")["TimGM6mb"]
    out = []
    cache_dir.mkdir(parents=True, exist_ok=True)
    for piece, label in parts["test"]:
        path = cache_dir / f"{task}-{piece.cid[-24:]}.npy"
        if path.exists():
            y = np.load(path)
        else:
            y = render(piece.abc, program=_pick(piece.cid, cfg.instruments), soundfont=font.path, tempo_bpm=cfg.tempo_bpm,
                       sample_rate=SAMPLE_RATE)[: int((cfg.seconds + TRIM_SLACK_S) * SAMPLE_RATE)]
            least = int((3 + TRIM_SLACK_S) * SAMPLE_RATE)
            if len(y) < least:  # a very short tune: looped to one segment, as the classifier was trained
                y = np.tile(y, int(np.ceil(least / len(y))))[:least]
            np.save(path, y)
        out.append(Clip(label, np.asarray(y, dtype=np.float32), SAMPLE_RATE, piece.cid))
    return out
