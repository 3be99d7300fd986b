"""Audio style and region classification: every model and both ensembles on rendered folk songs,
beside the symbolic path on the very same pieces and split.

For a task of `symbolic.TASKS` (tradition, Han region, Han genre, dance), up to `per_class` pieces
of each class are taken (the first by CID: a fixed, content-defined choice) and split 70/15/15 as
the symbolic path splits them (grouped by source file where every class spans three files, else
by piece). Each piece is rendered once with an instrument drawn from `instruments` by its CID —
so the instrument says nothing about the label — from the FluidR3 soundfont family; the test
pieces are rendered again from the TimGM6mb family, samples the models never heard. A clip's
3-s segments become 128 × 128 log-mel patches; the training patches are augmented (same-class
overlay, stretch, mel shift, band emphasis: `mel_augment.augment`).

Members: CNN, RNN, LSTM, the GLU/SE CRNN, and the CNN's embedding into an SVM. Ensembles: soft
voting (the mean of the members' probabilities) and stacking (a logistic regression on the
members' probabilities, fitted on the validation split's clips only). Everything is scored per
clip (the mean of its segments' probabilities), i.e. per piece, as the symbolic path is.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from core.types import Progress
from ml.classification.audio import (
    KINDS,
    AudioModelConfig,
    Ensemble,
    Member,
    Trained,
    clip_proba,
    cnn_svm,
    evaluate,
    train_model,
)
from ml.classification.mel_augment import augment
from ml.classification.saved import SAMPLE_RATE, prepared_patches, save
from ml.classification.symbolic import MIN_FILES_TO_GROUP, TASKS, Task, _labelled, evaluate_task
from ml.data.corpora import Piece
from ml.data.preprocess import prepare
from ml.data.render import SoundFont, both_families, render
from ml.data.splits import split
from ml.recognition.dataset import TRIM_SLACK_S
from ml.recognition.features import FeatureConfig
from ml.runtime import DEFAULT_THREADS, report_lines, reproducible, run_record

GTZAN = {"CNN": 0.8427, "CNN + SVM": 0.8721}
"""The seed study's accuracies on GTZAN (10 Western popular genres, 30-s recordings)."""


@dataclass(frozen=True)
class ClassifyConfig:
    per_class: int = 60
    seconds: float = 9.0
    instruments: tuple[str, ...] = ("piano", "flute", "violin", "acoustic guitar", "clarinet", "harp")
    """Drawn per piece by its CID; General MIDI names (`ml.data.render.INSTRUMENTS`)."""
    tempo_bpm: float = 100.0
    model: AudioModelConfig = field(default_factory=lambda: AudioModelConfig(epochs=15))
    kinds: tuple[str, ...] = KINDS
    augment: bool = True
    seed: int = 0
    threads: int = DEFAULT_THREADS
    """torch and BLAS threads (`ml.runtime.reproducible`): the same count gives the same weights."""


def _pick(cid: str, options: Sequence[str]) -> str:
    return options[int.from_bytes(hashlib.sha256(cid.encode()).digest()[:4], "big") % len(options)]


def select(task: Task, cfg: ClassifyConfig) -> tuple[dict[str, list[tuple[Piece, str]]], str, str]:
    """The task's pieces (up to per_class a class), split like the symbolic path: (parts, grouped_by, split id)."""
    labelled = _labelled(task, task.pieces())
    by_class: dict[str, list[tuple[Piece, str]]] = {}
    for p, lab in sorted(labelled, key=lambda x: x[0].cid):
        by_class.setdefault(lab, []).append((p, lab))
    kept = {c: v[: cfg.per_class] for c, v in by_class.items() if len(v) >= task.min_class}
    if len(kept) < 2:
        raise InputError(f"task {task.name!r} has fewer than two classes with {task.min_class} pieces")
    items = [x for v in kept.values() for x in v]
    by_file = min(len({p.source for p, _ in v}) for v in kept.values()) >= MIN_FILES_TO_GROUP
    parts = split(items, label=lambda x: x[1], group=(lambda x: x[0].source) if by_file else (lambda x: x[0].piece_id),
                  cid=lambda x: x[0].cid, seed=cfg.seed)
    return {k: list(v) for k, v in parts.parts().items()}, "source file" if by_file else "piece", parts.split_id


def _clips(items: Sequence[tuple[Piece, str]], font: SoundFont, cfg: ClassifyConfig, cache_dir: Path,
           tick: Callable[[int, int], None]) -> list[np.ndarray]:
    """Log-mel patches (segments, 128, 128) of every piece rendered with its instrument, through the
    preprocessing path (silent segments left out), cached. Key version 3: loudness-normalised."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for i, (p, _) in enumerate(items):
        instrument = _pick(p.cid, cfg.instruments)
        key = hashlib.sha256(json.dumps([p.cid, instrument, font.name, cfg.seconds, cfg.tempo_bpm, 3]).encode()).hexdigest()[:32]
        path = cache_dir / f"{key}.npy"
        if path.exists():
            patches = np.load(path)
        else:
            y = render(p.abc, program=instrument, soundfont=font.path, tempo_bpm=cfg.tempo_bpm, sample_rate=SAMPLE_RATE)
            y = y[: int((cfg.seconds + TRIM_SLACK_S) * SAMPLE_RATE)]
            least = int((3 + TRIM_SLACK_S) * SAMPLE_RATE)
            if len(y) < least:  # a very short tune: loop it to one segment
                y = np.tile(y, int(np.ceil(least / max(len(y), 1))))[:least]
            patches = prepared_patches(prepare(y, sample_rate=SAMPLE_RATE)).astype(np.float16)
            np.save(path, patches)
        out.append(patches.astype(np.float32))
        tick(i + 1, len(items))
    return out


def run_task(task_name: str, cfg: ClassifyConfig, *, cache_dir: Path, say: Progress | None = None,
             model_path: Path | None = None) -> dict[str, Any]:
    """Render, train every member and both ensembles, score per clip on test (both families); beside
    them the symbolic path's random forest on the same pieces. With `model_path`, save the neural
    members for `heritage classify`."""
    tell = say or (lambda stage, done, total: None)
    if task_name not in TASKS:
        raise InputError(f"unknown task {task_name!r}; choose one of {', '.join(TASKS)}")
    task = TASKS[task_name]
    reproducible(threads=cfg.threads)
    started = time.perf_counter()
    fonts = both_families("rendering")
    parts, grouped_by, split_id = select(task, cfg)
    clips: dict[str, list[np.ndarray]] = {}
    plan = [("train", parts["train"], fonts["FluidR3"]), ("validation", parts["validation"], fonts["FluidR3"]),
            ("test (FluidR3)", parts["test"], fonts["FluidR3"]), ("test (TimGM6mb)", parts["test"], fonts["TimGM6mb"])]
    for name, items, font in plan:
        def tick(done: int, total: int, name: str = name) -> None:
            tell(f"{task_name}: rendering {name}", done, total)

        clips[name] = _clips(items, font, cfg, cache_dir / "clips", tick)
    labels = {name: [lab for _, lab in items] for name, items, _ in plan}
    x_train = np.concatenate(clips["train"])
    y_train = [lab for c, lab in zip(clips["train"], labels["train"], strict=True) for _ in range(len(c))]
    if cfg.augment:
        rng = np.random.default_rng(cfg.seed)
        extra, extra_y = augment(x_train, y_train, rng)
        x_train, y_train = np.concatenate([x_train, extra]), y_train + list(extra_y)
    members: list[Member] = []
    seconds: dict[str, float] = {}
    trained: dict[str, Trained] = {}
    for kind in cfg.kinds:
        def epoch(done: int, total: int, kind: str = kind) -> None:
            tell(f"{task_name}: training {kind}", done, total)

        t = train_model(kind, x_train, y_train, cfg.model, progress=epoch)
        trained[kind] = t
        members.append(t)
        seconds[kind] = t.train_seconds
    if "cnn" in trained:
        tell(f"{task_name}: CNN features into an SVM", 0, 1)
        t0 = time.perf_counter()
        svm_member = cnn_svm(trained["cnn"], x_train, y_train)
        seconds[svm_member.name] = trained["cnn"].train_seconds + time.perf_counter() - t0
        members.append(svm_member)
    tell(f"{task_name}: ensembles", 0, 1)
    x_val = np.concatenate(clips["validation"])
    y_val = [lab for c, lab in zip(clips["validation"], labels["validation"], strict=True) for _ in range(len(c))]
    ensembles = [Ensemble.soft_vote(members), Ensemble.stack(members, x_val, y_val)]
    names = members[0].labels
    results: dict[str, Any] = {}
    for test in ("test (FluidR3)", "test (TimGM6mb)"):
        per: dict[str, Any] = {}
        for m in members:
            per[m.name] = evaluate(clip_proba(m, clips[test]), labels[test], names)
        for e in ensembles:
            per[e.name] = evaluate(clip_proba(e, clips[test]), labels[test], names,
                                   members=[per[m.name] for m in members])
        results[test] = per
    tell(f"{task_name}: the symbolic path on the same pieces", 0, 1)
    chosen = [p for part in parts.values() for p, _ in part]
    symbolic = evaluate_task(replace(task, min_class=1), "random_forest", cfg.seed, pieces=chosen, cache_dir=cache_dir / "symbolic")
    if symbolic["split_id"] != split_id:
        raise AssertionError("the symbolic path split the pieces differently")  # same items, same rule: cannot happen
    if model_path is not None:
        save(model_path, task_name, [trained[k] for k in cfg.kinds], learned_from=sorted({p.cid for p, _ in parts["train"]}))
    return {"task": task_name, "description": task.description, "config": {**asdict(cfg), "model": cfg.model.to_json()},
            "classes": names, "grouped_by": grouped_by, "split_id": split_id,
            "n": {k: len(v) for k, v in parts.items()}, "train_patches": len(x_train), "train_seconds": seconds,
            "results": results, "symbolic": {"model": "random_forest", **symbolic["test"]},
            "stack_fitted_on": ensembles[1].fitted_on, "model_path": str(model_path) if model_path else None,
            "wall_seconds": time.perf_counter() - started,
            "run": run_record(settings={**asdict(cfg), "model": cfg.model.to_json(),
                                        "preprocess": FeatureConfig().preprocess().to_json()},
                              seeds={"split": cfg.seed, "models": cfg.model.seed, "augment": cfg.seed})}


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------

def write_report(reports: Sequence[dict[str, Any]], out: Path) -> None:
    """classification_audio.md / .json and a confusion PNG per task (stacked ensemble, other family)."""
    from ml.classification.symbolic import _confusion_png

    out.mkdir(parents=True, exist_ok=True)
    (out / "classification_audio.json").write_text(json.dumps(list(reports), indent=2))
    lines = ["# Audio classification of folk songs: CNN, RNN, LSTM, CRNN, CNN + SVM and their ensembles", "",
             "Produced by `heritage classification evaluate`. Each piece is rendered with a General MIDI instrument drawn by "
             "its CID (so the instrument carries no label), trained on the FluidR3 soundfont family and tested on unseen "
             "pieces in both families; scored per piece (the mean of its 3-s segments' probabilities). The symbolic "
             "column is the score-feature random forest (`classification_symbolic.md`) on the same pieces and split.", ""]
    for r in reports:
        lines += [f"## {r['task']}", "", f"{r['description']}. Classes: {', '.join(r['classes'])}; pieces train / validation / "
                  f"test {r['n']['train']} / {r['n']['validation']} / {r['n']['test']}, grouped by {r['grouped_by']} "
                  f"(split `{r['split_id'][:12]}`); {r['train_patches']} training patches with augmentation.", "",
                  "| model | accuracy, test FluidR3 | macro-F1 | accuracy, test TimGM6mb | macro-F1 | training s |",
                  "|---|---|---|---|---|---|"]
        a, b = r["results"]["test (FluidR3)"], r["results"]["test (TimGM6mb)"]
        for name in a:
            secs = r["train_seconds"].get(name)
            lines.append(f"| {name} | {a[name]['accuracy']:.1%} | {a[name]['macro_f1']:.3f} | {b[name]['accuracy']:.1%} | "
                         f"{b[name]['macro_f1']:.3f} | {'' if secs is None else f'{secs:.0f}'} |")
        s = r["symbolic"]
        lines.append(f"| symbolic features, random forest | {s['accuracy']:.1%} | {s['macro_f1']:.3f} | (scores) | | |")
        ens = [n for n in a if n.startswith(("soft", "stack"))]
        for n in ens:
            lines.append("")
            lines.append(f"{n}: {'beats' if b[n].get('beats_best_member') else 'does not beat'} its best member on the other "
                         f"family (macro-F1 {b[n]['macro_f1']:.3f} against {b[n].get('best_member_macro_f1', float('nan')):.3f}).")
        png = f"classification_audio_confusion_{r['task']}.png"
        last = ens[-1] if ens else next(iter(b))
        _confusion_png(np.array(b[last]["confusion"]), r["classes"], out / png, f"{r['task']}: {last}, test TimGM6mb")
        lines += ["", f"![{r['task']} confusion]({png})"]
        lines += [*report_lines(r), ""]
    lines += ["## The seed's GTZAN figures beside ours", "",
              f"The seed reports CNN {GTZAN['CNN']:.2%} → CNN + SVM {GTZAN['CNN + SVM']:.2%} accuracy on GTZAN: ten Western "
              "popular genres, 1,000 30-s commercial recordings whose production, instrumentation and tempo differ by genre. "
              "Ours are folk songs of one culture or region, all rendered with the same instruments and tempo, so only the "
              "melody (scale, intervals, rhythm) tells the classes apart: a harder and different task, and the levels are "
              "not comparable; the direction of CNN → CNN + SVM is."]
    (out / "classification_audio.md").write_text("\n".join(lines) + "\n")
