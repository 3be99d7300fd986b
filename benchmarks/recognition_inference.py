"""Inference time per 3-s segment on CPU for the timbre recognisers, and peak memory.

    .venv/bin/python -m benchmarks.recognition_inference [--segments 60] [--hidden 1024 1024 1024 1024 1024]

Models of the report's sizes (12 instruments × 3 states; GMM 4 mixtures; DNN 5 × 1,024 by
default) are fitted briefly on synthetic frames — inference time does not depend on the weights'
values — and each scores the same segments (130 frames × 143 dims: 3 s at 22,050 Hz, hop 512).
Side by side in one run: the GMM-HMM; the DNN-HMM with one Viterbi per instrument (the loop the
first version ran: the baseline) and with the batched Viterbi over all instruments at once; and
the MFCC features of one segment. Medians of `--segments` runs. Writes
benchmarks/results/recognition_inference.json. Training times are in reports/recognition.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from ml.recognition.dnn_hmm import DnnHmmClassifier, DnnHmmConfig, viterbi
from ml.recognition.features import mfcc_context
from ml.recognition.gmm_hmm import GmmHmmClassifier, GmmHmmConfig

RESULTS = Path(__file__).parent / "results"


def _median_ms(fn: Callable[[np.ndarray], Any], inputs: list[np.ndarray]) -> float:
    fn(inputs[0])  # warm-up
    times = []
    for x in inputs:
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def _loop_scores(dnn: DnnHmmClassifier, sequence: np.ndarray) -> np.ndarray:
    """The first version's scoring: the network, then one Python Viterbi per instrument."""
    assert dnn.net is not None and dnn.baseline.standardise is not None
    with torch.no_grad():
        x = torch.from_numpy(dnn.baseline.standardise(sequence).astype(np.float32))
        scaled = torch.log_softmax(dnn.net(x), dim=1).numpy() - dnn.log_prior
    out = []
    for i, lab in enumerate(dnn.labels):
        hmm = dnn.baseline.models[lab]
        with np.errstate(divide="ignore"):
            out.append(viterbi(np.log(hmm.startprob_), np.log(hmm.transmat_), scaled[:, i * dnn.n: (i + 1) * dnn.n]))
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=60)
    parser.add_argument("--hidden", type=int, nargs="+", default=[1024] * 5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    labels = [f"instrument {i}" for i in range(12)]
    train = [rng.normal(i % 3, 1.0, size=(130, 143)) for i in range(len(labels) * 3)]
    y = [labels[i % len(labels)] for i in range(len(train))]
    gmm = GmmHmmClassifier(GmmHmmConfig(n_iter=2)).fit(train, y)
    dnn = DnnHmmClassifier(gmm, DnnHmmConfig(hidden=tuple(args.hidden), epochs=1)).fit(train, y)
    segs = [rng.normal(size=(130, 143)) for _ in range(args.segments)]
    audio = [rng.normal(size=66_150).astype(np.float32) * 0.1 for _ in range(args.segments)]
    for s in segs[:3]:
        assert np.allclose(dnn.scores(s), _loop_scores(dnn, s))  # same answer both ways
    rows = {
        "MFCC + context, one 3-s segment": _median_ms(mfcc_context, audio),
        "GMM-HMM (12 × 3 states × 4 mixtures)": _median_ms(gmm.log_likelihoods, segs),
        "DNN-HMM, one Viterbi per instrument (baseline)": _median_ms(lambda s: _loop_scores(dnn, s), segs),
        "DNN-HMM, batched Viterbi (ours)": _median_ms(dnn.scores, segs),
    }
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"machine": f"{platform.machine()}, torch threads {torch.get_num_threads()}", "hidden": args.hidden,
           "segments": args.segments, "median_ms": rows, "peak_rss_mb": round(peak_mb, 1)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "recognition_inference.json").write_text(json.dumps(out, indent=2))
    t = Table(title=f"inference per 3-s segment (median of {args.segments}), DNN {args.hidden}")
    t.add_column("what")
    t.add_column("ms", justify="right")
    for k, v in rows.items():
        t.add_row(k, f"{v:.1f}")
    console = Console()
    console.print(t)
    console.print(f"peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
