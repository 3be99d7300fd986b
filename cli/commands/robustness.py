"""`heritage robustness evaluate`: the saved audio models on held-out clips under user-like changes.

A typer app of its own (nothing here imports the chain client), mounted by `cli.main` with
`app.add_typer(robustness_app, name="robustness")`, and runnable alone:
`heritage robustness --help`.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from cli.commands.options import DnnEpochsOpt, DnnLayersOpt, DnnWidthOpt
from cli.progress import bars
from core.errors import HeritageError

robustness_app = typer.Typer(help="Robustness of the audio models: accuracy per condition (level, silence, sample rate, stereo, "
                             "codecs, noise, pitch, tempo) beside the clean figure.", no_args_is_help=True)
console = Console()


@robustness_app.callback()
def _group() -> None:
    """Robustness of the audio models."""


@robustness_app.command("evaluate")
def evaluate(model: list[Path] = typer.Option([], help="Saved DNN-HMMs (`recognition evaluate`); repeat. Missing files are "
                                                     "skipped. Default: the model `heritage recognize` loads (cache/models/"
                                                     "timbre-dnn-hmm.pt when you trained one, else the shipped one)."),
             classifier: list[Path] = typer.Option([], help="Saved task classifiers (`classification evaluate`, e.g. "
                                                        "cache/models/classification/tradition.pt); repeat."),
             pieces: int = typer.Option(40, min=4, help="Songs the recognition experiment chose (its test split is used)."),
             seconds: float = typer.Option(9.0, min=3.0, help="Seconds of each recognition clip."),
             limit: int = typer.Option(0, min=0, help="At most this many clips per model (0: all), taken evenly."),
             out: Path = typer.Option(Path("reports"), help="Where robustness.md/.json go."),
             cache: Path = typer.Option(Path("cache/robustness"), help="Rendered clips, reused between runs."),
             threads: int = typer.Option(2, min=1, help="torch and BLAS threads."),
             condition: list[str] = typer.Option([], help="Only these conditions (a name or a group of "
                                                          "`ml.robustness.CONDITIONS`, e.g. stereo, noise; repeat); "
                                                          "clean is always kept. Default: all."),
             seed: int = typer.Option(0, help="Seed of the split and of the added noise.")) -> None:
    """Evaluate the saved recogniser(s) and classifier(s) on their held-out clips under every
    condition of `ml.robustness.CONDITIONS` and write reports/robustness.md with each model's
    accuracy per condition beside its clean figure. 20 conditions × every clip (150 clips of the
    recognition experiment with the defaults, 36 of the tradition task): 14 min for both shipped
    models on a heavily shared 2-core machine; the report prints its wall time."""
    from ml import robustness as rb
    from ml.runtime import reproducible, run_record

    started = time.perf_counter()  # the wall time covers rendering the clips, as the command's own run does
    try:
        reproducible(threads=threads)
        chosen = rb.select_conditions(condition)
        runs: list[tuple[rb.Model, list[rb.Clip]]] = []
        recognition: list[rb.Clip] | None = None
        model = model or [_default_recogniser()]
        for path in model:
            if not path.exists():
                console.print(f"[yellow]no model at {path}: skipped (train one with `heritage recognition evaluate`)[/yellow]")
                continue
            if recognition is None:
                recognition = rb.recognition_clips(pieces=pieces, seconds=seconds, cache_dir=cache / "recognition", seed=seed)
            runs.append((rb.recogniser_model(f"DNN-HMM {path.name}", path), rb.take(recognition, limit)))
        for path in classifier:
            m = rb.classifier_model(f"classifier {path.name}", path)
            from ml.classification.saved import load

            runs.append((m, rb.take(rb.task_clips(load(path).task, cache_dir=cache / "classification"), limit)))
        if not runs:
            raise typer.BadParameter("no model to evaluate: give --model or --classifier files that exist")
        with bars(console) as say:
            report = rb.evaluate(runs, conditions=chosen, say=say, seed=seed)
        report["wall_seconds"] = time.perf_counter() - started
        report["run"] = run_record(settings={"models": [str(p) for p in model], "classifiers": [str(p) for p in classifier],
                                             "pieces": pieces, "seconds": seconds, "limit": limit,
                                             "conditions": [c.name for c in chosen]},
                                   seeds={"split_and_noise": seed})
        rb.write_report(report, out)
    except HeritageError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(1) from err
    console.print((out / "robustness.md").read_text())


@robustness_app.command("sources")
def sources(pieces: int = typer.Option(40, min=4, help="Essen Han songs (the recognition experiment's split 70/15/15)."),
            seconds: float = typer.Option(9.0, min=3.0, help="Seconds of each rendered clip."),
            copies: int = typer.Option(1, min=0, help="Augmented copies of every training clip (EQ, reverb, level, noise, codec)."),
            layers: int = DnnLayersOpt,
            width: int = DnnWidthOpt,
            epochs: int = DnnEpochsOpt,
            out: Path = typer.Option(Path("reports"), help="Where recognition_loso.md/.json go."),
            cache: Path = typer.Option(Path("cache/recognition"), help="Rendered clips (shared with `recognition evaluate`)."),
            model: Path = typer.Option(Path("cache/models/timbre-dnn-hmm-all-sources.pt"),
                                       help="Where the all-source model for users is saved."),
            users_model: bool = typer.Option(True, help="Also train and save the all-source model for users (the longest "
                                                        "training: every source, augmented); --no-users-model measures the "
                                                        "folds only."),
            threads: int = typer.Option(2, min=1, help="torch and BLAS threads.")) -> None:
    """Leave-one-source-out timbre recognition: each soundfont family left out in turn, the other
    sources (and the real tabla's training takes) trained with augmentation imitating other
    sources, beside today's FluidR3 → TimGM6mb figure; then the all-source model for users.
    Four DNN-HMM trainings, three of them on twice the clips (the augmented copies): not yet timed
    with the defaults; the report prints its wall time."""
    from ml.recognition.dnn_hmm import DnnHmmConfig
    from ml.recognition.loso import LosoConfig, run, write_report

    cfg = LosoConfig(pieces=pieces, seconds=seconds, augment_copies=copies, threads=threads,
                     dnn=DnnHmmConfig(hidden=(width,) * layers, epochs=epochs))
    try:
        with bars(console) as say:
            report = run(cfg, cache_dir=cache, say=say, model_path=model if users_model else None)
        write_report(report, out)
    except HeritageError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(1) from err
    console.print((out / "recognition_loso.md").read_text())


def _default_recogniser() -> Path:
    from ml.defaults import NoModel, default_model

    try:
        return default_model("recognition")
    except NoModel as err:
        raise typer.BadParameter(str(err)) from err


if __name__ == "__main__":
    robustness_app()
