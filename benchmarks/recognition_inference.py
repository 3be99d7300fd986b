"""Inference time per 3-s segment on CPU for every timbre recogniser, and peak memory of each.

    .venv/bin/python -m benchmarks.recognition_inference [--segments 60] [--hidden 1024 1024 1024 1024 1024]

Models of the report's sizes (13 classes: 12 instruments and tabla, × 3 states; GMM 4 mixtures;
DNN 5 × 1,024 by default; autoencoder 640 → 512 → 256 → 40; the transfer CNN and an RBF SVM)
are fitted briefly on synthetic data — inference time does not depend on the weights' values —
and each scores the same segments from audio (3 s at 22,050 Hz), features included. Side by side
in one run: the GMM-HMM on MFCC (the baseline); the DNN-HMM with one Viterbi per instrument (the
first version's loop) and with the batched Viterbi; the GMM-HMM on autoencoder codes; the CNN's
fused features into the SVM. Medians of `--segments` runs. Each model runs in its own fresh
process, so its peak RSS (ru_maxrss) is its own. Writes benchmarks/results/recognition_inference.json.
Training times per variant are in reports/recognition.json.
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


LABELS = [f"instrument {i}" for i in range(13)]
MODELS = ("MFCC + context features only", "GMM-HMM on MFCC (baseline)", "DNN-HMM, one Viterbi per instrument",
          "DNN-HMM, batched Viterbi (ours)", "AE-supervised codes + GMM-HMM", "CNN-transfer (mid+high) + SVM")


def measure(model: str, segments: int, hidden: list[int]) -> tuple[float, float]:
    """Median ms per segment (features included) and this process's peak RSS in MB."""
    from ml.recognition.autoencoder import AutoencoderConfig, AutoencoderFeatures, logmel_context
    from ml.recognition.features import logmel
    from ml.recognition.transfer import CnnConfig, svm, train_source

    rng = np.random.default_rng(0)
    audio = [rng.normal(size=66_150).astype(np.float32) * 0.1 for _ in range(segments)]
    y = [LABELS[i % len(LABELS)] for i in range(len(LABELS) * 3)]
    if model == MODELS[0]:
        fn: Callable[[np.ndarray], Any] = mfcc_context
    elif model in MODELS[1:4]:
        train = [rng.normal(i % 3, 1.0, size=(130, 143)) for i in range(len(y))]
        gmm = GmmHmmClassifier(GmmHmmConfig(n_iter=2)).fit(train, y)
        if model == MODELS[1]:
            fn = lambda a: gmm.log_likelihoods(mfcc_context(a))  # noqa: E731
        else:
            dnn = DnnHmmClassifier(gmm, DnnHmmConfig(hidden=tuple(hidden), epochs=1)).fit(train, y)
            s = mfcc_context(audio[0])
            assert np.allclose(dnn.scores(s), _loop_scores(dnn, s))  # same answer both ways
            fn = (lambda a: _loop_scores(dnn, mfcc_context(a))) if model == MODELS[2] else (lambda a: dnn.scores(mfcc_context(a)))
    elif model == MODELS[4]:
        ae = AutoencoderFeatures(AutoencoderConfig(pretrain_epochs=1, finetune_epochs=1))
        seqs = [logmel_context(a, context=2) for a in audio[:4]] * 10
        ae.pretrain(seqs[: len(y)], y[: len(seqs)])
        codes = [rng.normal(i % 3, 1.0, size=(130, 40)) for i in range(len(y))]
        back = GmmHmmClassifier(GmmHmmConfig(n_iter=2)).fit(codes, y)
        fn = lambda a: back.log_likelihoods(ae.encode(logmel_context(a, context=2)))  # noqa: E731
    else:
        patches = rng.normal(-50, 10, size=(24, 128, 128)).astype(np.float32)
        cnn = train_source(patches, [f"source {i % 12}" for i in range(24)], CnnConfig(epochs=1))
        target = svm().fit(rng.normal(size=(len(y) * 3, 256)), y * 3)
        fn = lambda a: target.decision_function(cnn.features(logmel(a)[None, :, :128]))  # noqa: E731
    ms = _median_ms(fn, audio)
    return ms, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    import concurrent.futures
    import multiprocessing

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=60, help="3-s segments each model scores; medians over them (default 60)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[1024] * 5,
                        help="hidden layer widths of the DNN-HMM (default five of 1,024)")
    args = parser.parse_args()
    rows: dict[str, dict[str, float]] = {}
    for model in MODELS:  # one at a time, each in a fresh process: the peak memory is the model's own
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            ms, mb = pool.submit(measure, model, args.segments, args.hidden).result()
        rows[model] = {"median_ms": round(ms, 2), "peak_rss_mb": round(mb, 1)}
    out = {"machine": f"{platform.machine()}, torch threads {torch.get_num_threads()}", "hidden": args.hidden,
           "segments": args.segments, "classes": len(LABELS), "models": rows,
           "dnn_hmm_vs_gmm_hmm": round(rows[MODELS[3]]["median_ms"] / rows[MODELS[1]]["median_ms"], 3),
           "batched_vs_loop": round(rows[MODELS[3]]["median_ms"] / rows[MODELS[2]]["median_ms"], 3)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "recognition_inference.json").write_text(json.dumps(out, indent=2))
    t = Table(title=f"inference per 3-s segment from audio (median of {args.segments}), DNN {args.hidden}")
    for col in ("model", "ms", "× baseline", "peak RSS MB"):
        t.add_column(col, justify="left" if col == "model" else "right")
    for k, v in rows.items():
        t.add_row(k, f"{v['median_ms']:.1f}", f"{v['median_ms'] / rows[MODELS[1]]['median_ms']:.2f}", f"{v['peak_rss_mb']:.0f}")
    Console().print(t)


if __name__ == "__main__":
    main()
