"""Training the lattice transformer, and its model file.

`train` fits `LatticeGpt` by next-token cross-entropy with AdamW on the token sequences of the
training pieces, measures the loss on the validation pieces after every epoch and keeps the
weights of the best validation epoch. A conditioned network sees `<bos> trad mode cycle ctx` before
each piece's body, each conditioning token replaced by its kind's `?` with probability
`cond_dropout` (so `?` is trained: it is what a tradition without a corpus is conditioned on); an
unconditioned one sees `<bos>` and the body only. The conditioning tokens themselves are never
predicted. A piece longer than the block is cut into windows starting at a `<bar>`, each behind the
same `<bos>` and conditioning tokens (as `decode.generate` slides its context). With a vocabulary
that has repeat tokens (`Vocabulary.build(repeats=True)`) the pieces' repeated cycles are marked
(`lattice.mark_repeats`): the network predicts `rep:k` where a song returns to earlier material, and
the copied tokens after it are inputs only, never targets (the decoder writes them).

The model file (`save`/`load`, read with `ml.saved.read_saved`) holds tensors and plain values
only: the weights, the `GptConfig`, the vocabulary, whether it is conditioned, the CIDs of the
pieces it learned from, the split's id, and `facts` (the corpus summary, the observed ornament
rates, losses, training time).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from core.errors import InputError
from ml.generation.lattice import BAR, BOS, COND_KINDS, EOS, UNKNOWN, LatticePiece, Vocabulary, to_tokens
from ml.generation.model import GptConfig, LatticeGpt
from ml.runtime import seeded
from ml.saved import read_saved
from ml.training_loop import Schedule, fit

FORMAT = "heritage-generation-1"
COMMAND = "heritage generation train"


@dataclass(frozen=True)
class TrainConfig(Schedule):
    """The lattice transformer's schedule: a short one by default, and the conditioning's dropout."""

    epochs: int = 2
    batch_size: int = 16
    cond_dropout: float = 0.1


@dataclass
class TrainedGenerator:
    """A trained network with its vocabulary; `losses`/`val_losses` per epoch (nats per token)."""

    net: LatticeGpt
    vocab: Vocabulary
    conditioned: bool
    losses: tuple[float, ...] = ()
    val_losses: tuple[float, ...] = ()
    best_epoch: int = 0
    train_seconds: float = 0.0

    @property
    def prefix_length(self) -> int:
        """<bos> and, when conditioned, the four conditioning tokens."""
        return 1 + (len(COND_KINDS) if self.conditioned else 0)


@dataclass(frozen=True)
class SavedGenerator:
    trained: TrainedGenerator
    learned_from: tuple[str, ...]
    split_id: str
    facts: Mapping[str, Any]


def windows(pieces: Sequence[LatticePiece], *, conditioned: bool, block_size: int, repeats: bool = False) -> list[list[str]]:
    """Token sequences of at most block_size + 1 tokens (inputs and their next tokens): each piece
    whole, or cut into windows starting at a <bar> every half block, each behind the piece's prefix;
    `repeats` marks repeated cycles."""
    out: list[list[str]] = []
    keep = 1 + (len(COND_KINDS) if conditioned else 0)
    room = block_size + 1 - keep
    if room < 8:
        raise InputError(f"block_size {block_size} leaves {room} tokens after the prefix: use at least {keep + 7}")
    for piece in pieces:
        tokens = to_tokens(piece, conditioned=conditioned, repeats=repeats)
        if len(tokens) <= block_size + 1:
            out.append(tokens)
            continue
        head, body = tokens[:keep], tokens[keep:]
        starts = [i for i, t in enumerate(body) if t == BAR]
        start = 0
        while True:
            out.append(head + body[start: start + room])
            if start + room >= len(body):
                break
            later = [s for s in starts if start < s <= start + room // 2]
            start = later[-1] if later else start + room // 2
    return out


def train(train_pieces: Sequence[LatticePiece], val_pieces: Sequence[LatticePiece], *, vocab: Vocabulary, gpt: GptConfig,
          cfg: TrainConfig = TrainConfig(), conditioned: bool = True,
          progress: Callable[[int, int], None] | None = None) -> TrainedGenerator:
    """Train a network (module docstring); progress(epoch, epochs) after each epoch. InputError for an
    empty training set or a config whose vocab_size is not the vocabulary's."""
    if not train_pieces:
        raise InputError("no training pieces: the corpus or its protocol filter left nothing to learn from")
    if gpt.vocab_size != len(vocab):
        raise InputError(f"GptConfig.vocab_size {gpt.vocab_size} differs from the vocabulary's {len(vocab)} tokens")
    gen = seeded(cfg.seed)
    net = LatticeGpt(gpt)
    repeats = bool(vocab.repeats)
    data = [vocab.ids(w) for w in windows(train_pieces, conditioned=conditioned, block_size=gpt.block_size, repeats=repeats)]
    val = [vocab.ids(w) for w in windows(val_pieces, conditioned=conditioned, block_size=gpt.block_size, repeats=repeats)]
    copies = _Copies.of(vocab)
    unknown = torch.tensor([vocab.index[f"{k}:{UNKNOWN}"] for k in COND_KINDS])  # (4,)
    keep = 1 + (len(COND_KINDS) if conditioned else 0)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * math.ceil(len(data) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=max(steps, 1), pct_start=0.1)

    def batch_loss(b: torch.Tensor) -> tuple[torch.Tensor, float]:
        x, y = _batch([data[j] for j in b.tolist()], keep=keep, copies=copies)  # (B, T), (B, T)
        if conditioned and cfg.cond_dropout > 0:
            drop = torch.rand(x.shape[0], len(COND_KINDS), generator=gen) < cfg.cond_dropout  # (B, 4)
            x[:, 1:keep] = torch.where(drop, unknown.expand_as(drop), x[:, 1:keep])
        logits = net(x)  # (B, T, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)
        return loss, int((y != -100).sum())

    validate = (lambda: mean_loss(net, val, keep=keep, copies=copies)) if val else None
    fitted = fit(net, batch_loss, items=len(data), epochs=cfg.epochs, batch_size=cfg.batch_size, opt=opt, gen=gen,
                 sched=sched, clip_grad=cfg.clip_grad, validate=validate, keep_best=True, progress=progress)
    return TrainedGenerator(net, vocab, conditioned, fitted.losses, fitted.val_losses, fitted.best_epoch, fitted.seconds)


def mean_loss(net: LatticeGpt, sequences: Sequence[Sequence[int]], *, keep: int, batch_size: int = 32,
              copies: _Copies | None = None) -> float:
    """Mean next-token cross-entropy (nats) over the sequences' body tokens (copies after a repeat
    token left out)."""
    net.eval()
    total = count = 0.0
    with torch.inference_mode():
        for i in range(0, len(sequences), batch_size):
            x, y = _batch(sequences[i: i + batch_size], keep=keep, copies=copies)
            logits = net(x)  # (B, T, V)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100, reduction="sum")
            total, count = total + float(loss), count + int((y != -100).sum())
    return total / max(count, 1)


@dataclass(frozen=True)
class _Copies:
    """The repeat tokens' ids and the ids that end a copied cycle (<bar>, <eos>)."""

    repeats: frozenset[int]
    ends: frozenset[int]

    @classmethod
    def of(cls, vocab: Vocabulary) -> _Copies | None:
        return cls(frozenset(vocab.repeats), frozenset(vocab.ids([BAR, EOS]))) if vocab.repeats else None

    def positions(self, sequence: Sequence[int]) -> list[int]:
        """Indices of the tokens copied after a repeat token, up to the next <bar> or <eos>."""
        out, copying = [], False
        for j, t in enumerate(sequence):
            if t in self.ends:
                copying = False
            elif copying:
                out.append(j)
            copying = copying or t in self.repeats
        return out


def _batch(sequences: Sequence[Sequence[int]], *, keep: int, copies: _Copies | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (B, T) padded with <pad> (id 0) and targets (B, T) with -100 where nothing is predicted:
    padding, the conditioning tokens and the tokens a repeat token copies."""
    t = max(len(s) for s in sequences) - 1
    x = torch.zeros(len(sequences), t, dtype=torch.long)
    y = torch.full((len(sequences), t), -100, dtype=torch.long)
    for i, s in enumerate(sequences):
        x[i, : len(s) - 1] = torch.tensor(s[:-1])
        y[i, : len(s) - 1] = torch.tensor(s[1:])
        y[i, : keep - 1] = -100
        if copies is not None:
            for j in copies.positions(s):
                y[i, j - 1] = -100  # target j − 1 predicts token j
    return x, y


def save(path: Path, trained: TrainedGenerator, *, learned_from: Sequence[str], split_id: str, facts: Mapping[str, Any]) -> None:
    """Write the model file (module docstring). `facts` must be plain values (JSON-like)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": FORMAT, "cfg": asdict(trained.net.cfg), "vocabulary": list(trained.vocab.tokens),
                "conditioned": trained.conditioned, "learned_from": sorted(learned_from), "split_id": split_id,
                "facts": dict(facts), "losses": list(trained.losses), "val_losses": list(trained.val_losses),
                "best_epoch": trained.best_epoch, "train_seconds": trained.train_seconds, "net": trained.net.state_dict()}, path)


def load(path: Path) -> SavedGenerator:
    """The generator saved at `path`; InputError (saying to train one) for a missing or foreign file."""
    d = read_saved(path, what="generation model", formats=(FORMAT,), command=COMMAND)
    vocab = Vocabulary(tuple(d["vocabulary"]))
    cfg = GptConfig(**d["cfg"])
    if cfg.vocab_size != len(vocab) or BOS not in vocab.index:
        raise InputError(f"{path} is inconsistent (its vocabulary does not fit its network): train it again with `{COMMAND}`")
    net = LatticeGpt(cfg)
    net.load_state_dict(d["net"])
    net.eval()
    trained = TrainedGenerator(net, vocab, bool(d["conditioned"]), tuple(d["losses"]), tuple(d["val_losses"]),
                               int(d["best_epoch"]), float(d["train_seconds"]))
    return SavedGenerator(trained, tuple(d["learned_from"]), str(d["split_id"]), dict(d["facts"]))
