"""The four Studio jobs: what each checks before it is queued (api/studio.py) and what it runs (the
CLI's functions: `ml.studio`, `ml.generation.piece.make_piece_from_works`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from api.jobs import Job
from api.problems import Problem
from api.state import ApiState
from api.studio import CLASSIFIERS, JobInput, Outputs, allowed_works, input_file, job_input, model_file, report, submit
from core.errors import InputError
from core.types import Progress
from ml import defaults


def recognition(state: ApiState, *, work_id: int | None, content_cid: str | None, top: int) -> Job:
    inp = job_input(state, work_id=work_id, content_cid=content_cid, accepts=("audio",))
    model = model_file("recognition")

    def run(folder: Path, progress: Progress) -> Outputs:
        from ml.studio import recognise

        progress("recognising instruments per segment", 1, 10)
        r = recognise(input_file(folder, inp), model=model, top=top)
        silent = sum(1 for s in r["segments"] if s["top"][0]["instrument"] == "silence")
        return Outputs({"report": report(folder, "recognition", r)}, r, {"top": top}, {"segments": float(len(r["segments"])),
                       "silent_segments": float(silent)}, title=f"Instruments heard in {inp.cid}", architecture="recognition/dnn-hmm")

    return submit(state, "recognition", {"work_id": inp.work_id, "content_cid": inp.cid, "top": top}, [inp],
                  {"recognition": model}, run, content="report")


def classification(state: ApiState, *, work_id: int | None, content_cid: str | None) -> Job:
    inp = job_input(state, work_id=work_id, content_cid=content_cid, accepts=("audio", "score"))
    models = {k: p for k in CLASSIFIERS if (p := _optional(k)) is not None}
    if not models:
        model_file(CLASSIFIERS[0])  # the named refusal, saying how to get one

    def run(folder: Path, progress: Progress) -> Outputs:
        from ml.studio import classify

        progress("rendering the score" if inp.kind == "score" else "classifying", 1, 10)
        dist = classify(input_file(folder, inp), models=list(models.values()))
        top = {task: max(d, key=lambda k: d[k]) for task, d in dist.items() if d}
        return Outputs({"report": report(folder, "classification", dist)}, {"distributions": dist, "top": top},
                       {"tasks": sorted(dist)}, {f"{t}_p": float(d[top[t]]) for t, d in dist.items() if d},
                       title=f"Tradition, region and genre of {inp.cid}", architecture="classification/audio-ensemble")

    return submit(state, "classification", {"work_id": inp.work_id, "content_cid": inp.cid}, [inp], models, run,
                  content="report")


def _optional(kind: str) -> Path | None:
    try:
        return defaults.default_model(kind)
    except defaults.NoModel:
        return None


def transcription(state: ApiState, *, work_id: int | None, content_cid: str | None) -> Job:
    inp = job_input(state, work_id=work_id, content_cid=content_cid, accepts=("image",))
    model = model_file("omr")

    def run(folder: Path, progress: Progress) -> Outputs:
        from ml.studio import transcribe

        progress("finding staves and reading them", 1, 10)
        t = transcribe(input_file(folder, inp, "score"), model=model, out=folder / "out")
        return Outputs({"musicxml": t.musicxml, "midi": t.midi, "tokens": t.tokens},
                       {"staves": t.staves, "notes": t.notes, "ignored_tokens": t.ignored},
                       {"image_cid": inp.cid, "staves": t.staves, "ignored_tokens": t.ignored, "decoding": "greedy CTC"},
                       dict(t.metrics), title=f"Transcription of {inp.cid}", architecture=f"omr/{t.kind}")

    return submit(state, "transcription", {"work_id": inp.work_id, "content_cid": inp.cid}, [inp], {"omr": model}, run,
                  content="musicxml", renditions=("midi",))


@dataclass(frozen=True)
class PieceAsk:
    """What a generated piece is asked for (POST /jobs/generation's body, checked)."""

    tradition: str
    works: tuple[int, ...]
    seed: int
    seconds: float
    bpm: float
    temperature: float
    prompt_bars: int
    instrument: str
    mode: str | None
    cycle: str | None
    audio_metrics: bool


def generation(state: ApiState, ask: PieceAsk) -> Job:
    from ml.tradition import load_tradition

    try:
        t = load_tradition(ask.tradition)
        if ask.mode is not None:
            t.mode(ask.mode)
        if ask.cycle is not None:
            t.cycle(ask.cycle)
    except InputError as err:
        raise Problem(400, "unknown-tradition", f"{err}; GET /visual/traditions lists the traditions") from err
    cids = allowed_works(state, ask.works)  # refused before anything is read or generated
    inputs = [JobInput(cid, w, b"", "work") for w, cid in cids.items()]
    model = model_file("generation")
    multimodal = defaults.candidates("multimodal")[0] if _optional("multimodal") is None else defaults.default_model("multimodal")

    def run(folder: Path, progress: Progress) -> Outputs:
        from ml.generation.piece import PieceSettings, make_piece_from_works
        from ml.generation.train import load
        from ml.saved import cached
        from ml.studio import pitch_on_grid

        progress("loading the model", 1, 10)
        saved = cached(model, load)
        if not saved.trained.conditioned:
            raise InputError(f"{model.name} is the unconditioned baseline: the Studio needs the conditioned model")
        data = {w: b"".join(state.store.cat(cid)) for w, cid in cids.items()}
        settings = PieceSettings(mode=ask.mode, cycle=ask.cycle, seconds=ask.seconds, bpm=ask.bpm, seed=ask.seed,
                                 prompt_bars=ask.prompt_bars, temperature=ask.temperature, instrument=ask.instrument,
                                 audio_metrics=ask.audio_metrics)
        progress("generating under the tradition's masks and rendering", 2, 10)
        piece = make_piece_from_works(saved, t, data, cids, settings=settings, out=folder / "out", multimodal_path=multimodal)
        progress("tracking the pitch against the tuning grid", 7, 10)
        pitch = pitch_on_grid(Path(piece["wav"]), tradition=t.id)
        reg = piece["register"]
        result = {k: piece[k] for k in ("tradition", "mode", "cycle", "bars", "notes", "renderer", "recordings")}
        return Outputs({"midi": Path(piece["midi"]), "wav": Path(piece["wav"]), "metrics": Path(piece["metrics_file"])},
                       {**result, "pitch": pitch}, reg["parameters"], reg["metrics"], seed=ask.seed, title=reg["title"],
                       architecture="generation/lattice-transformer")

    params = {"tradition": ask.tradition, "works": list(ask.works), "seed": ask.seed, "seconds": ask.seconds}
    return submit(state, "generation", params, inputs, {"generation": model}, run, content="midi", renditions=("wav",))
