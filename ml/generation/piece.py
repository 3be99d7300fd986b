"""One generated piece from registered works: the path `heritage generate` and the demo share.

`make_piece` encodes the conditioning works on the tradition's lattice (a work that is a recording
instead lends the mode and genre that the multimodal model infers from its audio,
`ml.representation.multimodal_query.infer_conditioning`), prompts the conditioned network with the scores'
opening cycles, decodes under every mask, writes the MIDI (exact microtonal pitch bends), a WAV
(FluidSynth, or additive synthesis when no soundfont is installed) and the metrics, and returns what
registration needs (`chain.derive.register_output`).

`fit_on_works` trains a small conditioned network on exactly the works a piece will derive from, so
that its royalties flow to everything it learned from: the demo's machine maker. It has no held-out
songs (the works are too few), so its "validation" loss is the training loss, and its model file says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.cid import file_cid
from core.errors import HeritageError, InputError
from core.types import Cid
from ml.generation.decode import SampleConfig
from ml.generation.encoding import encode_content
from ml.generation.evaluation import Reference, piece_metrics, span
from ml.generation.inference import bars_for, generate_ours
from ml.generation.lattice import LatticePiece, Vocabulary, micro_notes
from ml.generation.microtonal import render_additive, render_fluidsynth, write_microtonal_midi
from ml.generation.model import ModelSize
from ml.generation.songs import observed_ornament_rate, seen_conditions
from ml.generation.train import SavedGenerator, TrainConfig, save, train
from ml.tradition import Tradition

if TYPE_CHECKING:
    from ml.representation.multimodal import SavedMultimodal
    from ml.representation.multimodal_query import Conditioning

SAMPLE_RATE = 22050


@dataclass(frozen=True)
class PieceSettings:
    """What a piece is asked for (`heritage generate`'s options)."""

    mode: str | None = None
    cycle: str | None = None
    seconds: float = 30.0
    bpm: float = 80.0
    seed: int = 0
    prompt_bars: int = 2
    temperature: float = 1.0
    instrument: str = "flute"
    audio_metrics: bool = True


def recording_suffix(data: bytes) -> str | None:
    """The file suffix of audio that libsndfile reads (".wav", ".flac", ".ogg", ".mp3", ".aiff"); None
    for anything else (a score)."""
    import io

    import soundfile as sf  # type: ignore[import-untyped]

    try:
        info = sf.info(io.BytesIO(data))
    except (RuntimeError, sf.LibsndfileError):
        return None
    return {"WAV": ".wav", "WAVEX": ".wav", "FLAC": ".flac", "OGG": ".ogg", "MP3": ".mp3", "AIFF": ".aiff"}.get(info.format, ".wav")


def is_recording(data: bytes) -> bool:
    """Whether the bytes are audio (`recording_suffix`), not a score."""
    return recording_suffix(data) is not None


def split_works(data: Mapping[int, bytes], cids: Mapping[int, Cid], *, tradition: Tradition, cycle: str | None = None,
                ) -> tuple[dict[int, LatticePiece], dict[int, str]]:
    """The works that are scores, on the lattice, and the works that are recordings, with their file
    suffix (module docstring). A work that is neither raises the score reader's InputError."""
    scores: dict[int, LatticePiece] = {}
    recordings: dict[int, str] = {}
    for w in data:
        suffix = recording_suffix(data[w])
        if suffix is not None:
            recordings[w] = suffix
        else:
            scores[w] = encode_content(data[w], tradition=tradition, cycle=cycle, cid=str(cids[w]))
    return scores, recordings


def recording_conditioning(model: SavedMultimodal, data: Mapping[int, bytes], recordings: Mapping[int, str], *,
                           tradition: Tradition) -> dict[int, Conditioning]:
    """Each recording's conditioning labels (mode, cycle, genre), inferred by the multimodal model from its audio."""
    import tempfile

    from ml.representation.multimodal_query import infer_conditioning

    if model.tradition != tradition.id:
        raise InputError(f"the multimodal model knows {model.tradition}, not {tradition.id}: a recording conditions a piece "
                         f"only in a tradition the model was trained on (`heritage generation multimodal`)")
    out = {}
    with tempfile.TemporaryDirectory(prefix="heritage-recording-") as tmp:
        for w, suffix in recordings.items():
            path = Path(tmp) / f"work-{w}{suffix}"
            path.write_bytes(data[w])
            out[w] = infer_conditioning(model, audio=path)
    return out


def make_piece(saved: SavedGenerator, tradition: Tradition, data: Mapping[int, bytes], cids: Mapping[int, Cid], *,
               settings: PieceSettings, out: Path, reference_pieces: Sequence[LatticePiece] | None = None,
               multimodal: SavedMultimodal | None = None) -> dict[str, Any]:
    """Generate from the works (module docstring); write `<tradition>-<works>-seed<seed>.mid/.wav/.metrics.json`
    in `out`. The corpus metrics compare with `reference_pieces` (None: not measured). A work that is a
    recording conditions through `multimodal` (its inferred mode and genre; it lends no prompt, and the
    cycle is `settings.cycle`, a score's, or the tradition's first);
    InputError when a recording comes without that model. Returns the payload and, under "register", the
    title, description, parameters and metrics for the manifest."""
    import soundfile as sf

    from ml.data.render import soundfonts

    t, s = tradition, settings
    scores, recordings = split_works(data, cids, tradition=t, cycle=s.cycle)
    heard: dict[int, Conditioning] = {}
    if recordings:
        if multimodal is None:
            raise InputError(f"work(s) {', '.join(map(str, recordings))} are recordings: conditioning on a recording needs "
                             "the multimodal model that infers its mode, cycle and genre; train it with `heritage generation "
                             "multimodal` (or condition on scores)")
        heard = recording_conditioning(multimodal, data, recordings, tradition=t)
    pieces = list(scores.values())
    labels = [c.labels for c in heard.values()]
    mode = (s.mode or next((p.mode for p in pieces if p.mode), None) or next((x["mode"] for x in labels if x["mode"]), None)
            or t.modes[0].name)
    # Not the cycle heard in a recording: nearest centroid falls below the majority class there (reports/multimodal.md).
    cycle = s.cycle or (pieces[0].cycle if pieces else None) or t.cycles[0].name
    context = next((p.context for p in pieces if p.context), None) or next((x["genre"] for x in labels if x["genre"]), None)
    bars = bars_for(s.seconds, bpm=s.bpm, beats=t.cycle(cycle).beats)
    prompt = [p.first_bars(s.prompt_bars) for p in pieces if p.cycle == cycle] if s.prompt_bars else []
    while prompt and sum(-(-p.total_ticks // p.cycle_ticks) for p in prompt) >= bars:
        prompt.pop()
    facts = saved.facts
    own = facts.get("tradition") == t.id
    rate = (float(facts["ornament_rate"][0]), float(facts["ornament_rate"][1])) if own and "ornament_rate" in facts else None
    g, constraints = generate_ours(saved, tradition=t, mode=mode, cycle=cycle, context=context, bars=bars, prompt=prompt,
                                   seed=s.seed, sample=SampleConfig(temperature=s.temperature), ornament_rate=rate)
    notes = micro_notes(g.piece, t, bpm=s.bpm)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{t.id}-{'-'.join(map(str, data))}-seed{s.seed}"
    mid, wav, metrics_file = out / f"{stem}.mid", out / f"{stem}.wav", out / f"{stem}.metrics.json"
    write_microtonal_midi(notes, mid, program=s.instrument, tonic_hz=t.tonic_hz)
    fonts = soundfonts()
    try:
        y = render_fluidsynth(notes, program=s.instrument, soundfont=fonts[0].path, tonic_hz=t.tonic_hz)
        renderer = f"FluidSynth, {fonts[0].name}, {s.instrument}"
    except (IndexError, HeritageError):
        y = render_additive(notes, tonic_hz=t.tonic_hz)
        renderer = "additive synthesis (no FluidSynth or soundfont)"
    sf.write(wav, y, SAMPLE_RATE, subtype="PCM_16")
    prompt_cycles = g.prompt_ticks // g.piece.cycle_ticks
    measured = span(g.piece, skip_bars=prompt_cycles, bars=bars)
    reference = Reference.build(reference_pieces, tradition=t, limit=150) if reference_pieces else None
    metrics = piece_metrics(measured, tradition=t, mode=mode, reference=reference, bpm=s.bpm)
    if s.audio_metrics:
        from ml.metrics.fidelity import modal_error_audio

        spans = [(n.onset, n.onset + n.duration) for n in notes]
        metrics["modal_error_audio_cents"] = modal_error_audio(y, sample_rate=SAMPLE_RATE, tradition=t, mode=mode,
                                                               spans=spans).mean_abs_cents
    measured_from = prompt_cycles + 1
    metrics_file.write_text(json.dumps({"metrics": metrics, "measured_cycles": [measured_from, bars], "renderer": renderer,
                                        "constraints": constraints.describe(), "tokens": list(g.tokens)}, indent=1))
    parameters = {"tradition": t.id, "mode": mode, "cycle": cycle, "seconds": s.seconds, "bpm": s.bpm, "bars": bars,
                  "prompt_bars": s.prompt_bars, "temperature": s.temperature, "constraints": constraints.describe(),
                  "conditioning": list(g.tokens[1:5]), "renderer": renderer,
                  "recordings": {str(w): {"views": list(c.views), "labels": dict(c.labels),
                                          "confidence": {k: round(v.confidence, 4) for k, v in c.inferred.items()}}
                                 for w, c in heard.items()}}
    works = ", ".join(map(str, data))
    return {"tradition": t.id, "mode": mode, "cycle": cycle, "bars": bars, "notes": len(notes), "midi": str(mid), "wav": str(wav),
            "metrics_file": str(metrics_file), "renderer": renderer, "midi_cid": file_cid(mid), "wav_cid": file_cid(wav),
            "metrics": metrics, "conditioned_on": {str(w): str(c) for w, c in cids.items()},
            "recordings": parameters["recordings"],
            "register": {"title": f"{t.id} piece conditioned on works {works} (seed {s.seed})",
                         "description": f"Generated by the lattice transformer (maker.model_cid) in {t.id}, mode {mode}, cycle "
                                        f"{cycle}, {bars} cycles at {s.bpm:g} bpm, prompted by the opening cycles of the "
                                        f"conditioning works and decoded under the tradition's masks; metrics measured on "
                                        f"cycles {measured_from}–{bars}. Renditions hold the WAV ({renderer}).",
                         "parameters": parameters,
                         "metrics": {k: float(v) for k, v in metrics.items() if v is not None}}}


SMALL_NETWORK = ModelSize(n_layer=2, n_head=2, n_embd=32, block_size=128, dropout=0.0)
SMALL_SCHEDULE = TrainConfig(epochs=100, batch_size=16, lr=3e-3)


@dataclass(frozen=True)
class SmallModel:
    """The size and schedule of `fit_on_works`: seconds of CPU for a handful of tunes."""

    network: ModelSize = SMALL_NETWORK
    schedule: TrainConfig = SMALL_SCHEDULE


def fit_on_works(pieces: Sequence[LatticePiece], *, tradition: Tradition, size: SmallModel = SmallModel(),
                 path: Path | None = None) -> SavedGenerator:
    """A conditioned network trained on `pieces` only (module docstring); with `path`, its model file.
    InputError when no piece is of `tradition`."""
    own = [p for p in pieces if p.tradition == tradition.id]
    if not own:
        raise InputError(f"none of the {len(pieces)} works is encoded in {tradition.id}: condition on works of that tradition")
    vocab = Vocabulary.build([tradition], contexts=sorted({p.context for p in own if p.context}))
    trained = train(own, own, vocab=vocab, gpt=size.network.gpt(len(vocab)), cfg=size.schedule, conditioned=True)
    facts = {"tradition": tradition.id, "ornament_rate": list(observed_ornament_rate(own, tradition)),
             "seen_conditions": seen_conditions(own),
             "train_pieces": len(own), "validation_pieces": 0,
             "validation": "none: trained on the works it derives from only; the losses are training losses",
             "train_loss": min(trained.losses), "epochs": size.schedule.epochs}
    learned = tuple(sorted(p.cid or "" for p in own))
    if path is not None:
        save(path, trained, learned_from=learned, split_id="works", facts=facts)
    return SavedGenerator(trained, learned, "works", facts)


def reference_pieces_for(saved: SavedGenerator, tradition: Tradition) -> Sequence[LatticePiece] | None:
    """The corpus a piece's metrics are measured against: the Essen Han songs the model learned
    from, when the model is the Han model and the piece is in its tradition; None (not measured)
    otherwise."""
    if not saved.facts.get("tradition") == tradition.id == "chinese_pentatonic":
        return None
    from ml.data.corpora import essen
    from ml.generation.encoding import han_corpus

    learned = set(saved.learned_from)
    return han_corpus([p for p in essen(("Chinese Han",)) if p.cid in learned], tradition=tradition).pieces


def make_piece_from_works(saved: SavedGenerator, tradition: Tradition, data: Mapping[int, bytes], cids: Mapping[int, Cid],
                          *, settings: PieceSettings, out: Path, multimodal_path: Path) -> dict[str, Any]:
    """`make_piece` as `heritage generate` runs it: the corpus metrics against `reference_pieces_for`,
    and the multimodal model read from `multimodal_path` when a work is a recording (and the file
    exists; without it `make_piece` says what to do)."""
    heard = None
    if any(is_recording(b) for b in data.values()) and multimodal_path.exists():
        from ml.representation.multimodal import load as load_multimodal

        heard = load_multimodal(multimodal_path)
    return make_piece(saved, tradition, data, cids, settings=settings, out=out,
                      reference_pieces=reference_pieces_for(saved, tradition), multimodal=heard)
