"""What a saved multimodal model (`ml.representation.multimodal`) answers: each song's nearest other
song in the embedding (the archive baseline of the generation experiment) and the conditioning a
recording, a score or both suggest for `heritage generate` (`infer_conditioning`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from ml.data.corpora import Piece
from ml.generation.lattice import LatticePiece, condition_tokens
from ml.representation.multimodal import VIEWS, SavedMultimodal, embed_views, font_named, fused
from ml.representation.multimodal_data import KINDS, UNKNOWN_LABEL, SongViews, clip_features, song_views, token_ids
from ml.tradition import load_tradition


def nearest_other(z: np.ndarray, cids: Sequence[str]) -> list[int]:
    """For each row of unit z (N, dim), the index of the most cosine-similar row with another CID."""
    if len(z) != len(cids):
        raise InputError(f"{len(z)} embeddings for {len(cids)} CIDs: give one CID per embedding")
    ids = np.asarray(cids)
    sim = z @ z.T  # (N, N)
    sim[ids[:, None] == ids[None, :]] = -np.inf
    if len(z) and not np.isfinite(sim.max(axis=1)).all():
        raise InputError("a song has no other song to be compared with: give at least two distinct songs")
    return [int(i) for i in sim.argmax(axis=1)]


def archive_neighbour(model: SavedMultimodal, pieces: Sequence[LatticePiece], *, songs: Mapping[str, Piece], cache_dir: Path,
                      use: Sequence[str] = VIEWS, tick: Callable[[int, int], None] | None = None) -> list[int]:
    """The archive baseline: for each piece, the index in `pieces` of the nearest *other* piece by cosine
    of fused embeddings over the `use` views (default all three). The pieces are rendered with the
    model's held-out soundfont (features cached in `cache_dir`); `songs` maps CIDs to corpus entries
    (`ml.data.corpora.Piece`, for the tonic and province), as `experiment.Prepared.songs` does."""
    views, _ = song_views(pieces, songs=songs, tradition=load_tradition(model.tradition), soundfont=font_named(model.fonts["held_out"]),
                          settings=model.settings, vocab=model.vocab, labels=model.labels, max_tokens=model.net.cfg.max_tokens,
                          cache_dir=cache_dir, tick=tick)
    return nearest_other(fused(embed_views(model.net, views), use), [v.cid for v in views])


@dataclass(frozen=True)
class Guess:
    """One inferred label: the nearest centroid's, its softmax(−distance/τ) probability among the
    centroids, and the cosine distance (1 − cos) to every centroid."""

    label: str
    confidence: float
    distances: Mapping[str, float]


@dataclass(frozen=True)
class Conditioning:
    """What conditions the lattice transformer: `tokens` (trad, mode, cycle, ctx, as `condition_tokens`),
    the labels behind them, which were inferred (with distances) and from which views."""

    tokens: tuple[str, ...]
    labels: Mapping[str, str | None]
    inferred: Mapping[str, Guess]
    views: tuple[str, ...]


def nearest_labels(model: SavedMultimodal, z: np.ndarray, view_set: str) -> list[dict[str, Guess]]:
    """For each unit embedding (N, dim) of `view_set`'s views, the nearest centroid of every label kind."""
    tau = model.net.cfg.tau
    out: list[dict[str, Guess]] = [{} for _ in range(len(z))]
    for kind, (names, vectors) in model.centroids[view_set].items():
        if not names:
            continue
        dist = 1.0 - z @ vectors.T  # (N, C)
        logits = -dist / tau
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        for i in range(len(z)):
            best = int(dist[i].argmin())
            out[i][kind] = Guess(names[best], float(p[i, best]), {n: float(d) for n, d in zip(names, dist[i], strict=True)})
    return out


def infer_conditioning(model: SavedMultimodal, *, audio: Path | np.ndarray | None = None, sample_rate: int | None = None,
                       score: LatticePiece | None = None, known: Mapping[str, str] | None = None) -> Conditioning:
    """The conditioning tokens of a work given as a recording (a file, or samples (n,) or (n, channels)
    with their `sample_rate`), a score (a lattice piece whose mode and context labels are not trusted),
    or both: every label kind not in `known` (province, genre, mode, cycle) is the nearest training
    centroid of the same views, except a score's cycle, which its metre fixes. The genre becomes the
    `ctx:` token. InputError for an unreadable recording, no input, a score on another tradition's
    lattice, or a known label outside the model's label space."""
    from ml.data.audio import load_audio, resample, to_mono

    if audio is None and score is None:
        raise InputError("infer_conditioning needs a recording (audio=…) or a score (score=…)")
    if score is not None and score.tradition != model.tradition:
        raise InputError(f"the score is on the {score.tradition} lattice but the multimodal model knows {model.tradition}: "
                         f"encode it under {model.tradition} (encoding.encode_content(…, tradition=load_tradition(…)))")
    given = dict(known or {})
    if score is not None and "cycle" not in given and score.cycle in model.labels.values["cycle"]:
        given["cycle"] = score.cycle
    for kind, value in given.items():
        if kind not in KINDS or value not in model.labels.values[kind][1:]:
            allowed = ", ".join(model.labels.values.get(kind, ())[1:]) if kind in KINDS else ", ".join(KINDS)
            raise InputError(f"known {kind}={value!r} is not in the model's labels: use one of {allowed}")
    s = model.settings
    views: list[str] = []
    log_mel, chroma = np.zeros((s.n_mels, 1), dtype=np.float32), np.zeros((2, 12), dtype=np.float32)
    tokens = np.asarray([1], dtype=np.int64)
    if audio is not None:
        if isinstance(audio, Path):
            y, rate = load_audio(audio, sample_rate=s.sample_rate)
        else:
            if sample_rate is None or sample_rate <= 0:
                raise InputError("audio given as samples needs its sample_rate in Hz")
            y = to_mono(np.asarray(audio, dtype=np.float32))  # (n,) or (n, channels) → (n,)
            y, rate = resample(y, orig_rate=sample_rate, target_rate=s.sample_rate), s.sample_rate
        log_mel, chroma, _ = clip_features(y, sample_rate=rate, settings=s)
        views.append("audio")
    if score is not None:
        tokens = token_ids(score, model.vocab, max_tokens=model.net.cfg.max_tokens)
        views.append("symbolic")
    query = SongViews("query", log_mel, chroma, np.zeros(0, np.float32), tokens, np.zeros(len(KINDS), np.int64),
                      np.zeros(model.net.n_degrees, np.float32), -1, {}, "", 0.0, "")
    z = fused(embed_views(model.net, [query]), views)
    guesses = nearest_labels(model, z, "+".join(views))[0]
    chosen: dict[str, str | None] = {k: given.get(k) or (guesses[k].label if k in guesses else None) for k in KINDS}
    chosen = {k: (None if v == UNKNOWN_LABEL else v) for k, v in chosen.items()}
    tokens_out = condition_tokens(tradition=model.tradition, mode=chosen["mode"], cycle=chosen["cycle"], context=chosen["genre"])
    return Conditioning(tuple(tokens_out), chosen, {k: g for k, g in guesses.items() if k not in given}, tuple(views))
