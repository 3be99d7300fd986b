"""`heritage recognition evaluate|register|csv` and `heritage recognize`: timbre recognition."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from cli.commands.options import DnnEpochsOpt, DnnLayersOpt, DnnWidthOpt, ProtocolsOpt, loaded_by_default, model_file
from cli.common import DataOpt, FromOpt, JsonOpt, connected, console, emit, errors, han_sources, sender_address, stages

recognition_app = typer.Typer(help="Timbre (instrument) recognition: MFCC and learned features, GMM-HMM, DNN-HMM, "
                              "a transfer-learned CNN; models registered as derivatives.", no_args_is_help=True)


@recognition_app.command("evaluate")
def recognition_evaluate(pieces: int = typer.Option(40, min=4, help="Essen Han songs to render (split 70/15/15 by piece)."),
                         layers: int = DnnLayersOpt,
                         width: int = DnnWidthOpt,
                         epochs: int = DnnEpochsOpt,
                         seconds: float = typer.Option(9.0, min=3.0, help="Seconds of each rendered clip (3-s segments)."),
                         out: Path = typer.Option(Path("reports"), help="Where recognition.md/.json and the confusion PNGs go."),
                         cache: Path = typer.Option(Path("cache/recognition"), help="Rendered clips, reused between runs."),
                         model: Path = typer.Option(Path("cache/models/timbre-dnn-hmm.pt"), help="Where the trained DNN-HMM is saved."),
                         cnn: Path = typer.Option(Path("cache/models/transfer-cnn.pt"), help="Where the source-task CNN is saved."),
                         variant: list[str] = typer.Option(["GMM-HMM", "DNN-HMM", "AE", "CNN"],
                                                           help="Variants to train (prefixes; repeat): GMM-HMM, DNN-HMM, AE, CNN."),
                         tabla: bool = typer.Option(True, help="Add the real tabla (apt-get install sonic-pi-samples) as a class."),
                         protocols: bool = ProtocolsOpt,
                         data_dir: Path = DataOpt) -> None:
    """Render Han songs with 12 GM instruments from two soundfont families (plus real tabla),
    train every variant on one family — GMM-HMM and DNN-HMM on MFCC, GMM-HMM on autoencoder
    features (unsupervised, then fine-tuned), a transfer-learned CNN's mid/high/fused features
    into an SVM — test on unseen songs in both families, and write reports/recognition.md/.json
    with the seed's tables beside ours. About 11 minutes on a quiet 2-core machine with the
    defaults (three runs: 10.4–15.6 min; the report records its own)."""
    from ml.recognition.dnn_hmm import DnnHmmConfig
    from ml.recognition.experiment import ExperimentConfig, run, write_report

    cfg = ExperimentConfig(pieces=pieces, seconds=seconds, dnn=DnnHmmConfig(hidden=(width,) * layers, epochs=epochs),
                           variants=tuple(variant), tabla=tabla)
    with stages() as say:
        source = han_sources(data_dir) if protocols else None
        report = run(cfg, cache_dir=cache, say=say, model_path=model, cnn_path=cnn, source=source)
        write_report(report, out)
    console.print((out / "recognition.md").read_text())
    if report["model"]:
        console.print(f"model: {model} (CID {report['model']['cid']}); try `heritage recognize FILE --model {model}`, "
                      f"and `heritage recognition register --model {model}` to record it as a derivative of its sources")


@recognition_app.command("spread")
def recognition_spread(runs: list[Path] = typer.Argument(..., help="recognition.json of each rerun (two or more)."),
                       baseline: Path | None = typer.Option(Path("reports/recognition.json"),
                                                            help="A report shown beside the runs (the committed one)."),
                       out: Path = typer.Option(Path("reports"), help="Where recognition_reruns.md/.json go.")) -> None:
    """How much reruns of `recognition evaluate` move: each row's error rates per run with min,
    median, max and spread beside the baseline, and whether the saved models' CIDs matched."""
    from ml.recognition.reruns import spread, write_spread

    try:
        reports = [json.loads(p.read_text()) for p in runs]
        base = json.loads(baseline.read_text()) if baseline and baseline.exists() else None
        s = spread(reports, baseline=base)
    except (OSError, ValueError, KeyError) as err:
        raise typer.BadParameter(str(err)) from err
    write_spread(s, out, sources=[str(p) for p in runs], baseline=str(baseline) if base else None)
    console.print((out / "recognition_reruns.md").read_text())


@recognition_app.command("register")
def recognition_register(model: Path | None = typer.Option(None, help="A model `recognition evaluate` saved (DNN-HMM or "
                                                                  "transfer CNN); " + loaded_by_default("recognition") + "."),
                         report: Path = typer.Option(Path("reports/recognition.json"),
                                                     help="The evaluation report: its cross-family error rates go in the manifest."),
                         upstream_ppm: int = typer.Option(200_000, min=0, max=1_000_000,
                                                          help="Share of every payment routed to the works it learned from, ppm."),
                         sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Store MODEL by CID with its manifest and register it as a derivative of the registered
    works it learned from (through training-set parts when more than 8). A work whose protocol
    forbids ML use refuses it; a consent-required one leaves it pending; rerunning is safe."""
    from chain.derive import register_model
    from core.blockstore import open_store
    from ml.recognition.model import describe, report_metrics

    with connected(data_dir) as c, errors():
        model = model_file(model, "recognition")
        facts = describe(model)
        metrics = report_metrics(report, model=model, architecture=facts.architecture)
        d = register_model(c, open_store(c.settings), model_file=model, architecture=facts.architecture,
                           learned_from=facts.learned_from, operator=sender_address(c, sender), parameters=facts.parameters,
                           metrics=metrics, upstream_ppm=upstream_ppm)
    payload = {"work": d.model_work, "model_cid": d.model_cid, "manifest_cid": d.manifest_cid, "parts": list(d.parts),
               "pending": d.pending, "awaiting": [{"work": a.work, "community": a.community} for a in d.awaiting],
               "unregistered": len(d.unregistered), "existing": d.existing}
    text = (f"model {d.model_cid}: " + (f"work {d.model_work}" if d.model_work else "not yet registered") +
            (" (already registered)" if d.existing else "") + (f", through training-set parts {list(d.parts)}" if d.parts else "") +
            (f"; {len(d.unregistered)} of the pieces it learned from are not on the chain and are credited nothing"
             if d.unregistered else "") +
            "".join(f"\nawaiting consent: `heritage derivative approve {a.work} --community {a.community}` by its stewards"
                    for a in d.awaiting))
    emit(as_json, payload, text)


@recognition_app.command("csv")
def recognition_csv(labels: Path = typer.Argument(..., help="A CSV of `file,label` rows (audio paths relative to it): e.g. emotions."),
                    cnn: Path | None = typer.Option(None, help="The source-task CNN `recognition evaluate` saved; "
                                                                + loaded_by_default("recognition-cnn") + "."),
                    level: str = typer.Option("fused", help="Features: mid, high or fused (mid+high)."),
                    folds: int = typer.Option(5, min=2, help="Cross-validation folds (grouped by file)."),
                    as_json: bool = JsonOpt) -> None:
    """Cross-validate the transfer-learned CNN's features + SVM on your own labels (the seed's
    emotion model): accuracy per 3-s segment and per file, folds grouped by file."""
    from ml.recognition.transfer import cross_validate, csv_dataset, load_source

    with errors():
        x, y, groups, _ = csv_dataset(labels, load_source(model_file(cnn, "recognition-cnn")), level=level)
        r = cross_validate(x, y, groups, folds=folds)
    if as_json:
        print(json.dumps(r))
        return
    t = Table(title=f"{labels.name}: {r['files']} files, {r['segments']} segments, {r['folds']}-fold CV grouped by file")
    for col in ("true \\ predicted", *r["labels"]):
        t.add_column(col)
    for lab, row in zip(r["labels"], r["confusion"], strict=True):
        t.add_row(lab, *map(str, row))
    console.print(t)
    console.print(f"segment accuracy {r['segment_accuracy']:.1%} ± {r['segment_accuracy_sd']:.1%}; "
                  f"file accuracy {r['file_accuracy']:.1%}")


def recognize(file: Path = typer.Argument(..., help="A recording: WAV, FLAC, OGG or MP3."),
              model: Path | None = typer.Option(None, help="A model `recognition evaluate` saved; "
                                                           + loaded_by_default("recognition") + "."),
              top: int = typer.Option(3, min=1, help="Instruments to show per segment."),
              as_json: bool = JsonOpt) -> None:
    """The most likely instruments of each 3-s segment of FILE (DNN-HMM); silent segments answer "silence"."""
    from ml.runtime import one_answer_threads
    from ml.studio import recognise

    one_answer_threads()
    with errors():
        r = recognise(file, model=model_file(model, "recognition"), top=top)  # the API's recognition job calls the same function
    if as_json:
        print(json.dumps(r["segments"]))
        return
    t = Table(title=f"{file.name}: instruments per {r['segment_s']:g}-s segment")
    for col in ("segment", "from s", *(f"#{i + 1}" for i in range(top))):
        t.add_column(col)
    for seg in r["segments"]:
        t.add_row(str(seg["segment"]), f"{seg['start_s']:g}", *(f"{x['instrument']} {x['p']:.2f}" for x in seg["top"]))
    console.print(t)
