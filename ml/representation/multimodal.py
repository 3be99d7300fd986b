"""A multimodal representation of songs: audio, symbolic and context encoders in one space.

Three encoders map a song's views (`multimodal_data`) into a shared space of `dim` dimensions, each
output L2-normalised: **audio** a small CNN over the clip's log-mel (conv-BN-ReLU-pool blocks,
averaged over the bands, then the mean and maximum over time and the mean over the last quarter)
beside a key-invariant pitch branch over its two pitch-class profiles (a circular convolution over
the 12 pitch classes whose kernel spans the octave, i.e. learned templates matched in every key,
then the maximum and mean over the 12 rotations: a song's mode is its final against its scale,
whatever key it is sung in), joined by one linear layer; **symbolic** a
bidirectional GRU over the lattice token ids (both final states, one linear layer); **context** an
embedding bag over province, genre, mode and cycle ids (0 = unknown in each) and a two-layer MLP.
The **fused** embedding of a song is the L2-normalised mean of the views it has (`fuse`), so a work
known only as a recording, or only as a score, embeds in the same space as a fully described one.

Losses, on a batch of B songs; a_i, s_i, c_i the unit audio, symbolic and context embeddings and f_i
the fused embedding of a random non-empty subset of the views (each kept with `view_keep`: training
makes every subset embed consistently); d(x, y) = ‖x − y‖² = 2 − 2 x·y:

- **InfoNCE** (τ = `tau`), for a pair of views x, y and positives P(i) (the same song; for pairs with
  context, every song of the batch with the same four context labels, since those embeddings are
  identical): nce_{x→y} = −(1/B) Σ_i log Σ_{j∈P(i)} softmax_j(x_i·y_j / τ), symmetrised
  ½(nce_{x→y} + nce_{y→x}); L_nce = the mean over the pairs audio↔symbolic, audio↔context and
  symbolic↔context. log B for uninformative embeddings, 0 for perfectly aligned distinct ones.
- **Triplet** (batch-hard, margin m = `margin`): for an anchor i, positives are the other songs of
  the same mode *and* province, negatives those of another mode (unknown labels take no part);
  L_tri = mean over anchors with both of max(0, max_P d(f_i, f_p) − min_N d(f_i, f_n) + m).
- **Centroid**: μ_y = the batch mean of the fused embeddings labelled y; L_cen = mean_i d(f_i, μ_mode(i))
  + `province_share` · mean_i d(f_i, μ_province(i)) (songs with the label known). 0 when every song
  of a label sits on one point.
- **Constraint** (the tradition's rules): one linear head predicts from an embedding z (1) the song's
  degree-usage histogram h_i over the tuning's degrees (the share of sounding time on each) and (2)
  its mode, which the tradition file defines by the final: con(z_i) = KL(h_i ‖ softmax(head_h(z_i))) +
  CE(head_mode(z_i), the mode whose final is the last note's degree); L_con = the mean of con over
  z ∈ {a_i, s_i, f_i}. Modal structure must be recoverable from every region of the space, from audio
  alone and from the score alone (not from the context view, which states the mode).

L = w_nce L_nce + w_tri L_tri + w_cen L_cen + w_con L_con (`LossWeights`). AdamW; the weights of the
epoch with the lowest validation loss (view subsets drawn with a fixed seed) are kept.

Uses: `archive_neighbour` (the archive baseline: each held-out song's nearest *other* song by
cosine of fused embeddings) and `infer_conditioning` (a recording or an unlabelled score → the
lattice's conditioning tokens, from the nearest centroids of the training songs' embeddings of the
same views). The model file (`save`/`load`) holds tensors and plain values only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.errors import InputError
from ml.data.render import SoundFont, soundfonts
from ml.generation.lattice import Vocabulary
from ml.representation.multimodal_data import (
    KINDS,
    AudioSettings,
    LabelSpace,
    SongViews,
)
from ml.runtime import seeded
from ml.saved import read_saved
from ml.tradition import load_tradition
from ml.training_loop import fit

FORMAT = "heritage-multimodal-1"
COMMAND = "heritage generation multimodal"
MODEL_FILE = "multimodal.pt"
VIEWS = ("audio", "symbolic", "context")
VIEW_SETS: dict[str, tuple[str, ...]] = {"audio": ("audio",), "symbolic": ("symbolic",),
                                         "audio+symbolic": ("audio", "symbolic")}
"""The content views a query can have, each with its own centroids (context is what is inferred)."""


@dataclass(frozen=True)
class LossWeights:
    infonce: float = 1.0
    triplet: float = 0.5
    centroid: float = 0.2
    constraint: float = 0.5
    province_share: float = 0.5
    """Weight of the province centroid term relative to the mode's, inside L_cen."""


@dataclass(frozen=True)
class MultimodalConfig:
    """The network and its losses."""

    dim: int = 64
    audio_channels: tuple[int, ...] = (8, 16, 32, 64)
    token_embedding: int = 48
    token_hidden: int = 64
    context_embedding: int = 32
    max_tokens: int = 192
    tau: float = 0.1
    margin: float = 0.2
    weights: LossWeights = field(default_factory=LossWeights)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["audio_channels"] = list(self.audio_channels)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> MultimodalConfig:
        return cls(**{**d, "audio_channels": tuple(d["audio_channels"]), "weights": LossWeights(**d["weights"])})


@dataclass(frozen=True)
class MultimodalTrainConfig:
    epochs: int = 25
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    view_keep: float = 0.5
    """Each view enters a training song's fused embedding with this probability (at least one does)."""
    context_drop: float = 0.25
    """Each context label is replaced by unknown with this probability in training."""
    augment: bool = True
    """Mask one stretch of time (≤ 10% of frames) and one band (≤ 8 mel bands) of each training log-mel."""
    clip_grad: float = 1.0
    threads: int | None = 1
    """Torch intra-op threads while training (restored after); None keeps torch's setting. One is the
    robust choice on a shared machine: the GRU's two-thread kernels slow down several-fold when the
    other core is busy."""


# --- The network -----------------------------------------------------------------------------------


class PitchBranch(nn.Module):
    """Key-invariant features of pitch-class profiles (B, 2, 12): circular convolutions over the pitch
    classes, then the maximum and mean over the 12 rotations → (B, 2 · width)."""

    def __init__(self, *, width: int) -> None:
        super().__init__()
        self.templates = nn.Conv1d(2, width, 12, padding=6, padding_mode="circular")
        self.mix = nn.Conv1d(width, width, 3, padding=1, padding_mode="circular")

    def forward(self, profiles: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.templates(profiles))[..., :12]  # (B, width, 12): one response per key
        h = F.relu(self.mix(h))  # (B, width, 12)
        return torch.cat([h.amax(-1), h.mean(-1)], dim=1)


class AudioEncoder(nn.Module):
    def __init__(self, *, n_mels: int, channels: Sequence[int], dim: int, pitch_width: int = 32, dropout: float = 0.3) -> None:
        super().__init__()
        self.down = 2 ** len(channels)
        if n_mels < self.down:
            raise InputError(f"{n_mels} mel bands are too few for {len(channels)} pooling blocks: use at least {self.down}")
        layers: list[nn.Module] = []
        c_in = 1
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
        self.conv = nn.Sequential(*layers)
        self.pitch = PitchBranch(width=pitch_width)
        self.norm_mel, self.norm_pitch = nn.LayerNorm(3 * c_in), nn.LayerNorm(2 * pitch_width)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(3 * c_in + 2 * pitch_width, dim)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, profiles: torch.Tensor) -> torch.Tensor:
        """x (B, n_mels, T) log-mel with T ≥ 2^blocks, lengths (B,) valid frames, profiles (B, 2, 12)
        → (B, dim), not normalised. The log-mel map is pooled three ways over its valid frames: the
        mean and maximum over the clip, and the mean over its last quarter (where the final sounds),
        after averaging over the mel bands (it carries timbre, texture and rhythm; pitch is the pitch
        branch's); each branch is layer-normalised, the log-mel one with dropout, so neither drowns the other."""
        h = self.conv(x[:, None]).mean(2)  # (B, C, T'): timbre and texture; pitch is the pitch branch's
        t = h.shape[-1]
        steps = (lengths // self.down).clamp(1, t)  # (B,)
        at = torch.arange(t, device=x.device)[None, :]  # (1, T')
        mask = at < steps[:, None]  # (B, T')
        close = mask & (at >= steps[:, None] - (steps[:, None] // 4).clamp_min(1))  # (B, T')
        mean = (h * mask[:, None]).sum(-1) / steps[:, None]  # (B, C)
        top = h.masked_fill(~mask[:, None], -torch.inf).amax(-1)  # (B, C)
        end = (h * close[:, None]).sum(-1) / close.sum(-1, keepdim=True)  # (B, C)
        mel = self.drop(self.norm_mel(torch.cat([mean, top, end], dim=1)))  # (B, 3C)
        out: torch.Tensor = self.out(torch.cat([mel, self.norm_pitch(self.pitch(profiles))], dim=1))
        return out


class TokenEncoder(nn.Module):
    def __init__(self, *, vocab_size: int, embedding: int, hidden: int, dim: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embedding, padding_idx=0)
        self.gru = nn.GRU(embedding, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, dim)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """ids (B, L) padded with 0, lengths (B,) ≥ 1 → (B, dim), not normalised."""
        packed = nn.utils.rnn.pack_padded_sequence(self.embed(ids), lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)  # (2, B, hidden)
        out: torch.Tensor = self.out(torch.cat([h[0], h[1]], dim=1))
        return out


class ContextEncoder(nn.Module):
    def __init__(self, *, sizes: Sequence[int], embedding: int, dim: int) -> None:
        super().__init__()
        self.register_buffer("offsets", torch.tensor([0, *np.cumsum(sizes)[:-1].tolist()], dtype=torch.long))
        self.bag = nn.EmbeddingBag(int(sum(sizes)), embedding, mode="sum")
        self.mlp = nn.Sequential(nn.Linear(embedding, 2 * embedding), nn.ReLU(), nn.Linear(2 * embedding, dim))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, len(KINDS)), each in its kind's label space → (B, dim), not normalised."""
        offsets: torch.Tensor = self.offsets  # type: ignore[assignment]
        out: torch.Tensor = self.mlp(self.bag(ids + offsets[None, :]))
        return out


class MultimodalNet(nn.Module):
    def __init__(self, cfg: MultimodalConfig, *, n_mels: int, vocab_size: int, label_sizes: Sequence[int], n_degrees: int,
                 n_modes: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.n_degrees, self.n_modes = n_degrees, n_modes
        self.audio = AudioEncoder(n_mels=n_mels, channels=cfg.audio_channels, dim=cfg.dim)
        self.symbolic = TokenEncoder(vocab_size=vocab_size, embedding=cfg.token_embedding, hidden=cfg.token_hidden, dim=cfg.dim)
        self.context = ContextEncoder(sizes=label_sizes, embedding=cfg.context_embedding, dim=cfg.dim)
        self.head = nn.Linear(cfg.dim, n_degrees + n_modes)

    def encode(self, batch: Batch, views: Sequence[str] = VIEWS) -> dict[str, torch.Tensor]:
        """The unit embeddings (B, dim) of the batch's `views`."""
        out: dict[str, torch.Tensor] = {}
        if "audio" in views:
            out["audio"] = F.normalize(self.audio(batch.log_mel, batch.frames, batch.chroma), dim=-1)
        if "symbolic" in views:
            out["symbolic"] = F.normalize(self.symbolic(batch.tokens, batch.token_lengths), dim=-1)
        if "context" in views:
            out["context"] = F.normalize(self.context(batch.context), dim=-1)
        return out

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def fuse(embeddings: Mapping[str, torch.Tensor], mask: torch.Tensor | None = None) -> torch.Tensor:
    """The unit mean of the views' unit embeddings (each (B, dim), in the mapping's order); mask (B, V)
    of 0/1 says which views each song has (default all; a row needs at least one)."""
    stacked = torch.stack(list(embeddings.values()), dim=1)  # (B, V, dim)
    m = torch.ones(stacked.shape[:2]) if mask is None else mask.to(stacked.dtype)  # (B, V)
    return F.normalize((stacked * m[..., None]).sum(1) / m.sum(1, keepdim=True).clamp_min(1.0), dim=-1)


# --- Losses ------------------------------------------------------------------------------------------


def info_nce(x: torch.Tensor, y: torch.Tensor, *, tau: float, positives: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric InfoNCE of x, y (B, d) unit vectors; positives (B, B) bool, row i the y's that count for
    x_i (default: the diagonal). Module docstring."""
    logits = x @ y.T / tau  # (B, B)
    pos = torch.eye(len(x), dtype=torch.bool) if positives is None else positives

    def one_way(lg: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return -(torch.logsumexp(lg.masked_fill(~p, -torch.inf), dim=1) - torch.logsumexp(lg, dim=1)).mean()

    return 0.5 * (one_way(logits, pos) + one_way(logits.T, pos.T))


def triplet(f: torch.Tensor, *, mode: torch.Tensor, province: torch.Tensor, margin: float) -> torch.Tensor:
    """Batch-hard triplet loss of unit f (B, d); mode, province (B,) label ids, 0 = unknown. Module docstring."""
    d = (2.0 - 2.0 * f @ f.T).clamp_min(0.0)  # (B, B)
    known = mode > 0
    same = mode[:, None] == mode[None, :]
    eye = torch.eye(len(f), dtype=torch.bool)
    pos = same & (province[:, None] == province[None, :]) & (province > 0)[:, None] & known[:, None] & ~eye
    neg = ~same & known[:, None] & known[None, :]
    valid = pos.any(1) & neg.any(1)
    if not bool(valid.any()):
        return f.sum() * 0.0
    hardest_pos = d.masked_fill(~pos, -torch.inf).amax(1)
    hardest_neg = d.masked_fill(~neg, torch.inf).amin(1)
    return F.relu(hardest_pos - hardest_neg + margin)[valid].mean()


def centroid(f: torch.Tensor, labels: torch.Tensor, *, classes: int) -> torch.Tensor:
    """Mean squared distance of unit f (B, d) to the batch mean of its label (labels (B,) in 0…classes−1,
    0 = unknown, left out). Module docstring."""
    keep = labels > 0
    if not bool(keep.any()):
        return f.sum() * 0.0
    onehot = F.one_hot(labels, classes).to(f.dtype) * keep[:, None]  # (B, C)
    centres = onehot.T @ f / onehot.sum(0).clamp_min(1.0)[:, None]  # (C, d)
    return ((f - centres[labels]) ** 2).sum(1)[keep].mean()


def constraint(head: torch.Tensor, *, histogram: torch.Tensor, final_mode: torch.Tensor, n_degrees: int) -> torch.Tensor:
    """KL(histogram ‖ softmax(head[:, :n_degrees])) + CE(head[:, n_degrees:], final_mode) (−1 ignored);
    head (B, n_degrees + n_modes), histogram (B, n_degrees) rows summing to 1, final_mode (B,)."""
    kl = F.kl_div(F.log_softmax(head[:, :n_degrees], dim=-1), histogram, reduction="batchmean")
    if not bool((final_mode >= 0).any()):
        return kl
    return kl + F.cross_entropy(head[:, n_degrees:], final_mode, ignore_index=-1)


# --- Batches and training ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    log_mel: torch.Tensor  # (B, n_mels, T)
    frames: torch.Tensor  # (B,)
    chroma: torch.Tensor  # (B, 2, 12)
    tokens: torch.Tensor  # (B, L)
    token_lengths: torch.Tensor  # (B,)
    context: torch.Tensor  # (B, len(KINDS))
    histogram: torch.Tensor  # (B, n_degrees)
    final_mode: torch.Tensor  # (B,)

    @classmethod
    def of(cls, views: Sequence[SongViews], *, min_frames: int = 16) -> Batch:
        n_mels = views[0].log_mel.shape[0]
        t = max(min_frames, *(v.log_mel.shape[1] for v in views))
        mel = np.full((len(views), n_mels, t), -1.0, dtype=np.float32)  # −1: the −80 dB floor
        length = max(len(v.tokens) for v in views)
        tokens = np.zeros((len(views), length), dtype=np.int64)
        for i, v in enumerate(views):
            mel[i, :, : v.log_mel.shape[1]] = v.log_mel
            tokens[i, : len(v.tokens)] = v.tokens
        return cls(torch.from_numpy(mel), torch.tensor([v.log_mel.shape[1] for v in views]),
                   torch.from_numpy(np.stack([v.chroma for v in views])), torch.from_numpy(tokens),
                   torch.tensor([len(v.tokens) for v in views]), torch.from_numpy(np.stack([v.context for v in views])),
                   torch.from_numpy(np.stack([v.histogram for v in views])), torch.tensor([v.final_mode for v in views]))


def _augment(batch: Batch, *, context_drop: float, augment: bool, g: torch.Generator) -> Batch:
    """Training noise: context labels dropped to unknown, one time stretch and one mel band masked."""
    context = batch.context.masked_fill(torch.rand(batch.context.shape, generator=g) < context_drop, 0)
    mel = batch.log_mel
    if augment:
        b, n_mels, t = mel.shape
        width_t = (torch.rand(b, generator=g) * 0.1 * batch.frames).long()  # (B,)
        start_t = (torch.rand(b, generator=g) * (batch.frames - width_t).clamp_min(1)).long()
        width_f = torch.randint(0, 9, (b,), generator=g)
        start_f = (torch.rand(b, generator=g) * (n_mels - width_f)).long()
        steps, bands = torch.arange(t)[None, :], torch.arange(n_mels)[None, :]
        mask_t = (steps >= start_t[:, None]) & (steps < (start_t + width_t)[:, None])  # (B, T)
        mask_f = (bands >= start_f[:, None]) & (bands < (start_f + width_f)[:, None])  # (B, n_mels)
        mel = mel.masked_fill(mask_t[:, None, :] | mask_f[:, :, None], -1.0)
    return Batch(mel, batch.frames, batch.chroma, batch.tokens, batch.token_lengths, context, batch.histogram, batch.final_mode)


def _view_mask(b: int, *, keep: float, g: torch.Generator) -> torch.Tensor:
    """(B, len(VIEWS)) 0/1: each view kept with `keep`; a row left empty keeps one view drawn uniformly."""
    mask = (torch.rand(b, len(VIEWS), generator=g) < keep).float()
    empty = mask.sum(1) == 0
    pick = torch.randint(0, len(VIEWS), (b,), generator=g)
    mask[empty, pick[empty]] = 1.0
    return mask


def losses(net: MultimodalNet, batch: Batch, truth: Batch, *, mask: torch.Tensor, sizes: Sequence[int]) -> dict[str, torch.Tensor]:
    """Each loss term and the weighted total on one batch (`batch` as the encoders see it, `truth`
    with the real labels), with the fused embedding over `mask`'s views."""
    cfg = net.cfg
    e = net.encode(batch)
    seen, ctx = batch.context, truth.context
    same_context = (seen[:, None, :] == seen[None, :, :]).all(-1)  # (B, B): identical context embeddings
    nce = (info_nce(e["audio"], e["symbolic"], tau=cfg.tau) + info_nce(e["audio"], e["context"], tau=cfg.tau, positives=same_context)
           + info_nce(e["symbolic"], e["context"], tau=cfg.tau, positives=same_context)) / 3
    f = fuse(e, mask)
    province, mode = ctx[:, KINDS.index("province")], ctx[:, KINDS.index("mode")]
    tri = triplet(f, mode=mode, province=province, margin=cfg.margin)
    cen = (centroid(f, mode, classes=sizes[KINDS.index("mode")])
           + cfg.weights.province_share * centroid(f, province, classes=sizes[KINDS.index("province")]))
    con = sum((constraint(net.head(z), histogram=truth.histogram, final_mode=truth.final_mode, n_degrees=net.n_degrees)
               for z in (e["audio"], e["symbolic"], f)), start=torch.zeros(())) / 3
    w = cfg.weights
    total = w.infonce * nce + w.triplet * tri + w.centroid * cen + w.constraint * con
    return {"total": total, "infonce": nce, "triplet": tri, "centroid": cen, "constraint": con}


@dataclass
class TrainedMultimodal:
    net: MultimodalNet
    losses: list[dict[str, float]]
    val_losses: list[float]
    best_epoch: int
    train_seconds: float


def build_net(cfg: MultimodalConfig, *, settings: AudioSettings, vocab: Vocabulary, labels: LabelSpace, tradition: str,
              seed: int = 0) -> MultimodalNet:
    """A freshly initialised network (weights drawn with `seed`) for these features, tokens and labels."""
    t = load_tradition(tradition)
    torch.manual_seed(seed)
    return MultimodalNet(cfg, n_mels=settings.n_mels, vocab_size=len(vocab), label_sizes=labels.sizes(),
                         n_degrees=len(t.degrees), n_modes=len(t.modes))


def train(train_views: Sequence[SongViews], val_views: Sequence[SongViews], *, net: MultimodalNet, cfg: MultimodalTrainConfig,
          labels: LabelSpace, seed: int, progress: Callable[[int, int], None] | None = None) -> TrainedMultimodal:
    """Fit `net` on the training songs (module docstring); keeps the best validation epoch (the last
    when there is no validation song). progress(epoch, epochs) after each epoch."""
    if len(train_views) < 2:
        raise InputError(f"{len(train_views)} training song(s): the contrastive losses need at least two; use more songs")
    with torch_threads(cfg.threads):
        return _train(train_views, val_views, net=net, cfg=cfg, labels=labels, seed=seed, progress=progress)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Torch on `n` intra-op threads inside (None: unchanged), the previous setting restored after."""
    threads = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _train(train_views: Sequence[SongViews], val_views: Sequence[SongViews], *, net: MultimodalNet, cfg: MultimodalTrainConfig,
           labels: LabelSpace, seed: int, progress: Callable[[int, int], None] | None) -> TrainedMultimodal:
    g = seeded(seed)
    sizes = labels.sizes()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * math.ceil(len(train_views) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=max(steps, 1), pct_start=0.15)
    history: list[dict[str, float]] = []
    sums: dict[str, float] = {}
    batches = 0

    def batch_loss(b: torch.Tensor) -> tuple[torch.Tensor, float] | None:
        nonlocal batches
        chosen = [train_views[i] for i in b.tolist()]
        if len(chosen) < 2:
            return None  # a single song has no negatives (and BatchNorm needs two)
        truth = Batch.of(chosen)
        seen = _augment(truth, context_drop=cfg.context_drop, augment=cfg.augment, g=g)
        parts = losses(net, seen, truth, mask=_view_mask(len(chosen), keep=cfg.view_keep, g=g), sizes=sizes)
        for k, v in parts.items():  # the terms as they were before this batch's step, as the total is
            sums[k] = sums.get(k, 0.0) + float(v.detach())
        batches += 1
        return parts["total"], 1.0

    def epoch_done(done: int, total: int) -> None:
        nonlocal batches
        history.append({k: v / max(batches, 1) for k, v in sums.items()})
        sums.clear()
        batches = 0
        if progress is not None:
            progress(done, total)

    def validate() -> float:
        return validation_loss(net, val_views, labels=labels, batch_size=cfg.batch_size, keep=cfg.view_keep, seed=seed)

    fitted = fit(net, batch_loss, items=len(train_views), epochs=cfg.epochs, batch_size=cfg.batch_size, opt=opt, gen=g,
                 sched=sched, clip_grad=cfg.clip_grad, validate=validate if val_views else None, keep_best=bool(val_views),
                 progress=epoch_done)
    return TrainedMultimodal(net, history, list(fitted.val_losses) if val_views else [], fitted.best_epoch, fitted.seconds)


@torch.no_grad()
def validation_loss(net: MultimodalNet, views: Sequence[SongViews], *, labels: LabelSpace, batch_size: int, keep: float,
                    seed: int) -> float:
    """The mean total loss over `views` in batches, view subsets drawn with a fixed seed (comparable across epochs)."""
    net.eval()
    g = torch.Generator().manual_seed(seed + 1)
    total, n = 0.0, 0
    for start in range(0, len(views), batch_size):
        chosen = list(views[start:start + batch_size])
        batch = Batch.of(chosen)
        parts = losses(net, batch, batch, mask=_view_mask(len(chosen), keep=keep, g=g), sizes=labels.sizes())
        total += float(parts["total"]) * len(chosen)
        n += len(chosen)
    return total / max(n, 1)


# --- The saved model, embeddings and centroids --------------------------------------------------------


@dataclass
class SavedMultimodal:
    """A trained network with everything its uses need: the audio settings and soundfonts its
    features came from, the vocabulary, the label space, the training songs' centroids per view set
    (`centroids[view set][kind] = (labels, (C, dim) unit vectors)`), the split and the CIDs it learned from."""

    net: MultimodalNet
    settings: AudioSettings
    vocab: Vocabulary
    labels: LabelSpace
    tradition: str
    centroids: dict[str, dict[str, tuple[tuple[str, ...], np.ndarray]]]
    fonts: dict[str, str]
    """Soundfont file names: "train" (training and validation songs) and "held_out"."""
    split_id: str
    learned_from: tuple[str, ...]
    facts: dict[str, Any]


@torch.no_grad()
def embed_views(net: MultimodalNet, views: Sequence[SongViews], *, batch_size: int = 64, threads: int | None = 1,
                ) -> dict[str, np.ndarray]:
    """Each view's unit embeddings (N, dim) of the songs, in eval mode, on `threads` torch threads
    (see MultimodalTrainConfig.threads)."""
    net.eval()
    parts: dict[str, list[np.ndarray]] = {v: [] for v in VIEWS}
    with torch_threads(threads):
        for start in range(0, len(views), batch_size):
            for name, z in net.encode(Batch.of(list(views[start:start + batch_size]))).items():
                parts[name].append(z.numpy())
    return {v: np.concatenate(p) if p else np.zeros((0, net.cfg.dim), dtype=np.float32) for v, p in parts.items()}


def fused(embeddings: Mapping[str, np.ndarray], use: Sequence[str]) -> np.ndarray:
    """The unit mean of the `use` views' embeddings (each (N, dim)) → (N, dim)."""
    missing = [v for v in use if v not in embeddings]
    if not use or missing:
        raise InputError(f"cannot fuse views {list(use)}: {missing or 'none'} missing; choose among {list(embeddings)}")
    z = np.mean(np.stack([embeddings[v] for v in use]), axis=0)  # (N, dim)
    return np.asarray(z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12), dtype=np.float32)


def fit_centroids(net: MultimodalNet, views: Sequence[SongViews], *, labels: LabelSpace,
                  ) -> dict[str, dict[str, tuple[tuple[str, ...], np.ndarray]]]:
    """Per view set and label kind, the unit mean embedding of the songs with each known label."""
    e = embed_views(net, views)
    out: dict[str, dict[str, tuple[tuple[str, ...], np.ndarray]]] = {}
    for name, use in VIEW_SETS.items():
        z = fused(e, use)
        out[name] = {}
        for k, kind in enumerate(KINDS):
            ids = np.array([v.context[k] for v in views])
            present = [i for i in range(1, len(labels.values[kind])) if np.any(ids == i)]
            means = np.stack([z[ids == i].mean(axis=0) for i in present]) if present else np.zeros((0, z.shape[1]))
            means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
            out[name][kind] = (tuple(labels.values[kind][i] for i in present), means.astype(np.float32))
    return out


def save(path: Path, model: SavedMultimodal) -> None:
    """Write the model file (module docstring)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    centroids = {vs: {kind: {"labels": list(lab), "vectors": torch.from_numpy(vec)} for kind, (lab, vec) in kinds.items()}
                 for vs, kinds in model.centroids.items()}
    torch.save({"format": FORMAT, "cfg": model.net.cfg.to_json(), "settings": asdict(model.settings),
                "vocabulary": list(model.vocab.tokens), "labels": {k: list(v) for k, v in model.labels.values.items()},
                "tradition": model.tradition, "centroids": centroids, "fonts": dict(model.fonts), "split_id": model.split_id,
                "learned_from": sorted(model.learned_from), "facts": model.facts, "net": model.net.state_dict()}, path)


def load(path: Path) -> SavedMultimodal:
    """The multimodal model saved at `path`; InputError (saying how to train one) for a missing or foreign file."""
    d = read_saved(path, what="multimodal model", formats=(FORMAT,), command=COMMAND)
    cfg = MultimodalConfig.from_json(d["cfg"])
    settings = AudioSettings(**d["settings"])
    vocab = Vocabulary(tuple(d["vocabulary"]))
    labels = LabelSpace({k: tuple(v) for k, v in d["labels"].items()})
    if tuple(labels.values) != KINDS:
        raise InputError(f"{path} has context labels {list(labels.values)}, not {list(KINDS)}: train it again with `{COMMAND}`")
    net = build_net(cfg, settings=settings, vocab=vocab, labels=labels, tradition=str(d["tradition"]))
    net.load_state_dict(d["net"])
    net.eval()
    centroids = {vs: {kind: (tuple(c["labels"]), c["vectors"].numpy()) for kind, c in kinds.items()}
                 for vs, kinds in d["centroids"].items()}
    return SavedMultimodal(net, settings, vocab, labels, str(d["tradition"]), centroids, dict(d["fonts"]), str(d["split_id"]),
                           tuple(d["learned_from"]), dict(d["facts"]))


def font_named(name: str) -> SoundFont:
    """The installed soundfont with this file name; InputError saying which package provides it."""
    for f in soundfonts():
        if f.name == name:
            return f
    raise InputError(f"soundfont {name} (the model's features were rendered with it) is not installed: "
                     "apt-get install fluid-soundfont-gm timgm6mb-soundfont")
