"""Symbolic folk-song classification: every task × model, and feature time against music21's parse.

    .venv/bin/python -m benchmarks.classification_symbolic [--tasks tradition dance] [--models logreg svm]
        [--seed 0] [--timing-tunes 60] [--report-dir reports]

For each task of ml.classification.symbolic.TASKS (tradition, han_region, han_genre, dance) and
each model (logreg, random_forest, svm): a 70/15/15 split, hyper-parameters chosen on validation,
test accuracy and macro-F1 (ml.classification.symbolic.evaluate_task; features cached under
cache/classification/, so only the first run pays for reading ~11,000 tunes). Then the time per tune
of `symbolic_features` (our ABC reader and the features) and of music21's `parse_abc` alone on the
same tunes, spread evenly over Essen, O'Neill's and Ryan's: medians and their ratio.

Writes benchmarks/results/classification_symbolic.json and the report (classification_symbolic.md,
.json, confusion PNGs) into --report-dir. Sklearn runs on one core (n_jobs=1).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from core.paths import REPO_ROOT
from ml.classification.symbolic import MODELS, TASKS, evaluate_task, symbolic_features, write_report
from ml.data.corpora import Piece, essen, oneill, ryan

RESULTS = Path(__file__).parent / "results"


def time_features(n: int) -> dict[str, Any]:
    """Median ms per tune of symbolic_features and of music21's parse (no features) on the same n tunes."""
    from ml.data.scores import parse_abc

    pieces: list[Piece] = [*essen(), *oneill(), *ryan()]
    sample = pieces[:: max(1, len(pieces) // n)][:n]
    symbolic_features(sample[0].abc)
    parse_abc(sample[0].abc)  # warm-up: imports and music21's caches
    ours, theirs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # music21 warns about odd ABC (fingerings, decorations)
        for piece in sample:
            t0 = time.perf_counter()
            symbolic_features(piece.abc)
            t1 = time.perf_counter()
            parse_abc(piece.abc)
            t2 = time.perf_counter()
            ours.append(1000 * (t1 - t0))
            theirs.append(1000 * (t2 - t1))
    ours_ms, theirs_ms = statistics.median(ours), statistics.median(theirs)
    return {"tunes": len(sample), "symbolic_features_ms": ours_ms, "music21_parse_ms": theirs_ms, "ratio": theirs_ms / ours_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS), help="tasks to run (default: all four)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS), help="models (default: all three)")
    parser.add_argument("--seed", type=int, default=0, help="split and forest seed (default 0)")
    parser.add_argument("--timing-tunes", type=int, default=60, help="tunes timed against music21's parse (default 60; 0 skips)")
    parser.add_argument("--report-dir", type=Path, default=REPO_ROOT / "reports", help="where the report goes (default reports/)")
    args = parser.parse_args()
    console = Console()

    results = []
    for task in args.tasks:
        for model in args.models:
            with console.status(f"{task} × {model}"):
                results.append(evaluate_task(task, model, args.seed))
    table = Table(title="Symbolic classification, test split")
    for column in ("task", "classes", "split by", "model", "accuracy", "macro-F1", "majority", "s"):
        table.add_column(column, justify="left" if column in ("task", "split by", "model") else "right")
    for r in results:
        table.add_row(r["task"], str(len(r["classes"])), r["grouped_by"], r["model"], f"{r['test']['accuracy']:.1%}",
                      f"{r['test']['macro_f1']:.3f}", f"{r['majority']:.1%}", f"{r['seconds']:.0f}")
    console.print(table)
    anchors = Table(title="Published symbolic results (other class sets and data: not directly comparable)")
    for column in ("task", "published", "setting", "source"):
        anchors.add_column(column)
    for task in args.tasks:
        for a in TASKS[task].anchors:
            anchors.add_row(task, f"{a.accuracy:.1%}", a.setting, a.source)
    console.print(anchors)

    timing = time_features(args.timing_tunes) if args.timing_tunes > 0 else None
    if timing:
        console.print(f"Per tune, median of {timing['tunes']}: symbolic_features {timing['symbolic_features_ms']:.2f} ms, "
                      f"music21 parse {timing['music21_parse_ms']:.1f} ms ({timing['ratio']:.0f}× as long)")
    written = write_report(results, args.report_dir, timing=timing)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "classification_symbolic.json"
    out.write_text(json.dumps({"platform": platform.platform(), "python": platform.python_version(), "seed": args.seed,
                               "timing": timing, "results": results}, indent=2))
    console.print(f"wrote {out} and {written[1]}")


if __name__ == "__main__":
    main()
