"""The four Studio jobs: what each checks before it is queued (api/studio.py) and what it runs (the
CLI's functions: `ml.studio`, `ml.generation.piece.make_piece_from_works`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from api.jobs import Job
from api.problems import Problem
from api.state import ApiState
from api.studio import (
    CLASSIFIERS,
    JobInput,
    Outputs,
    Run,
    allowed_works,
    input_file,
    job_input,
    model_file,
    report,
    submit,
)
from core.errors import InputError
from core.types import Cid, Progress
from ml import defaults

T = TypeVar("T")


def recognition(state: ApiState, *, work_id: int | None, content_cid: str | None, top: int) -> Job:
    inp = job_input(state, work_id=work_id, content_cid=content_cid, accepts=("audio",))
    model = model_file("recognition")

    return submit(state, "recognition", {"work_id": inp.work_id, "content_cid": inp.cid, "top": top}, [inp],
                  {"recognition": model}, in_child(state, _recognise, (inp, model, top)), content="report")


def _recognise(task: tuple[JobInput, Path, int], folder: Path, progress: Progress) -> Outputs:
    from ml.studio import recognise

    inp, model, top = task
    progress("recognising instruments per segment", 1, 10)
    r = recognise(input_file(folder, inp), model=model, top=top)
    silent = sum(1 for s in r["segments"] if s["top"][0]["instrument"] == "silence")
    return Outputs({"report": report(folder, "recognition", r)}, r, {"top": top}, {"segments": float(len(r["segments"])),
                   "silent_segments": float(silent)}, title=f"Instruments heard in {inp.cid}", architecture="recognition/dnn-hmm")


def in_child(state: ApiState, fn: Callable[[T, Path, Progress], Outputs], task: T) -> Run:
    """The job's run, handed to the service's model process (api/ml_worker.py)."""
    return lambda folder, progress: state.ml.call(fn, task, folder, progress)


def classification(state: ApiState, *, work_id: int | None, content_cid: str | None) -> Job:
    inp = job_input(state, work_id=work_id, content_cid=content_cid, accepts=("audio", "score"))
    models = {k: p for k in CLASSIFIERS if (p := _optional(k)) is not None}
    if not models:
        model_file(CLASSIFIERS[0])  # the named refusal, saying how to get one

    return submit(state, "classification", {"work_id": inp.work_id, "content_cid": inp.cid}, [inp], models,
                  in_child(state, _classify, (inp, list(models.values()))), content="report")


def _classify(task: tuple[JobInput, list[Path]], folder: Path, progress: Progress) -> Outputs:
    from ml.studio import classify

    inp, models = task
    progress("rendering the score" if inp.kind == "score" else "classifying", 1, 10)
    dist = classify(input_file(folder, inp), models=models)
    top = {t: max(d, key=lambda k: d[k]) for t, d in dist.items() if d}
    return Outputs({"report": report(folder, "classification", dist)}, {"distributions": dist, "top": top},
                   {"tasks": sorted(dist)}, {f"{t}_p": float(d[top[t]]) for t, d in dist.items() if d},
                   title=f"Tradition, region and genre of {inp.cid}", architecture="classification/audio-ensemble")


def _optional(kind: str) -> Path | None:
    try:
        return defaults.default_model(kind)
    except defaults.NoModel:
        return None


def transcription(state: ApiState, *, work_id: int | None, content_cid: str | None) -> Job:
    inp = job_input(state, work_id=work_id, content_cid=content_cid, accepts=("image",))
    model = model_file("omr")

    return submit(state, "transcription", {"work_id": inp.work_id, "content_cid": inp.cid}, [inp], {"omr": model},
                  in_child(state, _transcribe, (inp, model)), content="musicxml", renditions=("midi",))


def _transcribe(task: tuple[JobInput, Path], folder: Path, progress: Progress) -> Outputs:
    from ml.studio import transcribe

    inp, model = task
    progress("finding staves and reading them", 1, 10)
    t = transcribe(input_file(folder, inp, "score"), model=model, out=folder / "out")
    return Outputs({"musicxml": t.musicxml, "midi": t.midi, "tokens": t.tokens},
                   {"staves": t.staves, "notes": t.notes, "ignored_tokens": t.ignored},
                   {"image_cid": inp.cid, "staves": t.staves, "ignored_tokens": t.ignored, "decoding": "greedy CTC"},
                   dict(t.metrics), title=f"Transcription of {inp.cid}", architecture=f"omr/{t.kind}")


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
        data = {w: b"".join(state.store.cat(cid)) for w, cid in cids.items()}  # read here: the child has no store
        return state.ml.call(_generate, PieceTask(ask, model, multimodal, cids, data), folder, progress)

    params = {"tradition": ask.tradition, "works": list(ask.works), "seed": ask.seed, "seconds": ask.seconds}
    return submit(state, "generation", params, inputs, {"generation": model}, run, content="midi", renditions=("wav",))


@dataclass(frozen=True)
class PieceTask:
    """A generation job as the model process receives it: the ask, the files, the works' content."""

    ask: PieceAsk
    model: Path
    multimodal: Path
    cids: dict[int, Cid]
    data: dict[int, bytes]


def _generate(task: PieceTask, folder: Path, progress: Progress) -> Outputs:
    from ml.generation.piece import PieceSettings, make_piece_from_works
    from ml.generation.train import load
    from ml.saved import cached
    from ml.studio import pitch_on_grid
    from ml.tradition import load_tradition

    ask, model = task.ask, task.model
    progress("loading the model", 1, 10)
    saved = cached(model, load)
    if not saved.trained.conditioned:
        raise InputError(f"{model.name} is the unconditioned baseline: the Studio needs the conditioned model")
    settings = PieceSettings(mode=ask.mode, cycle=ask.cycle, seconds=ask.seconds, bpm=ask.bpm, seed=ask.seed,
                             prompt_bars=ask.prompt_bars, temperature=ask.temperature, instrument=ask.instrument,
                             audio_metrics=ask.audio_metrics)
    progress("generating under the tradition's masks and rendering", 2, 10)
    t = load_tradition(ask.tradition)
    piece = make_piece_from_works(saved, t, task.data, task.cids, settings=settings, out=folder / "out",
                                  multimodal_path=task.multimodal)
    progress("tracking the pitch against the tuning grid", 7, 10)
    pitch = pitch_on_grid(Path(piece["wav"]), tradition=t.id)
    reg = piece["register"]
    result = {k: piece[k] for k in ("tradition", "mode", "cycle", "bars", "notes", "renderer", "recordings")}
    return Outputs({"midi": Path(piece["midi"]), "wav": Path(piece["wav"]), "metrics": Path(piece["metrics_file"])},
                   {**result, "pitch": pitch}, reg["parameters"], reg["metrics"], seed=ask.seed, title=reg["title"],
                   architecture="generation/lattice-transformer")
