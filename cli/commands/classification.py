"""`heritage classification evaluate` and `heritage classify`: style and region classification."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cli.common import JsonOpt, console, errors, stages
from core.errors import InputError

classification_app = typer.Typer(help="Style and region classification of folk songs: audio models, ensembles, the symbolic path.",
                                 no_args_is_help=True)


CLASSIFIER_DIR = Path("cache/models/classification")


@classification_app.command("evaluate")
def classification_evaluate(task: list[str] = typer.Option(["tradition", "han_region", "han_genre", "dance"],
                                                           help="Tasks (repeat): tradition, han_region, han_genre, dance."),
                            per_class: int = typer.Option(60, min=10, help="Pieces per class at most (the first by CID)."),
                            epochs: int = typer.Option(15, min=1, help="Training epochs of each neural model."),
                            out: Path = typer.Option(Path("reports"), help="Where classification_audio.md/.json go."),
                            cache: Path = typer.Option(Path("cache/classification"), help="Rendered patches, reused."),
                            models: Path = typer.Option(CLASSIFIER_DIR, help="Where each task's model is saved.")) -> None:
    """Render each task's songs (an instrument drawn per song), train CNN, RNN, LSTM, CRNN and
    CNN + SVM on the FluidR3 family, ensemble them by soft voting and by stacking, test on unseen
    songs in both soundfont families beside the symbolic path, and write the report."""
    from ml.classification.audio import AudioModelConfig
    from ml.classification.experiment import ClassifyConfig, run_task, write_report

    cfg = ClassifyConfig(per_class=per_class, model=AudioModelConfig(epochs=epochs))
    reports = []
    with stages() as say:
        for name in task:
            reports.append(run_task(name, cfg, cache_dir=cache, say=say, model_path=models / f"{name}.pt"))
            write_report(reports, out)
    console.print((out / "classification_audio.md").read_text())


def _default_classifiers() -> list[Path]:
    """Each task's model by `ml.defaults.default_model` (trained first, then shipped), the tasks that have one."""
    from ml.defaults import FILES, NoModel, default_model

    found = []
    for kind in (k for k in FILES if k.startswith("classification/")):
        try:
            found.append(default_model(kind))
        except NoModel:
            continue
    return found


def classify(file: Path = typer.Argument(..., help="A recording (WAV, FLAC, OGG, MP3) or a score (MIDI, MusicXML, ABC, kern)."),
             models: Path | None = typer.Option(None, help="A task model or a folder of them `classification evaluate` saved "
                                                           "(default: each task's model in cache/models/classification/ "
                                                           "when you trained one, else the shipped models/classification/)."),
             top: int = typer.Option(5, min=1, help="Labels to show per task."),
             as_json: bool = JsonOpt) -> None:
    """The label distribution of FILE for each task (tradition, region, genre, dance type)."""
    from ml.runtime import one_answer_threads
    from ml.studio import classify as classify_input

    one_answer_threads()
    with errors():
        paths = _default_classifiers() if models is None else sorted(models.glob("*.pt")) if models.is_dir() else [models]
        if not paths or not paths[0].exists():
            raise InputError(f"no task models in {models}: train them with `heritage classification evaluate`")
        dist = classify_input(file, models=paths)  # as the API's job: each model's own preprocessing; silence answers "silence"
    if as_json:
        print(json.dumps(dist))
        return
    for name, d in dist.items():
        console.print(f"[bold]{name}[/bold]: " + ", ".join(f"{k} {v:.2f}" for k, v in list(d.items())[:top]))
