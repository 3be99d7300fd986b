"""`heritage tune economy`: the recommender's settings on a Pareto front (economy/tuning.py)."""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from cli.common import DataOpt, JsonOpt, connected, console, errors, stages

tune_app = typer.Typer(help="Multi-objective tuning on a Pareto front (Optuna): the recommender's re-ranking "
                            "against fairness, ranking quality and abandonment.", no_args_is_help=True)


@tune_app.command("economy")
def economy(trials: int = typer.Option(60, min=1, max=5_000, help="Finished trials the study should hold; a rerun with a "
                                       "larger number resumes the stored study. About 1.3 s a trial on scenarios/small.yaml."),
            config: Path | None = typer.Option(Path("scenarios/small.yaml"), "--config",
                                               help="Scenario YAML; its `recommender` block is the first trial."),
            sampler: str = typer.Option("nsga2", help="nsga2 (NSGA-II) or tpe (multi-objective TPE)."),
            seed: int = typer.Option(0, help="The sampler's seed (the world's is the scenario's)."),
            out: Path = typer.Option(Path("reports"), help="Where tuning.md, tuning_economy.json and .png go."),
            data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Search the re-ranking strength, candidate counts, popularity blend and a per-listener
    strength (by familiarity with heritage music) for the Pareto front of community-payout
    fairness (Jain), NDCG@20 and the abandonment hazard ratio; each trial is a simulation run of
    the "ours" arm on a seed-fixed world, judged on held-out listeners. The study is stored in
    DATA_DIR/tuning/economy.db and resumes; the front, the chosen point (by the rule printed) and
    whether any point improves fairness and abandonment at once are written to --out."""
    import optuna

    from core.blockstore import open_store
    from core.errors import InputError
    from economy import tuning, tuning_report
    from economy.scenario import load_scenario

    with errors():
        if sampler not in ("nsga2", "tpe"):
            raise InputError(f"--sampler {sampler!r}: choose nsga2 or tpe")
        scenario = load_scenario(config)
    started = time.monotonic()
    with connected(data_dir) as c, stages(quiet=as_json) as progress:
        st = tuning.stage(scenario, c, open_store(c.settings), progress)
        progress("trials", 0, trials)
        study = tuning.run_study(st, trials, c.settings.data_dir / "tuning" / "economy.db", sampler=sampler, seed=seed,
                                 on_trial=lambda done, total: progress("trials", done, total))
        fr = tuning.front(study, tuning.reference(st))
        saved_dir = c.settings.data_dir
    seconds = [r["seconds"] for r in fr.rows if r.get("seconds") is not None]
    meta = {"command": "heritage tune economy " + " ".join(sys.argv[3:]) if len(sys.argv) > 3 else "heritage tune economy",
            "trials": len(fr.rows), "sampler": sampler, "seed": seed, "scenario": scenario.name,
            "seconds": time.monotonic() - started, "seconds_per_trial": statistics.median(seconds) if seconds else 0.0,
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "optuna": optuna.__version__,
            "study": tuning.study_name(scenario)}
    paths = tuning_report.write(fr, meta, out)
    tuning_report.remember(fr, meta, saved_dir)  # the API and the dashboard show it
    if as_json:
        print(json.dumps(tuning_report.as_json(fr, meta), default=float))
        return
    t = Table(title=f"Pareto front, held-out listeners ({sum(r['on_front'] for r in fr.rows)} of {len(fr.rows)} trials)")
    for col in ("trial", "strength", "tilt", "Jain", "NDCG@20", "abandonment HR"):
        t.add_column(col, justify="right")
    for r in sorted((r for r in fr.rows if r["on_front"]), key=lambda r: r["heldout ndcg@20"]):
        t.add_row(str(r["trial"]), f"{r['fair_strength']:.2f}", f"{r['familiarity_tilt']:+.2f}", f"{r['heldout jain']:.3f}",
                  f"{r['heldout ndcg@20']:.3f}", f"{r['heldout abandonment_hr']:.2f}")
    console.print(t)
    base = fr.baseline["heldout"]
    console.print(f"unconditioned: Jain {base['jain']:.3f}, NDCG@20 {base['ndcg@20']:.3f}")
    console.print(f"chosen: trial {fr.chosen['trial']}" if fr.chosen else "chosen: none meets the rule", f"({fr.rule})")
    console.print("fairness and abandonment improved at once: " + (f"trials {fr.both_better}" if fr.both_better else "no trial"))
    console.print(f"written: {', '.join(str(p) for p in paths.values())}")


@tune_app.command("generation")
def generation(trials: int = typer.Option(30, min=1, max=5_000, help="Finished trials the study should hold; a rerun with a "
                                          "larger number resumes the stored study."),
               pieces: int = typer.Option(8, min=1, help="Validation songs decoded per trial (the first by CID)."),
               seconds: float = typer.Option(20.0, min=2.0, help="Length of every piece, prompt included."),
               songs: int | None = typer.Option(600, min=20, help="The Han songs the model was built with (its manifest's "
                                                "settings.songs; the split must be the model's own)."),
               model: Path | None = typer.Option(None, help="A conditioned generation model (default: ml/defaults.py's)."),
               sampler: str = typer.Option("nsga2", help="nsga2 (NSGA-II) or tpe (multi-objective TPE)."),
               seed: int = typer.Option(0, help="The sampler's seed (the songs' seeds are fixed)."),
               out: Path = typer.Option(Path("reports"), help="Where tuning.md, tuning_generation.json and .png go."),
               data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Search the conditioned generator's decoding weights (temperature, top-k, the soft mask's strength,
    an ornament bias) for the Pareto front of Table 1's modal error, rhythm DTW, structural distance and
    PPL on validation songs; no training. The default decoding is measured in the same run. The study is
    stored in DATA_DIR/tuning/generation.db and resumes; the front and the chosen point go to --out."""
    import hashlib

    import optuna

    from cli.common import settings_for
    from core.errors import InputError
    from ml.defaults import default_model
    from ml.generation import tuning as gtuning
    from ml.generation import tuning_report as greport
    from ml.generation.decode import SampleConfig
    from ml.generation.experiment import GenerationExperimentConfig, prepare
    from ml.generation.lattice import HAN
    from ml.generation.train import load
    from ml.tradition import load_tradition

    started = time.monotonic()
    with stages(quiet=as_json) as progress:
        if sampler not in ("nsga2", "tpe"):
            raise InputError(f"--sampler {sampler!r}: choose nsga2 or tpe")
        path = model or default_model("generation")
        saved = load(path)
        progress("reading the songs", 0, 1)
        prep = prepare(GenerationExperimentConfig(songs=songs))
        progress("reading the songs", 1, 1)
        settings = gtuning.Settings(pieces=pieces, seconds=seconds)
        st = gtuning.stage(saved, hashlib.sha256(path.read_bytes()).hexdigest()[:16], tradition=load_tradition(HAN),
                           train=prep.train, validation=prep.validation, split_id=prep.split_id, settings=settings)
        progress("the default decoding", 0, 1)
        default = gtuning.evaluate(st, SampleConfig())
        progress("the default decoding", 1, 1)
        progress("trials", 0, trials)
        study = gtuning.run_study(st, trials, settings_for(data_dir).data_dir / "tuning" / "generation.db", sampler=sampler,
                                  seed=seed, on_trial=lambda done, total: progress("trials", done, total))
        fr = gtuning.front(study, default)
    per_trial = [r["seconds"] for r in fr.rows if r.get("seconds") is not None]
    meta = {"command": "heritage tune generation " + " ".join(sys.argv[3:]) if len(sys.argv) > 3 else "heritage tune generation",
            "trials": len(fr.rows), "sampler": sampler, "seed": seed, "model": path.name, "pieces": len(st.songs),
            "seconds_per_piece": seconds, "bpm": settings.bpm, "prompt_bars": settings.prompt_bars,
            "seconds": time.monotonic() - started, "seconds_per_trial": statistics.median(per_trial) if per_trial else 0.0,
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "optuna": optuna.__version__,
            "study": gtuning.study_name(st)}
    paths = greport.write(fr, meta, out)
    if as_json:
        print(json.dumps(greport.as_json(fr, meta), default=float))
        return
    t = Table(title=f"Pareto front ({sum(r['on_front'] for r in fr.rows)} of {len(fr.rows)} trials), default first")
    for col in ("point", *gtuning.PARAMS, *gtuning.OBJECTIVES):
        t.add_column(col, justify="right")
    rows = [("default", {**default, **greport.DEFAULT}), *((f"trial {r['trial']}", r) for r in fr.rows if r["on_front"])]
    for name, r in rows:
        t.add_row(name, *(greport.fmt(r.get(c)) for c in (*gtuning.PARAMS, *gtuning.OBJECTIVES)))
    console.print(t)
    console.print(f"chosen: trial {fr.chosen['trial']}" if fr.chosen else "chosen: none meets the rule", f"({fr.rule})")
    console.print("better than the default on every objective: " +
                  (f"trials {fr.strictly_better}" if fr.strictly_better else "no trial"))
    console.print(f"written: {', '.join(str(p) for p in paths.values())}")
