"""`heritage generation train|evaluate|midigan|multimodal` and `heritage generate`: culturally constrained generation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from cli.commands.options import ProtocolsOpt, loaded_by_default, model_file
from cli.common import DataOpt, FromOpt, JsonOpt, connected, console, emit, errors, han_sources, sender_address, stages
from core.blockstore import open_store
from core.cid import file_cid
from core.errors import InputError
from core.types import Progress as ProgressFn

generation_app = typer.Typer(help="Culturally constrained generation: a transformer over the microtonal lattice, decoded "
                             "with the tradition's masks; its baselines and fidelity report.", no_args_is_help=True)


GENERATION_MODELS = Path("cache/models")


@contextmanager
def _progress(quiet: bool) -> Iterator[ProgressFn | None]:
    """`stages()`'s progress bars, or errors handled and no bars (for --json, whose output is the JSON alone)."""
    if quiet:
        with errors():
            yield None
    else:
        with stages() as say:
            yield say


def _generation_config(*, epochs: int, layers: int, width: int, heads: int, block: int, **kw: Any) -> Any:
    from ml.generation.experiment import GenerationExperimentConfig
    from ml.generation.model import ModelSize
    from ml.generation.train import TrainConfig

    return GenerationExperimentConfig(size=ModelSize(n_layer=layers, n_head=heads, n_embd=width, block_size=block),
                                      train=TrainConfig(epochs=epochs, batch_size=32, lr=3e-3), **kw)


@generation_app.command("train")
def generation_train(epochs: int = typer.Option(6, min=1, help="Training epochs (the best validation epoch is kept)."),
                     layers: int = typer.Option(3, min=1, help="Transformer blocks."),
                     width: int = typer.Option(64, min=8, help="Embedding width (a multiple of --heads)."),
                     heads: int = typer.Option(4, min=1, help="Attention heads."),
                     block: int = typer.Option(256, min=16, help="Context length in tokens."),
                     repeats: bool = typer.Option(True, help="The conditioned network learns repeat tokens: where a song's "
                                                             "cycle returns to one of the 8 before it (the decoder writes the "
                                                             "copy)."),
                     models: Path = typer.Option(GENERATION_MODELS, help="Where generation-conditioned.pt and "
                                                                         "generation-unconditioned.pt go."),
                     protocols: bool = ProtocolsOpt,
                     data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Train the conditioned and the unconditioned lattice transformer on the Essen Han songs the
    protocols allow (split 70/15/15 by piece), and save both (`heritage generate` reads the first)."""
    from ml.generation.experiment import prepare, train_models
    from ml.generation.inference import MODEL_FILES

    cfg = _generation_config(epochs=epochs, layers=layers, width=width, heads=heads, block=block, repeats=repeats)
    with _progress(as_json) as say:
        source = han_sources(data_dir) if protocols else None
        prep = prepare(cfg, source=source)
        trained = train_models(prep, cfg, say=say, save_dir=models)
    payload: dict[str, Any] = {name: {"path": str(models / MODEL_FILES[name]), "cid": file_cid(models / MODEL_FILES[name]),
                      "parameters": m.trained.net.n_params(), "train_seconds": round(m.trained.train_seconds, 1),
                      "best_epoch": m.trained.best_epoch, "val_perplexity": m.facts["val_perplexity"]}
               for name, m in trained.items()}
    payload["corpus"] = prep.corpus
    payload["refused"] = len(prep.refused)
    text = "\n".join(f"{name}: {v['path']} ({v['parameters']:,} parameters, {v['train_seconds']} s, best epoch {v['best_epoch']}, "
                     f"validation perplexity {v['val_perplexity']:.2f})" for name, v in payload.items() if name in MODEL_FILES)
    emit(as_json, payload, text + f"\n{prep.corpus['pieces']} songs encoded, {len(prep.refused)} refused by their protocols; "
                                   "`heritage generation evaluate` writes the report, `heritage generate` makes a piece")


@generation_app.command("evaluate")
def generation_evaluate(pieces: int = typer.Option(24, min=2, help="Held-out songs conditioning one piece per row."),
                        seconds: float = typer.Option(30.0, min=2.0, help="Length of every piece."),
                        bpm: float = typer.Option(80.0, min=20.0, help="Beats per minute."),
                        audio_pieces: int = typer.Option(3, min=0, help="Pieces per row whose modal error is also tracked "
                                                                        "from audio (about 12 s each)."),
                        other_pieces: int = typer.Option(6, min=0, help="Pieces per row for each tradition without a corpus."),
                        models: Path = typer.Option(GENERATION_MODELS, help="The models `generation train` saved; trained "
                                                                            "here (same sizes as its defaults) when missing."),
                        epochs: int = typer.Option(6, min=1, help="Epochs, when the models must be trained."),
                        out: Path = typer.Option(Path("reports"), help="Where generation.md/.json/.png go."),
                        multimodal: Path = typer.Option(GENERATION_MODELS / "multimodal.pt",
                                                        help="The multimodal model (`generation multimodal`): the archive "
                                                             "row retrieves by its embedding when the file exists, by "
                                                             "symbolic features otherwise."),
                        protocols: bool = typer.Option(True, help="Leave out songs whose registered work forbids ML use."),
                        data_dir: Path = DataOpt) -> None:
    """Generate from held-out songs with both networks, retrieve the archive baseline, measure
    everything against the training songs and write the seed's Table 1 per tradition."""
    from ml.generation.experiment import run, write_report
    from ml.generation.inference import MODEL_FILES
    from ml.generation.train import load

    cfg = _generation_config(epochs=epochs, layers=3, width=64, heads=4, block=256, pieces=pieces, seconds=seconds, bpm=bpm,
                             audio_pieces=audio_pieces, other_pieces=other_pieces)
    with stages() as say:
        source = han_sources(data_dir) if protocols else None
        paths = {name: models / f for name, f in MODEL_FILES.items()}
        saved = {name: load(p) for name, p in paths.items()} if all(p.exists() for p in paths.values()) else None
        retrieval = None
        if multimodal.exists():
            from ml.representation.multimodal import load as load_multimodal

            retrieval = load_multimodal(multimodal)
        write_report(run(cfg, say=say, source=source, models=saved, save_dir=models, multimodal=retrieval), out)
    console.print((out / "generation.md").read_text())


@generation_app.command("midigan")
def generation_midigan(gan_steps: int = typer.Option(3000, min=1, help="GAN generator updates (each after --n-critic critic "
                                                                       "updates on batches of 64 rolls)."),
                       n_critic: int = typer.Option(5, min=1, help="Critic updates per generator update (WGAN-GP: 5)."),
                       epochs: int = typer.Option(12, min=1, help="Epochs of the LSTM and Transformer baselines (the best "
                                                                  "validation epoch is kept)."),
                       samples: int = typer.Option(256, min=2, help="Rolls each model samples for the report."),
                       validate_every: int = typer.Option(250, min=1, help="Generator steps between the GAN's checks "
                                                                           "against the validation rolls (the best check's "
                                                                           "weights are kept)."),
                       patience: int = typer.Option(8, min=0, help="Checks without a better score before the GAN stops "
                                                                   "(0: run all --gan-steps)."),
                       width: int = typer.Option(32, min=8, help="Channels of the GAN's generator and critic branches and "
                                                                 "the baselines' width (a multiple of 4)."),
                       songs: int | None = typer.Option(None, min=10, help="Use only the first N Han songs by CID "
                                                                           "(quick trials); all by default."),
                       out: Path = typer.Option(Path("reports"), help="Where midigan.md, .json and .png go."),
                       models: Path = typer.Option(GENERATION_MODELS, help="Where midigan-gan.pt, midigan-lstm.pt and "
                                                                           "midigan-transformer.pt are saved (or read with "
                                                                           "--reuse)."),
                       cache: Path = typer.Option(Path("cache/midigan"), help="The prepared rolls, reused between runs."),
                       reuse: bool = typer.Option(False, help="Measure the three models saved in --models instead of "
                                                              "training (they must come from the same songs and split)."),
                       protocols: bool = ProtocolsOpt,
                       data_dir: Path = DataOpt) -> None:
    """MIDI-GAN (issue 8): train a WGAN-GP with a multi-scale residual critic and the attention
    similarity-matching term, and LSTM and Transformer baselines, on 80-step sixteenth-note piano rolls
    of the Essen Han songs; sample each and report PPL (reference trigram), UPC, GC and EBR against the
    held-out rolls, with training and sampling times and the GAN's validation curves
    (reports/midigan.md). --gan-steps is the GAN's budget: it stops earlier once --patience checks
    bring no better validation score. Most of the time is the GAN (about 0.45 s a generator step on
    two shared cores)."""
    from dataclasses import replace

    from ml.generation.midigan.experiment import MODEL_FILES, MidiganConfig, load, run, write_report
    from ml.generation.midigan.rolls import RollConfig

    base = MidiganConfig()
    cfg = replace(base, rolls=RollConfig(songs=songs), width=width, samples=samples, validate_every=validate_every,
                  patience=patience or None,
                  gan_train=replace(base.gan_train, steps=gan_steps, n_critic=n_critic),
                  lm_train=replace(base.lm_train, epochs=epochs))
    with stages() as say:
        if width % cfg.heads:
            raise InputError(f"--width {width} must be a multiple of {cfg.heads} (the attention heads)")
        source = han_sources(data_dir) if protocols else None
        paths = {name: models / f for name, f in MODEL_FILES.items()}
        saved = {name: load(p) for name, p in paths.items()} if reuse else None
        write_report(run(cfg, cache_dir=cache, say=say, source=source, models=saved, save_dir=None if reuse else models), out)
    console.print((out / "midigan.md").read_text())


@generation_app.command("multimodal")
def generation_multimodal(songs: int | None = typer.Option(None, min=20, help="Use only the first N Han songs by CID (quick "
                                                                                 "trials); all by default."),
                          epochs: int = typer.Option(25, min=1, help="Training epochs (the best validation epoch is kept)."),
                          ablate: list[str] = typer.Option(["constraint"], help="A loss to retrain without, for the ablation "
                                                                                "(infonce, triplet, centroid, constraint); repeat."),
                          ablations: bool = typer.Option(True, help="Run the ablation retrains (--no-ablations: none)."),
                          held_out_family: str = typer.Option("TimGM6mb", help="Soundfont family the held-out songs are "
                                                                               "rendered with (\"same\": the training family)."),
                          models: Path = typer.Option(GENERATION_MODELS, help="Where multimodal.pt goes."),
                          cache: Path = typer.Option(Path("cache/multimodal"), help="Rendered audio features, reused between runs."),
                          out: Path = typer.Option(Path("reports"), help="Where multimodal.md, .json and .png go."),
                          protocols: bool = ProtocolsOpt,
                          data_dir: Path = DataOpt) -> None:
    """The multimodal representation (issue 8): audio (a FluidSynth render of each Han song's opening and
    close), symbolic (its lattice tokens) and context (province, genre, mode, cycle) encoders in one space,
    trained with InfoNCE, triplet, centroid and constraint losses on the generation experiment's split.
    Reports cross-modal retrieval, labels inferred from audio against MFCC baselines, and the archive
    baseline's neighbours (reports/multimodal.md); saves the model that `generation evaluate` retrieves
    the archive row with and `heritage generate` conditions on recordings with. About 10 minutes on two
    cores with all songs (half of it rendering, cached for the next run)."""
    from dataclasses import replace

    from ml.representation.multimodal_experiment import MultimodalExperimentConfig, run, write_report

    with stages() as say:
        base = MultimodalExperimentConfig()
        cfg = replace(base, songs=songs, train=replace(base.train, epochs=epochs), held_out_family=held_out_family,
                      ablations=tuple(ablate) if ablations else ())
        source = han_sources(data_dir) if protocols else None
        write_report(run(cfg, say=say, source=source, save_dir=models, cache_dir=cache), out)
    console.print((out / "multimodal.md").read_text())


def generate(tradition: str = typer.Option(..., help="A tradition id (`ml/tradition/files/<id>.yaml`)."),
             conditioned_on: list[int] = typer.Option(..., "--conditioned-on", help="A registered work (ABC, MusicXML or "
                                                                                    "MIDI; or a recording, heard through "
                                                                                    "--multimodal) to condition on; repeat."),
             mode: str | None = typer.Option(None, help="The mode (default: the first work's, else the tradition's first)."),
             cycle: str | None = typer.Option(None, help="The rhythmic cycle (default: the first work's metre, else the first)."),
             seconds: float = typer.Option(30.0, min=1.0, help="Length of the piece."),
             bpm: float = typer.Option(80.0, min=20.0, help="Beats per minute."),
             seed: int = typer.Option(0, help="Sampling seed: the same seed, model and works give the same piece."),
             prompt_bars: int = typer.Option(2, min=0, help="Opening cycles of each work that start the piece."),
             temperature: float = typer.Option(1.0, min=0.05, help="Sampling temperature."),
             instrument: str = typer.Option("flute", help="GM instrument of the rendering (ml.data.render.INSTRUMENTS)."),
             model: Path | None = typer.Option(None, help="A conditioned model `generation train` saved; "
                                                           + loaded_by_default("generation") + "."),
             out: Path = typer.Option(Path("generated"), help="Where the .mid, .wav and .json go."),
             multimodal: Path | None = typer.Option(None, help="The multimodal model (`generation multimodal`) that infers a "
                                                               "recorded work's mode and genre; read only when a work is a "
                                                               "recording; " + loaded_by_default("multimodal") + "."),
             audio_metrics: bool = typer.Option(True, help="Also track the WAV's pitch for the audio modal error."),
             register: bool = typer.Option(True, "--register/--no-register",
                                           help="Store the piece by CID and register it as a derivative of the works."),
             upstream_ppm: int = typer.Option(200_000, min=0, max=1_000_000,
                                              help="Share of every payment routed to the conditioning works, ppm."),
             sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Generate a piece in TRADITION conditioned on registered works: their protocols are checked first
    (a work that forbids ML use, or is restricted, refuses it before anything is read or generated),
    their opening cycles prompt the conditioned network, the tradition's masks hold on every token;
    write MIDI (exact microtonal pitch bends), WAV and the metrics, and register the MIDI (the WAV as
    its rendition) as a derivative of the works. A consent-required work leaves it pending."""
    from chain.derive import conditioning_cids
    from ml.defaults import candidates
    from ml.generation.piece import PieceSettings, make_piece_from_works
    from ml.generation.train import load
    from ml.tradition import load_tradition

    with errors():
        model = model_file(model, "generation")
        saved = load(model)
        if not saved.trained.conditioned:
            raise InputError(f"{model} is the unconditioned baseline: give the conditioned model (generation-conditioned.pt)")
        t = load_tradition(tradition)
        if mode is not None:
            t.mode(mode)
        if cycle is not None:
            t.cycle(cycle)
    with connected(data_dir) as c, errors():
        cids = conditioning_cids(c, conditioned_on)
        data = {w: b"".join(open_store(c.settings).cat(cid)) for w, cid in cids.items()}
        settings = PieceSettings(mode=mode, cycle=cycle, seconds=seconds, bpm=bpm, seed=seed, prompt_bars=prompt_bars,
                                 temperature=temperature, instrument=instrument, audio_metrics=audio_metrics)
        result = make_piece_from_works(saved, t, data, cids, settings=settings, out=out,
                                       multimodal_path=multimodal or next(
                                           (p for p in candidates("multimodal") if p.is_file()), candidates("multimodal")[0]))
        payload: dict[str, Any] = {k: v for k, v in result.items() if k != "register"}
        text = (f"{payload['bars']} cycles of {payload['cycle']} in {payload['tradition']} ({payload['mode'] or 'no mode'}), "
                f"{payload['notes']} notes → {payload['midi']}, {payload['wav']} ({payload['renderer']}), {payload['metrics_file']}")
        for w, heard in payload.get("recordings", {}).items():
            text += f"\nwork {w} is a recording: the multimodal model hears " + ", ".join(
                f"{k} {v} ({heard['confidence'][k]:.0%})" if k in heard["confidence"] else f"{k} {v}"
                for k, v in heard["labels"].items() if v)
        if register:
            from chain.derive import register_output

            r = result["register"]
            d = register_output(c, open_store(c.settings), content=Path(payload["midi"]),
                                renditions={"audio/wav": Path(payload["wav"])}, model_file=model,
                                architecture="generation/lattice-transformer", made_from=list(cids.values()),
                                operator=sender_address(c, sender), title=r["title"], description=r["description"],
                                parameters=r["parameters"], seed=seed, metrics=r["metrics"], upstream_ppm=upstream_ppm)
            payload.update({"work": d.model_work, "existing": d.existing, "pending": d.pending, "manifest_cid": d.manifest_cid,
                            "parents": sorted(conditioned_on), "parts": list(d.parts),
                            "awaiting": [{"work": a.work, "community": a.community} for a in d.awaiting]})
            text += (f"\nregistered as work {d.model_work}" + (" (already registered)" if d.existing else "") +
                     f", a derivative of works {sorted(conditioned_on)}" +
                     "".join(f"\nawaiting consent: `heritage derivative approve {a.work} --community {a.community}` by its "
                             "stewards" for a in d.awaiting))
    emit(as_json, payload, text)
