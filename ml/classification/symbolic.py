"""Symbolic folk-song classification: features read straight from ABC text, four tasks, a report.

The score path of issue 7, to set beside the audio models later. A tune's ABC text becomes a
fixed-length vector (`symbolic_features`, 82 floats, blocks in `FEATURE_BLOCKS`) through the
project's own ABC reader (`ml.data.melody.read_melody`, ABC 2.1 accidentals; about 0.5 ms a tune).
Four tasks (`TASKS`) run on music21's bundled corpora (`ml.data.corpora`): tradition/collection,
region of the Chinese Han songs (provinces grouped into five macro-regions), genre of the Han
songs, and dance type of O'Neill's and Ryan's tunes. `evaluate_task` splits 70/15/15
(`ml.data.splits.split`), picks hyper-parameters on validation by macro-F1 and scores test once;
`write_report` writes classification_symbolic.md/.json and a confusion PNG per task and model.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from core.errors import InputError
from core.paths import REPO_ROOT
from ml.data.corpora import Piece, essen, oneill, ryan
from ml.data.melody import Melody, MelodyNote, read_melody
from ml.data.splits import split

# ----------------------------------------------------------------------------------------------
# Features
# ----------------------------------------------------------------------------------------------

INTERVAL_LIMIT = 12
DURATION_BINS = (0.125, 0.25, 1 / 3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
METRES = ("2/4", "4/4", "2/2", "3/4", "3/8", "6/8", "9/8", "12/8", "6/4", "3/2", "4/2", "other", "free")
FEATURE_BLOCKS: tuple[tuple[str, int, str], ...] = (
    ("pitch_class", 12, "duration-weighted pitch-class histogram, bin k = k semitones above the K: tonic; sums to 1"),
    ("final", 12, "one-hot pitch class of the last note, relative to the K: tonic"),
    ("interval", 2 * INTERVAL_LIMIT + 3, "melodic intervals between successive notes: < −12, −12 … +12, > +12 semitones; "
                                         "shares, sum 1 (0 with a single note)"),
    ("contour", 5, "shares of intervals up, down and repeated; range (semitones, highest − lowest); mean |interval| (semitones)"),
    ("duration", len(DURATION_BINS), "note durations (quarter notes) at the nearest (log scale) of "
                                     "1/8 1/4 1/3 1/2 3/4 1 3/2 2 3 ≥4; shares, sum 1"),
    ("rhythm", 3, "share of dotted notes (1.5 × a power of two); notes per bar (bar length from M:, or barlines "
                  "when the metre is free); rest share of the notated time"),
    ("metre", len(METRES), "one-hot M: (C as 4/4, C| as 2/2; 'other' for rarer metres, 'free' for none)"),
)
"""Blocks of `symbolic_features`, in order: (name, length, what each holds). Notes are the tied-merged
melody notes (tied notes joined into one, rests skipped for intervals)."""
N_FEATURES = sum(n for _, n, _ in FEATURE_BLOCKS)
FEATURES_VERSION = 1
"""Bump when a feature's definition changes: it keys the on-disk cache."""


def feature_names() -> list[str]:
    """One name per entry of `symbolic_features`' vector, e.g. 'pitch_class[7]', 'metre[6/8]'."""
    labels = {"interval": ["<-12", *(f"{i:+d}" for i in range(-INTERVAL_LIMIT, INTERVAL_LIMIT + 1)), ">+12"],
              "contour": ["up", "down", "repeat", "range", "mean_abs_interval"],
              "duration": ["1/8", "1/4", "1/3", "1/2", "3/4", "1", "3/2", "2", "3", ">=4"],
              "rhythm": ["dotted", "notes_per_bar", "rest_share"], "metre": list(METRES)}
    return [f"{name}[{labels[name][i] if name in labels else i}]" for name, n, _ in FEATURE_BLOCKS for i in range(n)]


def symbolic_features(abc: str) -> np.ndarray:
    """Fixed-length features of one ABC tune: shape (N_FEATURES,) = (82,), float64; blocks in FEATURE_BLOCKS.

    A tune in a few tenths of a millisecond (no music21). Raises InputError for text without a K:
    line or without notes.
    """
    melody = read_melody(abc)
    pitches, durations = _merged(melody.notes)
    rest_time = sum(n.quarter_length for n in melody.notes if n.pitch is None)
    total_time = sum(durations) + rest_time
    p = np.asarray(pitches, dtype=np.int64)  # (n,)
    d = np.asarray(durations, dtype=np.float64)  # (n,) quarter notes

    weights = np.bincount((p - melody.tonic) % 12, weights=d, minlength=12).astype(np.float64)
    pitch_class = weights / max(float(weights.sum()), 1e-12)
    final = np.zeros(12)
    final[(p[-1] - melody.tonic) % 12] = 1.0

    steps = np.diff(p)  # (n - 1,) semitones
    interval = np.bincount(np.clip(steps, -INTERVAL_LIMIT - 1, INTERVAL_LIMIT + 1) + INTERVAL_LIMIT + 1,
                           minlength=2 * INTERVAL_LIMIT + 3).astype(np.float64)
    n_steps = max(len(steps), 1)
    interval /= n_steps
    contour = np.array([(steps > 0).sum() / n_steps, (steps < 0).sum() / n_steps, (steps == 0).sum() / n_steps if len(steps) else 0.0,
                        float(p.max() - p.min()), float(np.abs(steps).mean()) if len(steps) else 0.0])

    log_bins = np.log2(np.asarray(DURATION_BINS))
    nearest = np.abs(np.log2(np.maximum(d, 1e-6))[:, None] - log_bins[None, :]).argmin(axis=1)
    nearest[d >= DURATION_BINS[-1]] = len(DURATION_BINS) - 1
    duration = np.bincount(nearest, minlength=len(DURATION_BINS)) / len(d)
    dotted = np.mean([_is_dotted(x) for x in durations])
    rhythm = np.array([dotted, len(d) / _bars(melody, total_time), rest_time / max(total_time, 1e-12)])

    metre = np.zeros(len(METRES))
    metre[METRES.index(melody.metre if melody.metre in METRES else "other")] = 1.0
    out = np.concatenate([pitch_class, final, interval, contour, duration, rhythm, metre])
    assert out.shape == (N_FEATURES,)
    return out


def _merged(notes: Sequence[MelodyNote]) -> tuple[list[int], list[float]]:
    """Pitches and durations of the sounding notes, a tie joining a note to the next of the same pitch."""
    pitches: list[int] = []
    durations: list[float] = []
    joining = False
    for n in notes:
        if n.pitch is None:
            joining = False
            continue
        if joining and pitches[-1] == n.pitch:
            durations[-1] += n.quarter_length
        else:
            pitches.append(n.pitch)
            durations.append(n.quarter_length)
        joining = n.tied
    return pitches, durations


def _is_dotted(ql: float) -> bool:
    base = math.log2(ql / 1.5)
    return abs(base - round(base)) < 1e-6


def _bars(melody: Melody, total_time: float) -> float:
    """Bars the tune spans: its notated time over the M: bar length; for a free metre, barlines + 1."""
    if melody.metre == "free":
        return float(max(melody.bars, 1))
    num, den = (int(x) for x in melody.metre.split("/"))
    return max(total_time / (4 * num / den), 1.0)


# ----------------------------------------------------------------------------------------------
# Tasks
# ----------------------------------------------------------------------------------------------

REGIONS: dict[str, tuple[str, ...]] = {
    "North & Northeast": ("Hebei", "Shanxi", "Nei Monggol", "Liaoning", "Jilin", "Heilongjiang"),
    "Northwest": ("Shaanxi", "Gansu", "Qinghai", "Ningxia", "Xinjiang"),
    "East": ("Shandong", "Jiangsu", "Anhui", "Zhejiang", "Fujian", "Jiangxi", "Taiwan"),
    "Central & South": ("Henan", "Hubei", "Hunan", "Guangdong", "Guangxi"),
    "Southwest": ("Sichuan", "Guizhou", "Yunnan", "Xizang"),
}
"""Provinces of the Han songs grouped by the PRC's administrative macro-regions (1949–54), North China
and the Northeast joined (the Northeast alone has 64 songs, 2 of them from Jilin). Counts in Essen's
han1+han2: 199, 177, 397, 310, 87; 54 songs name no province and are left out."""
_REGION_OF = {province: region for region, provinces in REGIONS.items() for province in provinces}


@dataclass(frozen=True)
class Anchor:
    """A published symbolic result to print beside ours (not directly comparable: see the report)."""

    accuracy: float  # 0–1
    setting: str
    source: str


@dataclass(frozen=True)
class Task:
    """One classification task: which pieces, how each is labelled, the smallest class kept.

    label: None leaves a piece out. Classes with fewer than `min_class` pieces (after removing
    duplicate texts) are left out and reported.
    """

    name: str
    description: str
    pieces: Callable[[], list[Piece]]
    label: Callable[[Piece], str | None]
    min_class: int
    anchors: tuple[Anchor, ...] = ()


def _tradition_pieces() -> list[Piece]:
    return essen() + oneill()


def _tradition(piece: Piece) -> str | None:
    return "Irish" if piece.corpus == "oneill1850" else piece.tradition


def _han_pieces() -> list[Piece]:
    return essen(("Chinese Han",))


def _region(piece: Piece) -> str | None:
    return _REGION_OF.get(piece.province) if piece.province else None


def _genre(piece: Piece) -> str | None:
    return piece.genre


def _dance_pieces() -> list[Piece]:
    return oneill() + ryan()


def _dance(piece: Piece) -> str | None:
    return piece.dance


TASKS: dict[str, Task] = {task.name: task for task in (
    Task("tradition", "Essen collections by tradition (Chinese Han, German, Lorraine, Luxembourg, Irish), with O'Neill's "
         "Music of Ireland (1850) joined to Essen's 62 Irish songs as Irish", _tradition_pieces, _tradition, 50,
         (Anchor(0.725, "6 European regions, Essen", "Li, Ji & Bilmes 2006"),
          Anchor(0.63, "3-way Irish / German / Austrian", "Chai & Vercoe 2001"))),
    Task("han_region", "Chinese Han songs (Essen han1, han2) by region of China (REGIONS)", _han_pieces, _region, 50,
         (Anchor(0.72, "Han folk-song regions", "Khoo et al. 2012"),)),
    Task("han_genre", "Chinese Han songs by genre: Xiaodiao, Shange, Haozi, Wuge", _han_pieces, _genre, 50),
    Task("dance", "O'Neill's (1850) and Ryan's Mammoth (1883) tunes by dance type (R:)", _dance_pieces, _dance, 40),
)}
"""The four tasks, by name. Splits group by source file when every class spans at least
`MIN_FILES_TO_GROUP` files (dance: O'Neill's 39 files and Ryan's one file a tune); otherwise by piece
(tradition: Luxembourg is one file; the Han tasks: two files), so a whole collection is never the test set."""
MIN_FILES_TO_GROUP = 3


# ----------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------

ModelName = Literal["logreg", "random_forest", "svm"]
MODELS: tuple[ModelName, ...] = ("logreg", "random_forest", "svm")
GRIDS: dict[str, tuple[dict[str, Any], ...]] = {
    "logreg": tuple({"C": c} for c in (0.01, 0.1, 1.0, 10.0)),
    "random_forest": tuple({"max_features": f, "min_samples_leaf": leaf} for f in ("sqrt", 0.33) for leaf in (1, 3)),
    "svm": tuple({"C": c, "gamma": g} for c in (1.0, 10.0, 100.0) for g in ("scale", 0.05)),
}
"""Hyper-parameters tried on validation. All models weight classes inversely to their frequency;
logistic regression and the RBF SVM see standardised features; the forest has 300 trees."""


def default_cache_dir() -> Path:
    return REPO_ROOT / "cache" / "classification"


def evaluate_task(task: Task | str, model: ModelName = "logreg", seed: int = 0, *, pieces: Sequence[Piece] | None = None,
                  cache_dir: Path | None = None) -> dict[str, Any]:
    """Train `model` on the task's training split, choose hyper-parameters on validation, score test once.

    pieces: the selection to use (the task's own corpus by default), labelled by the task.
    cache_dir: where features are cached, keyed by piece CID (cache/classification/ by default).
    Returns a JSON-ready dict: task, model, seed, classes, counts (pieces a class, after dropping
    duplicate texts), dropped (classes under min_class), grouped_by, split_id, n (train/validation/
    test), grid (validation macro-F1 of every setting), params (chosen), test (accuracy, macro_f1,
    recall per class, confusion rows true × columns predicted), majority (test share of the largest
    class), seconds. Raises InputError for an unknown task or model, or fewer than two classes.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    t0 = time.perf_counter()
    task = _task(task)
    if model not in GRIDS:
        raise InputError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    labelled = _labelled(task, task.pieces() if pieces is None else pieces)
    counts = Counter(label for _, label in labelled)
    classes = sorted(c for c, n in counts.items() if n >= task.min_class)
    if len(classes) < 2:
        raise InputError(f"task {task.name!r}: {len(classes)} class(es) with at least {task.min_class} pieces in this selection "
                         f"({dict(counts)}); select more pieces")
    items = [(p, label) for p, label in labelled if label in classes]
    files = {c: {p.source for p, label in items if label == c} for c in classes}
    by_file = min(len(f) for f in files.values()) >= MIN_FILES_TO_GROUP
    parts = split(items, label=lambda x: x[1], group=(lambda x: x[0].source) if by_file else (lambda x: x[0].piece_id),
                  cid=lambda x: x[0].cid, seed=seed)
    for name, part in parts.parts().items():
        if not part:
            raise InputError(f"task {task.name!r}: the {name} split is empty; select more pieces")
    root = cache_dir if cache_dir is not None else default_cache_dir()
    x = {name: features([p for p, _ in part], cache_dir=root) for name, part in parts.parts().items()}
    y = {name: np.array([label for _, label in part]) for name, part in parts.parts().items()}

    grid = []
    for params in GRIDS[model]:
        fitted = _estimator(model, params, seed).fit(x["train"], y["train"])
        grid.append({"params": params, "validation_macro_f1": float(f1_score(y["validation"], fitted.predict(x["validation"]),
                                                                            average="macro", labels=classes, zero_division=0))})
    best = max(range(len(grid)), key=lambda i: (grid[i]["validation_macro_f1"], -i))
    fitted = _estimator(model, GRIDS[model][best], seed).fit(x["train"], y["train"])
    predicted = fitted.predict(x["test"])
    confusion = confusion_matrix(y["test"], predicted, labels=classes)
    support = confusion.sum(axis=1)
    test_counts = Counter(y["test"].tolist())
    return {
        "task": task.name, "description": task.description, "model": model, "seed": seed, "classes": classes,
        "counts": {c: counts[c] for c in classes}, "dropped": {c: n for c, n in sorted(counts.items()) if c not in classes},
        "grouped_by": "source file" if by_file else "piece", "split_id": parts.split_id,
        "n": {name: len(part) for name, part in parts.parts().items()},
        "grid": grid, "params": GRIDS[model][best],
        "test": {"accuracy": float(accuracy_score(y["test"], predicted)),
                 "macro_f1": float(f1_score(y["test"], predicted, average="macro", labels=classes, zero_division=0)),
                 "recall": {c: (float(confusion[i, i] / support[i]) if support[i] else None) for i, c in enumerate(classes)},
                 "confusion": confusion.tolist()},
        "majority": max(test_counts.values()) / len(predicted),
        "anchors": [vars(a) for a in task.anchors],
        "seconds": time.perf_counter() - t0,
    }


def features(pieces: Sequence[Piece], *, cache_dir: Path) -> np.ndarray:
    """`symbolic_features` of every piece, shape (len(pieces), N_FEATURES), read from or added to
    the cache file `cache_dir/symbolic-v<FEATURES_VERSION>.npz` (rows keyed by piece CID)."""
    path = cache_dir / f"symbolic-v{FEATURES_VERSION}.npz"
    cached: dict[str, np.ndarray] = {}
    if path.exists():
        try:
            with np.load(path) as data:
                if data["features"].shape[1:] == (N_FEATURES,):
                    cached = dict(zip(data["cids"].tolist(), data["features"], strict=True))
        except (OSError, ValueError, KeyError):
            cached = {}  # unreadable (an interrupted write from an older version): rebuilt below
    missing = {p.cid: p for p in pieces if p.cid not in cached}
    for cid, piece in missing.items():
        try:
            cached[cid] = symbolic_features(piece.abc)
        except InputError as exc:
            raise InputError(f"{piece.piece_id} ({piece.title}): {exc}") from exc
    if missing:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, cids=np.array(list(cached)), features=np.stack(list(cached.values())))
        os.replace(tmp, path)
    if not pieces:
        return np.zeros((0, N_FEATURES))
    return np.stack([cached[p.cid] for p in pieces])


def _task(task: Task | str) -> Task:
    if isinstance(task, Task):
        return task
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return TASKS[task]


def _labelled(task: Task, pieces: Sequence[Piece]) -> list[tuple[Piece, str]]:
    """(piece, label) for the labelled pieces, each text once (the first of duplicates kept)."""
    seen: set[str] = set()
    out: list[tuple[Piece, str]] = []
    for piece in pieces:
        label = task.label(piece)
        if label is not None and piece.cid not in seen:
            seen.add(piece.cid)
            out.append((piece, label))
    return out


def _estimator(model: str, params: dict[str, Any], seed: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if model == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(C=params["C"], class_weight="balanced", max_iter=5000))
    if model == "random_forest":
        return RandomForestClassifier(n_estimators=300, class_weight="balanced", n_jobs=1, random_state=seed, **params)
    return make_pipeline(StandardScaler(), SVC(C=params["C"], gamma=params["gamma"], class_weight="balanced"))


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------

def write_report(results: Sequence[dict[str, Any]], out_dir: Path, *, timing: dict[str, Any] | None = None) -> list[Path]:
    """classification_symbolic.md and .json, and a PNG for each result of `evaluate_task`
    (classification_symbolic_confusion_<task>_<model>.png), into `out_dir`; returns the paths written.

    timing: optional feature-time comparison (keys tunes, symbolic_features_ms, music21_parse_ms, ratio).
    """
    if not results:
        raise InputError("no results to report: run evaluate_task first")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "classification_symbolic.json", out_dir / "classification_symbolic.md"]
    written[0].write_text(json.dumps({"features": [{"block": n, "length": k, "holds": d} for n, k, d in FEATURE_BLOCKS],
                                      "timing": timing, "results": list(results)}, indent=2))
    by_task: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_task.setdefault(r["task"], []).append(r)
        png = out_dir / f"classification_symbolic_confusion_{r['task']}_{r['model']}.png"
        _confusion_png(np.array(r["test"]["confusion"]), r["classes"], png,
                       f"{r['task']}, {r['model']}: accuracy {r['test']['accuracy']:.1%}, macro-F1 {r['test']['macro_f1']:.2f}")
        written.append(png)
    lines = _markdown(by_task)
    if timing:
        lines += ["## Feature time", "", f"Median per tune over {timing['tunes']} tunes spread over the corpora: "
                  f"`symbolic_features` (our ABC reader and all features) {timing['symbolic_features_ms']:.2f} ms; music21's "
                  f"parse of the same text alone {timing['music21_parse_ms']:.1f} ms, {timing['ratio']:.0f}× as long.", ""]
    written[1].write_text("\n".join(lines) + "\n")
    return written


def _markdown(by_task: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = ["# Symbolic folk-song classification: features from the score", "",
             f"Each tune's ABC text (music21's bundled corpora) becomes {N_FEATURES} numbers, read without music21: "
             + "; ".join(f"{name} ({n})" for name, n, _ in FEATURE_BLOCKS) + " (`ml/classification/symbolic.py`, "
             "FEATURE_BLOCKS). Each task is split 70/15/15, stratified, no text in two splits; hyper-parameters are chosen "
             "by validation macro-F1 and the test split is scored once. Produced by `benchmarks/classification_symbolic.py`.",
             "", "## Tasks", "", "| task | classes (pieces) | split grouped by | train / validation / test | split id |",
             "|---|---|---|---|---|"]
    for name, rs in by_task.items():
        r = rs[0]
        classes = ", ".join(f"{c} ({r['counts'][c]})" for c in r["classes"])
        dropped = f"; left out: {', '.join(f'{c} ({n})' for c, n in r['dropped'].items())}" if r["dropped"] else ""
        lines.append(f"| {name} | {classes}{dropped} | {r['grouped_by']} | {r['n']['train']} / {r['n']['validation']} / "
                     f"{r['n']['test']} | `{r['split_id'][:12]}` |")
    lines += ["", "## Test results", "", "| task | model | accuracy | macro-F1 | majority class | chosen |",
              "|---|---|---|---|---|---|"]
    for name, rs in by_task.items():
        for r in rs:
            params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
            lines.append(f"| {name} | {r['model']} | {r['test']['accuracy']:.1%} | {r['test']['macro_f1']:.3f} | {r['majority']:.1%} | "
                         f"{params} |")
    lines += ["", "## Published symbolic results beside ours", "",
              "| task | published | setting | ours (model chosen by validation macro-F1) |", "|---|---|---|---|"]
    for name, rs in by_task.items():
        best = max(rs, key=lambda r: max(g["validation_macro_f1"] for g in r["grid"]))
        for a in rs[0]["anchors"]:
            lines.append(f"| {name} | {a['accuracy']:.1%} ({a['source']}) | {a['setting']} | {best['test']['accuracy']:.1%} "
                         f"({best['model']}, {len(best['classes'])} classes) |")
    lines += ["", "These figures are not directly comparable: the published studies used other class sets (6 European "
              "regions; Irish/German/Austrian), other subsets and encodings of the songs, other features and models, "
              "and cross-validation rather than one held-out split; ours also joins O'Neill's instrumental tunes to the "
              "Irish class, so part of that class is told apart by its collection's notation as much as by its music.",
              "", "## Recall per class (test)", ""]
    for name, rs in by_task.items():
        lines += [f"**{name}**", "", "| class | " + " | ".join(r["model"] for r in rs) + " |", "|---|" + "---|" * len(rs)]
        for c in rs[0]["classes"]:
            cells = ["–" if r["test"]["recall"].get(c) is None else f"{r['test']['recall'][c]:.1%}" for r in rs]
            lines.append(f"| {c} | " + " | ".join(cells) + " |")
        lines += ["", " ".join(f"![{name} {r['model']}](classification_symbolic_confusion_{name}_{r['model']}.png)" for r in rs), ""]
    return lines


def _confusion_png(confusion: np.ndarray, labels: list[str], path: Path, title: str) -> None:
    """Row-normalised confusion matrix (true × predicted), counts written in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 2.5, 1.0 * len(labels) + 2.0))
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=8, color="white" if rates[i, j] > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
