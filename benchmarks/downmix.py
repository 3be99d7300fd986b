"""Stereo downmix: the shipped models on a spaced pair, mixed by a plain average and by the aligned downmix, in one run.

    .venv/bin/python -m benchmarks.downmix [--cache cache/robustness] [--delays-ms 0.1 0.5 1 3] [--limit 0]

The clips are the robustness report's (`heritage robustness evaluate`: the recognition experiment's
held-out clips for the shipped DNN-HMM, the tradition task's for the shipped classifier; rendered
into --cache once). Each clip is made a spaced pair — the right channel 3 dB down and late by each
--delays-ms — and answered through the model's own preprocessing twice: with `ml.data.audio.to_mono`
(the plain average the path used before) and with `ml.data.audio.downmix` (channels aligned by
their cross-correlation first). The clean (mono) accuracy is measured in the same run. Accuracy as
in the robustness report (the recogniser's most frequent non-silent segment answer, the
classifier's most likely label). Writes benchmarks/results/downmix.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from ml import robustness as rb
from ml.data import audio
from ml.runtime import reproducible, run_record

RESULTS = Path(__file__).parent / "results" / "downmix.json"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("cache/robustness"), help="rendered clips (the robustness report's)")
    parser.add_argument("--delays-ms", type=float, nargs="+", default=[0.1, 0.5, 1.0, 3.0], help="right channel's delays")
    parser.add_argument("--limit", type=int, default=0, help="at most this many clips per model (0: all), taken evenly")
    args = parser.parse_args(argv)
    from ml.classification.saved import load as load_classifier
    from ml.defaults import default_model

    reproducible(threads=1)
    started = time.perf_counter()
    recogniser, classifier = default_model("recognition"), default_model("classification/tradition")
    runs = [(rb.recogniser_model(f"DNN-HMM {recogniser.name}", recogniser),
             rb.take(rb.recognition_clips(pieces=40, seconds=9.0, cache_dir=args.cache / "recognition", seed=0), args.limit)),
            (rb.classifier_model(f"classifier {classifier.name}", classifier),
             rb.take(rb.task_clips(load_classifier(classifier).task, cache_dir=args.cache / "classification"), args.limit))]
    pairs = [rb.Condition(f"{delay:g} ms", "stereo", rb.spaced_pair(delay)) for delay in args.delays_ms]
    clean = rb.evaluate(runs, conditions=rb.select_conditions(["clean"]))
    plain, aligned = (rb.evaluate(runs, conditions=pairs, mix=mix) for mix in (audio.to_mono, audio.downmix))
    rows: list[dict[str, Any]] = []
    for model, _ in runs:
        row: dict[str, Any] = {"model": model.name, "clips": clean["clips"][model.name],
                               "clean": clean["models"][model.name]["clean"]["accuracy"]}
        for c in pairs:
            row[f"{c.name} plain"] = plain["models"][model.name][c.name]["accuracy"]
            row[f"{c.name} aligned"] = aligned["models"][model.name][c.name]["accuracy"]
            print(f"{model.name}: {c.name}  plain {row[f'{c.name} plain']:.1%}  aligned {row[f'{c.name} aligned']:.1%}"
                  f"  (clean {row['clean']:.1%}, {row['clips']} clips)", flush=True)
        rows.append(row)
    result = {"rows": rows, "delays_ms": args.delays_ms, "wall_seconds": time.perf_counter() - started,
              "run": run_record(settings={"cache": str(args.cache), "limit": args.limit}, seeds={"split": 0})}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
