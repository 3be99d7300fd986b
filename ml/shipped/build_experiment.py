"""How each shipped model is trained: every capability's own training code (the same functions its
full-size command calls) with small settings, on one thread, with fixed seeds. A recipe writes its
weights into `out` under the file name `ml.defaults.FILES` gives its kind, and returns what the
manifest records: settings, seeds, the metrics measured on its held-out split, training time.

The settings are chosen so that each trains in a few minutes on one core of this project's reference
machine; the full-size commands (`heritage recognition evaluate`, …) stay for researchers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.types import Progress
from ml.defaults import FILES
from ml.runtime import reproducible
from ml.shipped.manifest import Built, write

THREADS = 1
"""torch and BLAS threads of every shipped-model training: one core, so the machine stays usable."""


@dataclass(frozen=True)
class Recipe:
    name: str
    kinds: tuple[str, ...]
    minutes: float
    """Wall time of the last build here (one thread on a 2-core machine shared with other work, load
    average 8–12), rendering included."""
    build: Callable[[Path, Path, Progress], list[Built]]
    """(out folder, cache folder for rendered data, progress) → the files it wrote."""


def _recognition(out: Path, cache: Path, say: Progress) -> list[Built]:
    """The all-source DNN-HMM (both soundfont families and the real tabla, augmented to imitate other
    sources), scored on the held-out songs of both families and the held-out tabla takes."""
    from ml.recognition.dnn_hmm import DnnHmmConfig
    from ml.recognition.experiment import evaluate, featurise
    from ml.recognition.gmm_hmm import GmmHmmConfig
    from ml.recognition.loso import FAMILIES, LosoConfig, all_source_model, render_sources
    from ml.recognition.model import save

    cfg = LosoConfig(pieces=20, seconds=6.0, augment_copies=1, threads=THREADS, gmm=GmmHmmConfig(n_mix=2, n_iter=8),
                     dnn=DnnHmmConfig(hidden=(256, 256), epochs=4))
    src = render_sources(cfg, cache_dir=cache / "recognition", say=say)
    say("recognition: training the all-source DNN-HMM", 0, 1)
    t0 = time.perf_counter()
    dnn = all_source_model(src, cfg)
    seconds = time.perf_counter() - t0
    path = out / FILES["recognition"]
    save(dnn, path, learned_from=sorted(p.cid for p in src.train_pieces))
    say("recognition: scoring the held-out clips", 0, 1)
    metrics: dict[str, float] = {}
    for name, test in (("all", src.test()), *((f, src.test((f,))) for f in FAMILIES)):
        r = evaluate(dnn.scores, dnn.labels, featurise(test))
        metrics[f"{name}_segment_error_rate"] = r["segment_error_rate"]
        metrics[f"{name}_clip_error_rate"] = r["clip_error_rate"]
    say("recognition: scoring the held-out clips", 1, 1)
    return [Built("recognition", path, {**asdict(cfg), "augment": cfg.augment.to_json()},
                  {"split": cfg.seed, "gmm": cfg.gmm.seed, "dnn": cfg.dnn.seed, "augment": cfg.seed}, metrics,
                  f"{len(src.test_pieces)} held-out songs × {len(cfg.instruments)} instruments in {' and '.join(FAMILIES)}, "
                  f"and {len(src.tabla_test)} held-out tabla takes", seconds)]


def _classification(out: Path, cache: Path, say: Progress) -> list[Built]:
    """The tradition classifier (a CNN on log-mel patches), trained on the FluidR3 family and scored
    on its held-out songs rendered with both families."""
    from ml.classification.audio import AudioModelConfig
    from ml.classification.experiment import ClassifyConfig, run_task

    cfg = ClassifyConfig(per_class=24, model=AudioModelConfig(epochs=8, cnn_channels=(8, 16, 32, 64), embed=64), kinds=("cnn",),
                         threads=THREADS)
    path = out / FILES["classification/tradition"]
    r = run_task("tradition", cfg, cache_dir=cache / "classification", say=say, model_path=path)
    metrics = {f"{family}_{k}": r["results"][f"test ({family})"]["cnn"][k] for family in ("FluidR3", "TimGM6mb")
               for k in ("accuracy", "macro_f1")}
    return [Built("classification/tradition", path, r["config"], {"split": cfg.seed, "model": cfg.model.seed, "augment": cfg.seed},
                  metrics, f"{r['n']['test']} held-out songs of {len(r['classes'])} traditions, rendered with FluidR3 and "
                  "with TimGM6mb (never heard)", r["train_seconds"]["cnn"])]


def _omr(out: Path, cache: Path, say: Progress) -> list[Built]:
    """The seed's score reader (Haar, contour refinement, SRU, focal CTC) on engraved staff lines."""
    from ml.omr.experiment import OmrExperimentConfig, run
    from ml.omr.model import OmrConfig

    cfg = OmrExperimentConfig(pieces=80, copies=0, model=OmrConfig(epochs=8, batch=4), kinds=("seed",))
    reproducible(threads=THREADS)
    r = run(cfg, cache_dir=cache / "omr", say=say, save_dir=out)
    result = next(iter(r["results"].values()))
    metrics = {k: float(v) for k, v in result["clean"].items() if k != "lines"}
    return [Built("omr", out / FILES["omr"], r["config"], {"split": cfg.seed, "model": cfg.model.seed}, metrics,
                  f"{result['clean']['lines']} clean staff lines of {r['pieces']['test']} held-out songs",
                  result["train_seconds"])]


def _generation(out: Path, cache: Path, say: Progress) -> list[Built]:
    """The conditioned lattice transformer and its unconditioned baseline, on the Essen Han songs."""
    from ml.generation.experiment import GenerationExperimentConfig, prepare, train_models
    from ml.generation.model import ModelSize
    from ml.generation.train import TrainConfig

    cfg = GenerationExperimentConfig(songs=600, size=ModelSize(n_layer=2, n_head=4, n_embd=64, block_size=256),
                                     train=TrainConfig(epochs=4, batch_size=32, lr=3e-3), repeats=False)
    # repeats=False: the shipped files were built before repeat tokens; this keeps a rebuild identical to them.
    reproducible(threads=THREADS)
    prep = prepare(cfg)
    trained = train_models(prep, cfg, say=say, save_dir=out)
    settings = {"songs": cfg.songs, "size": asdict(cfg.size), "train": asdict(cfg.train)}
    return [Built(kind, out / FILES[kind], settings, {"split": cfg.seed, "train": cfg.train.seed},
                  {"validation_perplexity": float(m.facts["val_perplexity"]), "best_epoch": float(m.trained.best_epoch)},
                  f"{len(prep.validation)} validation songs (split by piece)", m.trained.train_seconds)
            for kind, m in (("generation", trained["conditioned"]), ("generation-unconditioned", trained["unconditioned"]))]


RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("recognition", ("recognition",), 9.8, _recognition),
    Recipe("classification", ("classification/tradition",), 3.0, _classification),
    Recipe("omr", ("omr",), 7.3, _omr),
    Recipe("generation", ("generation", "generation-unconditioned"), 2.8, _generation),
)}
"""Every shipped model's recipe by name (`heritage models build --only NAME`)."""


def _loader(kind: str) -> Callable[[Path], Any]:
    """The function the CLI and the API load a `kind` with."""
    if kind.startswith("recognition"):
        from ml.recognition.model import load as recognition
        return recognition
    if kind.startswith("classification/"):
        from ml.classification.saved import load as classifier
        return classifier
    if kind == "omr":
        from ml.omr.saved import load as omr
        return omr
    from ml.generation.train import load as generator
    return generator


def load(kind: str, path: Path) -> Any:
    """The model of `kind` at `path`, read as its command reads it."""
    return _loader(kind)(path)


def build(name: str, *, out: Path, cache: Path, say: Progress) -> list[tuple[Built, Path]]:
    """Run recipe `name` on THREADS threads, then write each file's manifest (its load time measured
    with its command's loader); each built file with its manifest's path."""
    recipe = RECIPES[name]
    reproducible(threads=THREADS)
    t0 = time.perf_counter()
    built = recipe.build(out, cache, say)
    seconds = time.perf_counter() - t0
    done = []
    for b in built:
        t1 = time.perf_counter()
        load(b.kind, b.path)
        done.append((b, write(b, recipe=name, build_seconds=seconds, load_seconds=time.perf_counter() - t1)))
    return done


