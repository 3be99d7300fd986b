"""What the Studio runs, in one place for the CLI and the API (issue 23): recognition, classification
and transcription of one input, what kind of input some bytes are, and a piece's pitch against its
tradition's tuning grid. Generation is `ml.generation.piece.make_piece_from_works` (the CLI's path).

Models are read through `ml.saved.cached`: loaded once per process and kept, read again when the
file changes (size or modification time), so a service answers the second job without loading.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg", b"II*\x00": ".tif", b"MM\x00*": ".tif"}


def image_suffix(data: bytes) -> str | None:
    """".png", ".jpg" or ".tif" for a PNG, JPEG or TIFF image (by its first bytes); None otherwise."""
    return next((s for magic, s in IMAGE_MAGIC.items() if data.startswith(magic)), None)


def score_suffix(data: bytes) -> str | None:
    """The file suffix `ml.data.scores.load_score` reads the bytes with (MIDI, MusicXML, compressed
    MusicXML, ABC, Humdrum kern), judged by their first bytes; None when they look like none of them."""
    head = data[:2048].lstrip()
    if data.startswith(b"MThd"):
        return ".mid"
    if data.startswith(b"PK\x03\x04"):
        return ".mxl"
    if head.startswith(b"<?xml") or head.startswith(b"<score-"):
        return ".musicxml" if b"<score-" in data[:4096] else None
    if head.startswith(b"**kern"):
        return ".krn"
    if head.startswith(b"X:") or head.startswith(b"%abc") or b"\nX:" in head:
        return ".abc"
    return None


def recording(data: bytes) -> tuple[float, str] | None:
    """(length in seconds, file suffix) of a recording libsndfile decodes (WAV, FLAC, OGG, MP3, AIFF);
    None when the bytes are not such a recording."""
    import soundfile as sf  # type: ignore[import-untyped]

    try:
        info = sf.info(io.BytesIO(data))
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError):
        return None
    suffix = {"FLAC": ".flac", "OGG": ".ogg", "MP3": ".mp3", "AIFF": ".aiff"}.get(info.format, ".wav")
    return (float(info.frames) / float(info.samplerate) if info.samplerate else 0.0), suffix


def suffix_of(data: bytes) -> str:
    """The suffix the readers of these bytes go by (".wav", ".png", ".abc", …); ".bin" for unknown bytes."""
    found = recording(data)
    return found[1] if found else image_suffix(data) or score_suffix(data) or ".bin"


def input_kind(data: bytes) -> str:
    """"audio", "score", "image" or "unknown"."""
    if recording(data) is not None:
        return "audio"
    if image_suffix(data):
        return "image"
    return "score" if score_suffix(data) else "unknown"


# ---------------------------------------------------------------------- recognition
def recognise(path: Path, *, model: Path, top: int = 3) -> dict[str, Any]:
    """The `top` most likely instruments of each segment of the recording at `path` (the model's own
    preprocessing; a silent segment answers "silence"): {"segment_s", "labels", "segments": [{"segment",
    "start_s", "top": [{"instrument", "p"}]}]}."""
    from ml.recognition.model import load
    from ml.saved import cached

    recogniser = cached(model, load)
    per_segment = recogniser.recognise_file(path)
    step = recogniser.features.segment_s
    return {"segment_s": step, "labels": list(recogniser.labels),
            "segments": [{"segment": i, "start_s": i * step,
                          "top": [{"instrument": k, "p": v} for k, v in sorted(p.items(), key=lambda kv: -kv[1])[:top]]}
                         for i, p in enumerate(per_segment)]}


# ---------------------------------------------------------------------- classification
def classify(path: Path, *, models: Sequence[Path]) -> dict[str, dict[str, float]]:
    """Each task model's label distribution (most likely first) of a recording, or of a score
    (MIDI, MusicXML, ABC, kern) rendered first with FluidSynth (a flute; the first installed GM
    soundfont). Silence answers {"silence": 1.0}."""
    from ml.classification.saved import classify as classify_audio
    from ml.classification.saved import classify_file

    data = path.read_bytes()
    if recording(data) is not None:
        return classify_file(path, models)
    return classify_audio(render_score(data), models)


def render_score(data: bytes) -> NDArray[np.float32]:
    """A score's audio (22,050 Hz mono, FluidSynth); InputError for bytes that are no score."""
    from core.errors import InputError
    from ml.data.render import render, soundfonts
    from ml.data.scores import load_score

    suffix = score_suffix(data)
    if suffix is None:
        raise InputError("the input is neither a recording nor a score (MIDI, MusicXML, ABC, kern)")
    fonts = soundfonts()
    if not fonts:
        raise InputError("no General MIDI soundfont is installed to hear the score: apt-get install fluid-soundfont-gm")
    with tempfile.TemporaryDirectory(prefix="heritage-score-") as tmp:
        file = Path(tmp) / f"score{suffix}"
        file.write_bytes(data)
        return render(load_score(file), program="flute", soundfont=fonts[0].path)


# ---------------------------------------------------------------------- transcription
@dataclass(frozen=True)
class Transcription:
    musicxml: Path
    midi: Path
    tokens: Path
    staves: int
    notes: int
    ignored: int
    kind: str
    metrics: dict[str, float]


def transcribe(image: Path, *, model: Path, out: Path) -> Transcription:
    """Read the staves of a score image with the reader at `model`; write `<stem>.musicxml`, `.mid`
    and `.tokens.json` in `out`."""
    from ml.omr.saved import load
    from ml.omr.transcribe import midi_bytes, musicxml_bytes, read_image
    from ml.omr.transcribe import transcribe as read_score
    from ml.saved import cached

    reader = cached(model, load)
    t = read_score(reader.trained, read_image(image))
    out.mkdir(parents=True, exist_ok=True)
    xml, mid, tokens = out / f"{image.stem}.musicxml", out / f"{image.stem}.mid", out / f"{image.stem}.tokens.json"
    xml.write_bytes(musicxml_bytes(t.score))
    mid.write_bytes(midi_bytes(t.score))
    tokens.write_text(json.dumps([list(line) for line in t.tokens], indent=1))
    return Transcription(xml, mid, tokens, len(t.staves), len(t.score.flatten().notes), t.ignored, reader.trained.kind,
                         dict(reader.metrics))


# ---------------------------------------------------------------------- pitch on the grid
def pitch_on_grid(wav: Path, *, tradition: str, columns: int = 300) -> dict[str, Any]:
    """The pitch of a recording (pYIN, at most `columns` frames) in cents above the tradition's tonic,
    each frame's nearest degree of its tuning grid and deviation from it, and the grid itself (the
    series as GET /works/{id}/visual names them; null where a frame is unvoiced)."""
    import soundfile as sf

    from ml.data.audio import to_mono
    from ml.tradition import load_tradition
    from ml.visual import features as fx

    y, rate = sf.read(wav, dtype="float32", always_2d=True)
    mono = to_mono(y)
    grid = fx.TuningGrid.from_tradition(load_tradition(tradition))
    hop = max(fx.HOP_LENGTH, -(-mono.size // columns))
    contour = fx.pitch_contour(mono, sample_rate=int(rate), hop_length=hop)
    cents = fx.cents_above(contour.f0_hz, tonic_hz=grid.tonic_hz)
    near = grid.deviations(cents)
    voiced = np.isfinite(cents)

    def floats(x: NDArray[np.floating]) -> list[float | None]:
        return [None if not np.isfinite(v) else round(float(v), 1) for v in x]

    return {"grid": {"tradition": tradition, "title": grid.title, "tonic_hz": grid.tonic_hz, "period_cents": grid.period_cents,
                     "degrees": [{"name": n, "cents": c} for n, c in zip(grid.names, grid.cents, strict=True)]},
            "times_s": [round(float(t), 3) for t in contour.times], "f0_hz": floats(contour.f0_hz), "cents": floats(cents),
            "degree": [int(d) if d >= 0 else None for d in near.degree.tolist()],
            "deviation_cents": floats(near.deviation_cents),
            "voiced_share": round(float(voiced.mean()) if voiced.size else 0.0, 4),
            "median_abs_deviation_cents": round(float(np.median(np.abs(near.deviation_cents[voiced]))), 1)
            if voiced.any() else None}
