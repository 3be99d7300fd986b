"""Timbre recognition, GMM-HMM against DNN-HMM, trained on one soundfont family and tested on
the other (the headline: a test within one family shares its samples with training and leaks).

Pieces (Essen Chinese Han songs) are split 70/15/15 by piece, so no melody is in two splits;
every piece is rendered with every instrument. Each clip is cut into 3-s segments of MFCC frames
with context (143 dimensions). Segment error rate: the share of segments given the wrong
instrument (the seed's "sentence error rate" stands for a whole utterance, our segment); clip
error rate: the share of clips whose summed segment scores pick the wrong instrument.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.types import Progress
from ml.data.corpora import Piece, essen
from ml.data.preprocess import PreprocessConfig, prepare
from ml.data.render import both_families
from ml.data.splits import split
from ml.data.training import Refusal, Source, training_set
from ml.recognition.autoencoder import AutoencoderConfig, AutoencoderFeatures, logmel_context
from ml.recognition.dataset import INSTRUMENTS_12, SAMPLE_RATE, TRIM_SLACK_S, Clip, clips
from ml.recognition.dnn_hmm import DnnHmmClassifier, DnnHmmConfig
from ml.recognition.features import FeatureConfig, logmel, mfcc_context
from ml.recognition.gmm_hmm import GmmHmmClassifier, GmmHmmConfig
from ml.recognition.tabla import LABEL, tabla_clips, tabla_files, tabla_loop
from ml.recognition.transfer import LEVELS, SOURCE_INSTRUMENTS, CnnConfig, svm, train_source
from ml.runtime import DEFAULT_THREADS, report_lines, reproducible, run_record

VARIANTS = ("GMM-HMM", "DNN-HMM", "AE-unsupervised + GMM-HMM", "AE-supervised + GMM-HMM", "CNN-transfer (mid) + SVM",
            "CNN-transfer (high) + SVM", "CNN-transfer (mid+high) + SVM")
"""Every model the experiment trains; `ExperimentConfig.variants` picks a subset by prefix."""
OTHER = "test, other family (TimGM6mb)"
SAME = "test, same family (FluidR3)"
LOOP = "tabla loop (real performance)"


@dataclass(frozen=True)
class HmmRunConfig:
    """What every recognition run shares: its clips (`pieces` tunes on each of `instruments`,
    `seconds` each) and the two HMM recognisers it trains on MFCC frames."""

    pieces: int = 40
    instruments: tuple[str, ...] = INSTRUMENTS_12
    seconds: float = 9.0
    gmm: GmmHmmConfig = field(default_factory=GmmHmmConfig)
    dnn: DnnHmmConfig = field(default_factory=DnnHmmConfig)


@dataclass(frozen=True)
class ExperimentConfig(HmmRunConfig):
    autoencoder: AutoencoderConfig = field(default_factory=AutoencoderConfig)
    cnn: CnnConfig = field(default_factory=CnnConfig)
    source_instruments: tuple[str, ...] = SOURCE_INSTRUMENTS
    tabla: bool = True
    """Add the real tabla (Debian's sonic-pi-samples) as a class, split by sample file."""
    variants: tuple[str, ...] = ("GMM-HMM", "DNN-HMM", "AE", "CNN")
    """Prefixes of VARIANTS to train: the MFCC GMM-HMM always runs (the others are compared with it)."""
    seed: int = 0
    threads: int = DEFAULT_THREADS
    """torch and BLAS threads for the whole run (`ml.runtime.reproducible`): the same count gives the same weights."""

    def wants(self, variant: str) -> bool:
        return variant == "GMM-HMM" or any(variant.startswith(v) for v in self.variants)


@dataclass
class Segments:
    sequences: list[np.ndarray]  # each (frames, dims), or a (128, 128) patch
    labels: list[str]
    clip: list[int]  # index of the clip each segment came from
    clip_labels: list[str]


def featurise(cl: Sequence[Clip], cfg: FeatureConfig = FeatureConfig(),
              feature: Callable[[np.ndarray], np.ndarray] | None = None,
              preprocess: PreprocessConfig | None = None) -> Segments:
    """Run every clip through the preprocessing path (`ml.data.preprocess`, default
    `cfg.preprocess()`), and compute `feature` (default MFCC + context) of each 3-s segment that is
    not silence. A clip with no such segment is left out, as `heritage recognize` would answer
    "silence" for it."""
    fn = feature or (lambda seg: mfcc_context(seg, cfg=cfg))
    pre = preprocess or cfg.preprocess()
    out = Segments([], [], [], [])
    for c in cl:
        voiced = prepare(c.audio, sample_rate=SAMPLE_RATE, cfg=pre).voiced
        if not len(voiced):
            continue
        for seg in voiced:
            out.sequences.append(fn(seg))
            out.labels.append(c.instrument)
            out.clip.append(len(out.clip_labels))
        out.clip_labels.append(c.instrument)
    return out


def evaluate(score: Callable[[np.ndarray], np.ndarray], labels: list[str], data: Segments) -> dict[str, Any]:
    """Segment and clip error rates, the confusion matrix (true × predicted, label order) and the
    median milliseconds to score one segment."""
    seg_scores, times = [], []
    for s in data.sequences:
        t0 = time.perf_counter()
        seg_scores.append(score(s))
        times.append(time.perf_counter() - t0)
    scores = np.array(seg_scores)  # (segments, labels)
    predicted = scores.argmax(axis=1)
    truth = np.array([labels.index(y) for y in data.labels])
    clip_ids = np.array(data.clip)
    clip_pred = [int(np.argmax(scores[clip_ids == k].sum(axis=0))) for k in range(len(data.clip_labels))]
    clip_truth = [labels.index(y) for y in data.clip_labels]
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(truth, predicted, strict=True):
        confusion[t, p] += 1
    return {"segments": len(truth), "clips": len(clip_truth), "segment_error_rate": float(np.mean(predicted != truth)),
            "clip_error_rate": float(np.mean(np.array(clip_pred) != np.array(clip_truth))),
            "ms_per_segment": 1000 * float(np.median(times)), "confusion": confusion.tolist()}


def choose_pieces(n: int, seed: int, source: Callable[[Piece], Source] | None = None
                  ) -> tuple[list[Piece], list[Piece], list[Piece], str, list[Refusal]]:
    """n Han songs (the first n by CID order: a fixed, content-defined choice), split by piece.
    With `source` (each piece's protocol flags, e.g. from the chain), songs whose protocol forbids
    ML use are left out before anything is read, and returned as refusals."""
    han = sorted(essen(("Chinese Han",)), key=lambda p: p.cid)
    refused: list[Refusal] = []
    if source is not None:
        ts = training_set(han, source=source)
        han, refused = list(ts.items), list(ts.refused)
    s = split(han[:n], label=lambda p: "han", group=lambda p: p.cid, cid=lambda p: p.cid, seed=seed)
    return list(s.train), list(s.validation), list(s.test), s.split_id, refused


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _tabla_clips(cfg: ExperimentConfig, n_train: int, n_test: int) -> tuple[list[Clip], list[Clip], list[Clip]]:
    """Tabla clips for training and test (split by sample file) and the performed loop."""
    sp = tabla_files()
    def make(files: Sequence[Path], n: int, salt: str) -> list[Clip]:
        made = tabla_clips(files, n, seconds=cfg.seconds + TRIM_SLACK_S, salt=salt, sample_rate=SAMPLE_RATE)
        return [Clip(None, LABEL, "recorded", y) for y in made]

    return make(sp.train, n_train, "train"), make(sp.test, n_test, "test"), [Clip(None, LABEL, "recorded", tabla_loop(sp))]


def run(cfg: ExperimentConfig, *, cache_dir: Path, say: Progress | None = None, model_path: Path | None = None,
        cnn_path: Path | None = None, source: Callable[[Piece], Source] | None = None) -> dict[str, Any]:
    """Render, train every variant, evaluate; with `model_path`, save the trained DNN-HMM there,
    with `cnn_path` the source-task CNN (their CIDs go in the report). `source` gives each
    candidate piece's protocol flags: a piece whose protocol forbids ML use is never rendered."""
    tell = say or (lambda stage, done, total: None)
    reproducible(threads=cfg.threads)
    started = time.perf_counter()
    fonts = both_families("the cross-family test")
    train_p, _, test_p, split_id, refused = choose_pieces(cfg.pieces, cfg.seed, source)
    sets: dict[str, list[Clip]] = {}
    plan = [("train (FluidR3)", train_p, fonts["FluidR3"], cfg.instruments), (SAME, test_p, fonts["FluidR3"], cfg.instruments),
            (OTHER, test_p, fonts["TimGM6mb"], cfg.instruments)]
    if cfg.wants("CNN"):
        plan.append(("source task (FluidR3)", train_p, fonts["FluidR3"], cfg.source_instruments))
    for name, pieces, font, instruments in plan:
        def tick(done: int, total: int, name: str = name) -> None:
            tell(f"rendering {name}", done, total)

        sets[name] = clips(pieces, instruments, font, cache_dir=cache_dir, seconds=cfg.seconds, progress=tick)
    if cfg.tabla:
        tell("arranging tabla strokes", 0, 1)
        tabla_train, tabla_test, loop = _tabla_clips(cfg, len(train_p), len(test_p))
        sets["train (FluidR3)"] += tabla_train
        sets[SAME] += tabla_test
        sets[OTHER] += tabla_test
        sets[LOOP] = loop
    source_clips = sets.pop("source task (FluidR3)", None)
    tests = [n for n in sets if n != "train (FluidR3)"]
    results: dict[str, dict[str, Any]] = {}
    memory: dict[str, float] = {}

    def timed(variant: str, fit: Callable[[], Any]) -> Any:
        tell(f"training {variant}", 0, 1)
        t0 = time.perf_counter()
        model = fit()
        results[variant] = {"train_seconds": time.perf_counter() - t0}
        memory[variant] = _peak_rss_mb()
        return model

    def score_all(variant: str, score: Callable[[np.ndarray], np.ndarray], labels: list[str], data: dict[str, Segments]) -> None:
        for name in tests:
            tell(f"evaluating {variant} on {name}", 0, 1)
            results[variant][name] = evaluate(score, labels, data[name])

    mfcc = {name: featurise(cl) for name, cl in sets.items()}
    train = mfcc["train (FluidR3)"]
    gmm = timed("GMM-HMM", lambda: GmmHmmClassifier(cfg.gmm).fit(train.sequences, train.labels))
    score_all("GMM-HMM", gmm.log_likelihoods, gmm.labels, mfcc)
    labels = gmm.labels
    dnn: DnnHmmClassifier | None = None
    if cfg.wants("DNN-HMM"):
        dnn = timed("DNN-HMM", lambda: DnnHmmClassifier(gmm, cfg.dnn).fit(train.sequences, train.labels))
        score_all("DNN-HMM", dnn.scores, labels, mfcc)
    del mfcc
    if cfg.wants("AE"):
        ae_cfg = cfg.autoencoder
        tell("log-mel frames for the autoencoder", 0, 1)
        mel = {name: featurise(cl, feature=lambda seg: logmel_context(seg, context=ae_cfg.context)) for name, cl in sets.items()}
        mtrain = mel["train (FluidR3)"]
        ae = AutoencoderFeatures(ae_cfg)
        t0 = time.perf_counter()
        ae.pretrain(mtrain.sequences, mtrain.labels)
        ae_pre_s = time.perf_counter() - t0
        for stage in ("unsupervised", "supervised"):
            variant = f"AE-{stage} + GMM-HMM"
            if stage == "supervised":
                t0 = time.perf_counter()
                ae.finetune(mtrain.sequences, mtrain.labels)
                ae_pre_s += time.perf_counter() - t0
            codes = [ae.encode(s) for s in mtrain.sequences]
            def fit_back(codes: list[np.ndarray] = codes) -> GmmHmmClassifier:
                return GmmHmmClassifier(cfg.gmm).fit(codes, mtrain.labels)

            back: GmmHmmClassifier = timed(variant, fit_back)
            results[variant]["train_seconds"] += ae_pre_s
            results[variant]["autoencoder_losses"] = ae.losses[{"unsupervised": "pretrain", "supervised": "finetune"}[stage]]
            def ae_score(seq: np.ndarray, back: GmmHmmClassifier = back) -> np.ndarray:
                return back.log_likelihoods(ae.encode(seq))

            score_all(variant, ae_score, labels, mel)
        del mel
    cnn_model: dict[str, str] = {}
    if cfg.wants("CNN") and source_clips is not None:
        def source_tick(done: int, total: int) -> None:
            tell("training the source-task CNN", done, total)

        src = featurise(source_clips, feature=lambda seg: logmel(seg)[:, :FeatureConfig().patch_frames])
        cnn = train_source(np.stack(src.sequences), src.labels, cfg.cnn, progress=source_tick)
        del src
        patches = {name: featurise(cl, feature=lambda seg: logmel(seg)[:, :FeatureConfig().patch_frames]) for name, cl in sets.items()}
        ptrain = patches["train (FluidR3)"]
        for level, variant in zip(LEVELS, VARIANTS[4:], strict=True):
            def fit_svm(level: str = level) -> Any:
                return svm().fit(cnn.features(np.stack(ptrain.sequences), level), ptrain.labels)

            target = timed(variant, fit_svm)
            results[variant]["train_seconds"] += cnn.train_seconds
            results[variant]["source_cnn_seconds"] = cnn.train_seconds
            classes = list(target.classes_)
            order = [classes.index(lab) for lab in labels]

            def score(patch: np.ndarray, target: Any = target, level: str = level, order: list[int] = order) -> np.ndarray:
                return np.asarray(target.decision_function(cnn.features(patch[None], level))[0][order])

            score_all(variant, score, labels, patches)
        if cnn_path is not None:
            from core.cid import file_cid

            cnn.save(cnn_path, learned_from=sorted(p.cid for p in train_p), source_instruments=list(cfg.source_instruments))
            cnn_model = {"path": str(cnn_path), "cid": str(file_cid(cnn_path))}
    model: dict[str, str] = {}
    if model_path is not None and dnn is not None:
        from core.cid import file_cid
        from ml.recognition.model import save

        model_path.parent.mkdir(parents=True, exist_ok=True)
        save(dnn, model_path, learned_from=sorted(p.cid for p in train_p), preprocess=FeatureConfig().preprocess())
        model = {"path": str(model_path), "cid": str(file_cid(model_path))}
    for variant, mb in memory.items():
        results[variant]["peak_rss_mb"] = mb
    features = FeatureConfig()
    return {"config": {**asdict(cfg), "features": features.to_json(), "preprocess": features.preprocess().to_json()},
            "split_id": split_id, "model": model,
            "cnn_model": cnn_model, "pieces": {"train": len(train_p), "test": len(test_p)}, "labels": labels,
            "train_segments": len(train.sequences), "learned_from": sorted(p.cid for p in train_p), "results": results,
            "protocols_checked": source is not None, "wall_seconds": time.perf_counter() - started,
            "run": run_record(settings={**asdict(cfg), "features": features.to_json(), "preprocess": features.preprocess().to_json()},
                              seeds={"split": cfg.seed, "gmm": cfg.gmm.seed, "dnn": cfg.dnn.seed, "autoencoder": cfg.autoencoder.seed,
                                     "cnn": cfg.cnn.seed}),
            "refused": [{"cid": r.cid, "work_id": r.work_id, "reason": r.reason} for r in refused]}


def _slug(variant: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in variant.lower()).strip("_").replace("__", "_").replace("__", "_")


def _recall(m: dict[str, Any], labels: list[str], label: str) -> float | None:
    if label not in labels:
        return None
    row = m["confusion"][labels.index(label)]
    return row[labels.index(label)] / sum(row) if sum(row) else None


def _protocol_line(report: dict[str, Any]) -> str:
    if not report.get("protocols_checked"):
        return "Cultural protocols were not consulted for this run (`--no-protocols`): the songs are corpus material."
    refused = report.get("refused", [])
    return (f"Cultural protocols were consulted on the chain before anything was read: {len(refused)} candidate songs were "
            "left out (their communities forbid machine-learning use, or they are restricted).")


def write_report(report: dict[str, Any], out: Path) -> None:
    """recognition.json, recognition.md (the seed's tables with ours beside them), confusion PNGs
    and an error-rate chart."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "recognition.json").write_text(json.dumps(report, indent=2))
    labels = report["labels"]
    res = report["results"]

    def pct(v: float | None) -> str:
        return "–" if v is None else f"{v:.1%}"

    lines = ["# Timbre recognition: MFCC and learned features, GMM-HMM, DNN-HMM and a transfer-learned CNN", "",
             f"{len(labels)} classes ({', '.join(labels)}), {report['pieces']['train']} training and {report['pieces']['test']} "
             f"test pieces (Essen Han songs, split by piece, split id `{report['split_id'][:16]}`), 3-s segments. Trained on "
             "the FluidR3 soundfont family; tested on unseen pieces in the same family and in the other (TimGM6mb) — the "
             "headline, since the same family shares its samples with training. The tabla is real: Debian's "
             "sonic-pi-samples strokes, split by sample file, arranged into rhythms; its performed loop is tested alone.", "",
             "Produced by `heritage recognition evaluate` (all variants; figures below are one run on a 2-core CPU).", "",
             _protocol_line(report), "",
             "## Cross-family (the headline) and same-family error rates", "",
             "| model | test set | segment error rate | clip error rate | tabla recall | ms per segment | training s | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|"]
    for variant, r in res.items():
        for name, m in r.items():
            if isinstance(m, dict):
                lines.append(f"| {variant} | {name} | {m['segment_error_rate']:.1%} | {m['clip_error_rate']:.1%} | "
                             f"{pct(_recall(m, labels, LABEL))} | {m['ms_per_segment']:.1f} | {r['train_seconds']:.0f} | "
                             f"{r.get('peak_rss_mb', 0):.0f} |")
    lines += ["", "Peak RSS is the training process's high-water mark after the variant was trained (the variants run in "
              "one process, in table order), so it is cumulative. Training seconds of the learned-feature variants include "
              "their feature learner (autoencoder, source-task CNN). Inference per segment: see "
              "`benchmarks/recognition_inference.py`."]

    def acc(variant: str) -> float | None:
        m = res.get(variant, {}).get(OTHER)
        return None if m is None else 1 - m["segment_error_rate"]

    lines += ["", "## The seed's tables, our numbers beside theirs (cross-family test)", "",
              "| comparison | seed | ours |", "|---|---|---|"]
    base = acc("GMM-HMM")
    for variant, seed_gain in (("AE-unsupervised + GMM-HMM", "+1.96 %"), ("AE-supervised + GMM-HMM", "+3.46 %")):
        a = acc(variant)
        if a is not None and base is not None:
            lines.append(f"| {variant.split(' +')[0]} features vs MFCC, recognition accuracy | {seed_gain} | "
                         f"{100 * (a - base):+.2f} points ({base:.1%} → {a:.1%}) |")
    if "DNN-HMM" in res:
        g, d = res["GMM-HMM"][OTHER], res["DNN-HMM"][OTHER]
        lines += [f"| GMM-HMM → DNN-HMM, sentence (our: segment) error rate | 30.4 % → 23.1 % | "
                  f"{g['segment_error_rate']:.1%} → {d['segment_error_rate']:.1%} |",
                  f"| GMM-HMM → DNN-HMM, word (our: clip) error rate | 5.0 % → 3.6 % | "
                  f"{g['clip_error_rate']:.1%} → {d['clip_error_rate']:.1%} |"]
    lines += ["", "The seed's task is speech-style recognition on its own recordings; ours is instrument recognition on "
              "rendered folk melodies and real tabla, across soundfont families. Its sentence and word error rates map "
              "loosely onto our segment (3 s) and clip (9 s, summed segment scores) error rates; the direction of a "
              "change is comparable, the levels are not."]
    fused = [v for v in res if v.startswith("CNN-transfer")]
    if fused:
        lines += ["", "## Transfer-learned CNN, mid- and high-level fusion → SVM", "",
                  "A small CNN learned twelve other GM instruments (" + ", ".join(report["config"]["source_instruments"]) +
                  ") from log-mel patches; frozen, its pooled third-block maps (mid) and penultimate layer (high) feed an "
                  "RBF SVM on the target classes. The seed uses this for emotion; emotion labels do not exist offline, so "
                  "`heritage recognition csv LABELS.csv` cross-validates it on a user's own `file,label` list.", "",
                  "| features | cross-family segment error | clip error |", "|---|---|---|"]
        for v in fused:
            m = res[v][OTHER]
            lines.append(f"| {v.split('(')[1].split(')')[0]} | {m['segment_error_rate']:.1%} | {m['clip_error_rate']:.1%} |")
    if report.get("model"):
        cnn_cid = report.get("cnn_model", {}).get("cid", "–")
        lines += ["", f"Saved DNN-HMM: CID `{report['model']['cid']}`; transfer CNN: CID `{cnn_cid}`. "
                  f"Both learned from {len(report['learned_from'])} pieces, listed by CID in recognition.json."]
    lines += report_lines(report)
    _error_chart(res, out / "recognition_errors.png")
    lines += ["", "![error rates by model and test set](recognition_errors.png)", "", "## Confusion matrices (cross-family test)"]
    for variant in res:
        png = f"recognition_confusion_{_slug(variant)}.png"
        _confusion_png(np.array(res[variant][OTHER]["confusion"]), labels, out / png, f"{variant}, {OTHER}")
        lines += ["", f"![{variant} confusion]({png})"]
    (out / "recognition.md").write_text("\n".join(lines) + "\n")


def _error_chart(res: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(res)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.2
    for k, (name, metric) in enumerate(((OTHER, "segment_error_rate"), (OTHER, "clip_error_rate"), (SAME, "segment_error_rate"),
                                        (SAME, "clip_error_rate"))):
        vals = [100 * res[v][name][metric] if name in res[v] else 0 for v in variants]
        ax.bar(np.arange(len(variants)) + (k - 1.5) * width, vals, width,
               label=f"{metric.split('_')[0]} error, {name.split(', ')[1]}")
    ax.set_xticks(range(len(variants)), variants, rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("error rate, %")
    ax.legend(fontsize=8)
    ax.set_title("Timbre recognition error by model (lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _confusion_png(confusion: np.ndarray, labels: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if confusion[i, j]:
                ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if rates[i, j] > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
