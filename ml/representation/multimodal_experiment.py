"""Training and evaluating the multimodal representation (issue 8) on the Essen Han songs.

Data: the Han songs the protocols allow, encoded and split by piece exactly as the generation
experiment does (`experiment.prepare`, same seed: the held-out songs stay held out). Training and
validation songs are rendered with one soundfont family (FluidR3), held-out songs with the other
(TimGM6mb) unless `held_out_family="same"`, so audio is always tested on a timbre source it never heard.

`evaluate` measures on the held-out songs:

- **cross-modal retrieval** audio → symbolic (and back): the rank of the song's own score among all N
  held-out scores by cosine; R@1, R@5, median rank, with chance (1/N, 5/N, (N+1)/2);
- **conditioning from audio alone** (`infer_conditioning`'s nearest centroids, audio view) for mode,
  genre, cycle and province: accuracy and balanced accuracy (mean recall over the classes present)
  against baselines on MFCC statistics of the same clips (nearest class mean after standardising,
  and logistic regression), and the majority class; the same from the score alone;
- **the archive baseline**: for every held-out song its nearest other held-out song, by the current
  `symbolic_features` distance and by fused-embedding cosine (all views; content views only; audio
  only): the share of neighbours with the same mode, genre and province, and the chance of that;
- silhouette and AMI of the modes in the content (audio + symbolic) space, and a 2-D t-SNE map of it;
- **ablations**: the same network and schedule retrained with one loss weighted 0 (`ablations`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from core.types import Progress
from ml.data.corpora import Piece
from ml.data.render import SoundFont, soundfonts
from ml.data.training import Source
from ml.generation.experiment import GenerationExperimentConfig, prepare
from ml.generation.lattice import HAN
from ml.generation.songs import vocabulary
from ml.representation.multimodal import (
    MODEL_FILE,
    VIEWS,
    MultimodalConfig,
    MultimodalTrainConfig,
    SavedMultimodal,
    build_net,
    embed_views,
    fit_centroids,
    fused,
    save,
    train,
)
from ml.representation.multimodal_data import KINDS, AudioSettings, LabelSpace, SongViews, song_views
from ml.representation.multimodal_query import nearest_labels, nearest_other
from ml.tradition import load_tradition

LOSSES = ("infonce", "triplet", "centroid", "constraint")
ARCHIVES = {"symbolic features (current baseline)": None, "fused: audio + symbolic + context": VIEWS,
            "fused: audio + symbolic": ("audio", "symbolic"), "audio only": ("audio",)}


@dataclass(frozen=True)
class MultimodalExperimentConfig:
    songs: int | None = None
    """Han songs to use (the first by CID, before encoding), None for all."""
    audio: AudioSettings = field(default_factory=AudioSettings)
    net: MultimodalConfig = field(default_factory=MultimodalConfig)
    train: MultimodalTrainConfig = field(default_factory=MultimodalTrainConfig)
    train_family: str = "FluidR3"
    held_out_family: str = "TimGM6mb"
    """Soundfont family of the held-out songs' renders; "same" for the training family."""
    ablations: tuple[str, ...] = ("constraint",)
    """Losses to retrain without (each a full training), among LOSSES."""
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.ablations) - set(LOSSES)
        if unknown:
            raise InputError(f"unknown ablation(s) {sorted(unknown)}: choose among {', '.join(LOSSES)}")


def fonts(cfg: MultimodalExperimentConfig) -> dict[str, SoundFont]:
    """{"train": …, "held_out": …}: the first installed soundfont of each configured family."""
    first: dict[str, SoundFont] = {}
    for f in soundfonts():
        first.setdefault(f.family, f)
    held = cfg.train_family if cfg.held_out_family == "same" else cfg.held_out_family
    missing = [fam for fam in (cfg.train_family, held) if fam not in first]
    if missing:
        raise InputError(f"no soundfont of the {', '.join(missing)} family is installed: apt-get install fluid-soundfont-gm "
                         "timgm6mb-soundfont, or choose installed families (held_out_family='same' uses one)")
    return {"train": first[cfg.train_family], "held_out": first[held]}


def run(cfg: MultimodalExperimentConfig, *, say: Progress | None = None, source: Callable[[Piece], Source] | None = None,
        save_dir: Path | None = None, cache_dir: Path = Path("cache/multimodal")) -> dict[str, Any]:
    """Render (or read from `cache_dir`), train, evaluate, run the ablations; save the model to
    save_dir/MODEL_FILE when given. Returns the report (write it with `write_report`).

    Options a command would expose: --songs (None: all 1,224 Han songs, ~880 encodable), --epochs (25),
    --batch-size (64), --dim (64), --head-seconds/--tail-seconds (6 + 6: the clip's opening and
    close), --held-out-family (TimGM6mb, or "same"), --ablate (repeatable: infonce, triplet,
    centroid, constraint; default constraint; --no-ablations for none), loss weights
    (--w-infonce 1, --w-triplet 0.5, --w-centroid 0.2, --w-constraint 0.5), --seed (0),
    --protocols/--no-protocols (`source`), --cache (cache/multimodal), --models (cache/models),
    --out (reports).
    """
    tell = say or (lambda stage, done, total: None)
    prep = prepare(GenerationExperimentConfig(songs=cfg.songs, seed=cfg.seed), source=source)
    font = fonts(cfg)
    tradition = load_tradition(HAN)
    vocab, labels = vocabulary(), LabelSpace.build(tradition)

    def views(pieces: Sequence[Any], which: str, stage: str) -> tuple[list[SongViews], int]:
        return song_views(pieces, songs=prep.songs, tradition=tradition, soundfont=font[which], settings=cfg.audio, vocab=vocab,
                          labels=labels, max_tokens=cfg.net.max_tokens, cache_dir=cache_dir,
                          tick=lambda d, t: tell(stage, d, t))

    t0 = time.perf_counter()
    train_views, c1 = views(prep.train, "train", f"rendering training songs ({font['train'].name})")
    val_views, c2 = views(prep.validation, "train", f"rendering validation songs ({font['train'].name})")
    test_views, c3 = views(sorted(prep.test, key=lambda p: p.cid or ""), "held_out",
                           f"rendering held-out songs ({font['held_out'].name})")
    render_seconds = time.perf_counter() - t0
    model = fit(cfg, train_views, val_views, vocab=vocab, labels=labels, split_id=prep.split_id,
                fonts={k: f.name for k, f in font.items()}, say=tell, stage="training the multimodal network")
    model.facts.update({"corpus": prep.corpus, "refused": len(prep.refused)})
    tell("evaluating", 0, 1)
    evaluation = evaluate(model, train_views, test_views, songs=prep.songs, seed=cfg.seed)
    tell("evaluating", 1, 1)
    if save_dir is not None:
        save(save_dir / MODEL_FILE, model)
    ablations: dict[str, Any] = {}
    for name in cfg.ablations:
        weights = replace(cfg.net.weights, **{name: 0.0})
        variant = replace(cfg, net=replace(cfg.net, weights=weights))
        other = fit(variant, train_views, val_views, vocab=vocab, labels=labels, split_id=prep.split_id,
                    fonts={k: f.name for k, f in font.items()}, say=tell, stage=f"training without the {name} loss")
        ablations[name] = {"train_seconds": other.facts["train_seconds"], "best_epoch": other.facts["best_epoch"],
                           "evaluation": evaluate(other, train_views, test_views, songs=prep.songs, seed=cfg.seed, full=False)}
    return {
        "config": _config_json(cfg), "split_id": prep.split_id, "corpus": prep.corpus, "refused": len(prep.refused),
        "protocols_checked": source is not None,
        "songs": {"train": len(train_views), "validation": len(val_views), "test": len(test_views)},
        "fonts": {k: f.name for k, f in font.items()},
        "render": {"seconds": render_seconds, "from_cache": c1 + c2 + c3,
                   "rendered": len(train_views) + len(val_views) + len(test_views) - (c1 + c2 + c3)},
        "model": {k: model.facts[k] for k in ("parameters", "train_seconds", "best_epoch", "epochs", "losses", "val_losses")},
        "evaluation": evaluation, "ablations": ablations,
    }


def _config_json(cfg: MultimodalExperimentConfig) -> dict[str, Any]:
    return {**asdict(cfg), "net": cfg.net.to_json(), "ablations": list(cfg.ablations)}


def fit(cfg: MultimodalExperimentConfig, train_views: Sequence[SongViews], val_views: Sequence[SongViews], *, vocab: Any,
        labels: LabelSpace, split_id: str, fonts: Mapping[str, str], say: Progress, stage: str) -> SavedMultimodal:
    """Train a network on the views and fit its centroids on the training songs."""
    net = build_net(cfg.net, settings=cfg.audio, vocab=vocab, labels=labels, tradition=HAN, seed=cfg.seed)
    trained = train(train_views, val_views, net=net, cfg=cfg.train, labels=labels, seed=cfg.seed,
                    progress=lambda d, t: say(stage, d, t))
    facts = {"parameters": net.n_params(), "train_seconds": trained.train_seconds, "best_epoch": trained.best_epoch,
             "epochs": cfg.train.epochs, "losses": trained.losses, "val_losses": trained.val_losses,
             "train_pieces": len(train_views), "validation_pieces": len(val_views)}
    return SavedMultimodal(trained.net, cfg.audio, vocab, labels, HAN, fit_centroids(trained.net, train_views, labels=labels),
                           dict(fonts), split_id, tuple(sorted(v.cid for v in train_views)), facts)


# --- Evaluation -------------------------------------------------------------------------------------


def retrieval(queries: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Row i of unit queries (N, d) should find row i of unit targets (N, d): R@1, R@5, median rank
    (1 = first) and their chance values."""
    sim = queries @ targets.T  # (N, N)
    ranks = 1 + (sim > np.diag(sim)[:, None]).sum(axis=1)  # (N,)
    n = len(ranks)
    return {"n": n, "r1": float(np.mean(ranks <= 1)), "r5": float(np.mean(ranks <= 5)), "median_rank": float(np.median(ranks)),
            "chance_r1": 1.0 / n, "chance_r5": min(5, n) / n, "chance_median_rank": (n + 1) / 2}


def _scores(truth: Sequence[str], guess: Sequence[str]) -> dict[str, float]:
    """Accuracy and balanced accuracy (mean recall over the true classes present)."""
    t, g = np.asarray(truth), np.asarray(guess)
    recalls = [float(np.mean(g[t == c] == c)) for c in sorted(set(truth))]
    return {"accuracy": float(np.mean(t == g)), "balanced_accuracy": float(np.mean(recalls)), "n": len(t)}


def _mfcc_baselines(train: Sequence[SongViews], test: Sequence[SongViews], kind: str) -> dict[str, list[str]]:
    """Per baseline, the guessed label of every test song (MFCC statistics of the same clips)."""
    from sklearn.linear_model import LogisticRegression

    known = [v for v in train if v.labels[kind] is not None]
    x = np.stack([v.mfcc for v in known])
    y = np.array([v.labels[kind] for v in known])
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    xs, xt = (x - mu) / sd, (np.stack([v.mfcc for v in test]) - mu) / sd
    classes = sorted(set(y))
    means = np.stack([xs[y == c].mean(axis=0) for c in classes])
    nearest = [classes[int(i)] for i in ((xt[:, None, :] - means[None]) ** 2).sum(-1).argmin(axis=1)]
    out = {"MFCC nearest class mean": nearest, "majority class": [Counter(y.tolist()).most_common(1)[0][0]] * len(test)}
    if len(classes) > 1:
        lr = LogisticRegression(max_iter=2000).fit(xs, y)
        out["MFCC logistic regression"] = [str(c) for c in lr.predict(xt)]
    return out


def conditioning_scores(model: SavedMultimodal, train: Sequence[SongViews], test: Sequence[SongViews],
                        e_test: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Per label kind: ours from audio alone and from the score alone (nearest centroids), and the
    MFCC baselines from the same audio; over the held-out songs whose label is known."""
    out: dict[str, Any] = {}
    guesses = {vs: nearest_labels(model, fused(e_test, use), vs) for vs, use in (("audio", ("audio",)), ("symbolic", ("symbolic",)))}
    for kind in KINDS:
        keep = [i for i, v in enumerate(test) if v.labels[kind] is not None]
        if not keep:
            continue
        truth = [str(test[i].labels[kind]) for i in keep]
        rows = {f"ours, from {vs}": _scores(truth, [guesses[vs][i][kind].label if kind in guesses[vs][i] else "" for i in keep])
                for vs in guesses}
        for name, guess in _mfcc_baselines(train, [test[i] for i in keep], kind).items():
            rows[f"{name} (audio)" if name != "majority class" else name] = _scores(truth, guess)
        out[kind] = {"n": len(keep), "classes": len(set(truth)), "rows": rows}
    return out


def archive_scores(model: SavedMultimodal, test: Sequence[SongViews], e_test: Mapping[str, np.ndarray], *,
                   train_songs: Sequence[Piece], songs: Mapping[str, Piece]) -> dict[str, Any]:
    """For each archive method, the share of held-out songs whose retrieved neighbour has the same
    mode, genre and province (pairs with both labels known), and the chance of that."""
    from ml.classification.symbolic import symbolic_features

    cids = [v.cid for v in test]
    out: dict[str, Any] = {"chance": {}, "methods": {}}
    for kind in ("mode", "genre", "province"):
        values = [v.labels[kind] for v in test if v.labels[kind] is not None]
        n, counts = len(values), Counter(values)
        out["chance"][kind] = sum(c * (c - 1) for c in counts.values()) / (n * (n - 1)) if n > 1 else None
    base = np.stack([symbolic_features(s.abc) for s in train_songs])  # (n_train, 82)
    mu, sd = base.mean(axis=0), base.std(axis=0) + 1e-9
    for name, use in ARCHIVES.items():
        if use is None:
            x = (np.stack([symbolic_features(songs[c].abc) for c in cids]) - mu) / sd  # (N, 82)
            d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=-1)
            np.fill_diagonal(d, np.inf)
            nearest = [int(i) for i in d.argmin(axis=1)]
        else:
            nearest = nearest_other(fused(e_test, use), cids)
        row = {}
        for kind in ("mode", "genre", "province"):
            pairs = [(v.labels[kind], test[j].labels[kind]) for v, j in zip(test, nearest, strict=True)
                     if v.labels[kind] is not None and test[j].labels[kind] is not None]
            row[kind] = float(np.mean([a == b for a, b in pairs])) if pairs else None
        out["methods"][name] = row
    return out


def evaluate(model: SavedMultimodal, train: Sequence[SongViews], test: Sequence[SongViews], *, songs: Mapping[str, Piece],
             seed: int = 0, full: bool = True) -> dict[str, Any]:
    """The held-out measurements (module docstring) as a dict; `full` adds the archive comparison,
    the mode clusters and the 2-D map. `songs` maps CIDs to corpus entries (their ABC)."""
    if len(test) < 2:
        raise InputError(f"{len(test)} held-out song(s): evaluation needs at least two; use more songs")
    e = embed_views(model.net, test)
    out: dict[str, Any] = {"retrieval": {"audio→symbolic": retrieval(e["audio"], e["symbolic"]),
                                         "symbolic→audio": retrieval(e["symbolic"], e["audio"])},
                           "conditioning": conditioning_scores(model, train, test, e)}
    if not full:
        return out
    train_songs = [songs[v.cid] for v in train if v.cid in songs]
    out["archive"] = archive_scores(model, test, e, train_songs=train_songs, songs=songs)
    modes = [v.labels["mode"] or "?" for v in test]
    content = fused(e, ("audio", "symbolic"))
    out["clusters"] = {}
    if 2 <= len(set(modes)) < len(modes):
        from ml.representation.vggish import cluster_scores

        for name, use in (("audio + symbolic", ("audio", "symbolic")), ("audio", ("audio",)), ("symbolic", ("symbolic",))):
            out["clusters"][name] = cluster_scores(fused(e, use), modes, seed)
    out["map"] = {"modes": modes, "xy": _map(content, seed).tolist(), "xy_audio": _map(e["audio"], seed).tolist()}
    return out


def _map(z: np.ndarray, seed: int) -> np.ndarray:
    """2-D coordinates of embeddings (N, d): t-SNE (perplexity ≤ 30), PCA for fewer than 5 points."""
    if len(z) < 5:
        centred = z - z.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        return np.asarray(centred @ vt[:2].T if vt.shape[0] >= 2 else np.pad(centred @ vt.T, ((0, 0), (0, 1))))
    from ml.representation.vggish import tsne

    return tsne(z, dims=2, perplexity=min(30.0, (len(z) - 1) / 3), seed=seed)


# --- The report ------------------------------------------------------------------------------------


def write_report(report: Mapping[str, Any], out: Path) -> list[Path]:
    """reports/multimodal.json, .md and a PNG of the held-out songs' embeddings by mode."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "multimodal.json", out / "multimodal.md", out / "multimodal.png"]
    paths[0].write_text(json.dumps(report, indent=1, default=float))
    cfg, ev, m = report["config"], report["evaluation"], report["model"]
    w = cfg["net"]["weights"]
    lines = [
        "# Multimodal representation: audio, symbols and context in one space (issue 8)",
        "",
        f"Essen Han songs on the `{HAN}` lattice, split by piece as the generation experiment splits them "
        f"(split `{report['split_id'][:16]}…`): {report['songs']['train']} training, {report['songs']['validation']} validation, "
        f"{report['songs']['test']} held-out songs; "
        + (f"{report['refused']} refused by their protocols. " if report["protocols_checked"] else "protocols not consulted. ")
        + f"Audio: each song rendered by FluidSynth (one GM instrument and tempo drawn from its CID), the opening "
        f"{cfg['audio']['head_s']:g} s and closing {cfg['audio']['tail_s']:g} s joined, {cfg['audio']['n_mels']}-band log-mel; "
        f"training and validation songs from `{report['fonts']['train']}`, held-out songs from `{report['fonts']['held_out']}`. "
        f"Rendering: {report['render']['rendered']} rendered, {report['render']['from_cache']} read from the cache, "
        f"{report['render']['seconds']:.0f} s.",
        "",
        f"Network: {m['parameters']:,} parameters, d = {cfg['net']['dim']}, trained {m['epochs']} epochs "
        f"(best validation epoch {m['best_epoch']}) in {m['train_seconds']:.0f} s on the CPU. Losses "
        f"(definitions: `ml/representation/multimodal.py`): {w['infonce']:g}·InfoNCE (τ = {cfg['net']['tau']:g}) + "
        f"{w['triplet']:g}·triplet (margin {cfg['net']['margin']:g}) + {w['centroid']:g}·centroid + "
        f"{w['constraint']:g}·constraint (degree histogram + mode-by-final head).",
        "",
        "## Cross-modal retrieval (held-out songs)",
        "",
        "| query → target | N | R@1 | R@5 | median rank | chance R@1 | chance R@5 | chance median rank |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in ev["retrieval"].items():
        lines.append(f"| {name} | {r['n']} | {r['r1']:.3f} | {r['r5']:.3f} | {r['median_rank']:.1f} | {r['chance_r1']:.3f} | "
                     f"{r['chance_r5']:.3f} | {r['chance_median_rank']:.1f} |")
    lines += ["", "## Conditioning labels inferred by nearest centroid (held-out songs)", "",
              "Accuracy / balanced accuracy (mean recall over the classes present). `from audio` is what "
              "`infer_conditioning` does with a recording; `from symbolic` with an unlabelled score.", ""]
    kinds = list(ev["conditioning"])
    names = list(dict.fromkeys(n for k in kinds for n in ev["conditioning"][k]["rows"]))
    lines += ["| method | " + " | ".join(f"{k} (N={ev['conditioning'][k]['n']}, {ev['conditioning'][k]['classes']} classes)"
                                         for k in kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    for n in names:
        cells = [ev["conditioning"][k]["rows"].get(n) for k in kinds]
        lines.append(f"| {n} | " + " | ".join(f"{c['accuracy']:.3f} / {c['balanced_accuracy']:.3f}" if c else "–" for c in cells)
                     + " |")
    if "archive" in ev:
        a = ev["archive"]
        lines += ["", "## The archive baseline: what the nearest other held-out song shares", "",
                  "| retrieval | same mode | same genre | same province |", "|---|---|---|---|"]
        for name, row in a["methods"].items():
            lines.append(f"| {name} | " + " | ".join(_pct(row[k]) for k in ("mode", "genre", "province")) + " |")
        lines.append("| chance (random other song) | " + " | ".join(_pct(a["chance"][k]) for k in ("mode", "genre", "province"))
                     + " |")
        lines += ["", "The fused embedding with the context view sees the held-out song's own labels (as the generation "
                      "experiment's `ours` row is conditioned on them): its agreement is by construction; the content "
                      "rows use the audio and the score only."]
    if ev.get("clusters"):
        lines += ["", "Modes in the held-out embeddings: " + "; ".join(
            f"{name} silhouette {s['silhouette']:.3f}, AMI {s['ami']:.3f}" for name, s in ev["clusters"].items()) + "."]
    if report["ablations"]:
        lines += ["", "## Ablations (same network and schedule, one loss weighted 0)", "",
                  "| variant | training time | audio→symbolic R@1 | R@5 | median rank | mode from audio (acc / bal.) | "
                  "genre from audio (acc / bal.) |", "|---|---|---|---|---|---|---|"]
        rows = {"all losses": {"train_seconds": m["train_seconds"], "evaluation": ev},
                **{f"without {k}": v for k, v in report["ablations"].items()}}
        for name, row in rows.items():
            r, c = row["evaluation"]["retrieval"]["audio→symbolic"], row["evaluation"]["conditioning"]
            lines.append(f"| {name} | {row['train_seconds']:.0f} s | {r['r1']:.3f} | {r['r5']:.3f} | {r['median_rank']:.1f} | "
                         f"{_acc(c, 'mode')} | {_acc(c, 'genre')} |")
    lines += ["", "![held-out songs' embeddings by mode](multimodal.png)", "", "## Notes", "", *NOTES]
    paths[1].write_text("\n".join(lines) + "\n")
    _plot(ev, paths[2])
    return paths


def _pct(x: float | None) -> str:
    return "n/m" if x is None else f"{x:.1%}"


def _acc(conditioning: Mapping[str, Any], kind: str) -> str:
    row = conditioning.get(kind, {}).get("rows", {}).get("ours, from audio")
    return f"{row['accuracy']:.3f} / {row['balanced_accuracy']:.3f}" if row else "–"


NOTES = [
    "- Audio is synthetic: the same notes the score holds, played by General MIDI instruments; held-out songs come from a "
    "soundfont family the network never heard. A recording of a singer is further from the training audio than that.",
    "- A Han mode is named after its final (the tradition file), so the clip keeps the close of the song; modes are "
    "imbalanced (zhi about half the songs): compare balanced accuracy with the majority class.",
    "- The audio is in the song's written key, so the audio encoder must find the mode relative to a tonic it is not "
    "told; the score's tokens are already relative to gong.",
    "- The context view's labels are what conditioning infers, so the content-only rows are the honest measure of what "
    "a recording or an unlabelled score carries.",
    "- Nearest centroid ignores how common a label is: for the cycle (2/4 in nine songs of ten) it falls below the "
    "majority class. `infer_conditioning` takes a score's cycle from its metre; for a recording, pass the cycle when it is "
    "known (`known={'cycle': …}`).",
    "- Times are wall-clock seconds on the machine that ran it, shared with other jobs.",
]


def _plot(ev: Mapping[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = ev["map"]["modes"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for ax, key, title in ((axes[0], "xy", "audio + symbolic (fused)"), (axes[1], "xy_audio", "audio only")):
        xy = np.asarray(ev["map"][key])
        for mode in sorted(set(modes)):
            mask = np.array(modes) == mode
            ax.scatter(xy[mask, 0], xy[mask, 1], s=14, label=mode)
        ax.set_title(f"held-out songs, {title}: t-SNE by mode", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

