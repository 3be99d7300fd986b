"""The MIDI-GAN's baselines: an LSTM and a small causal Transformer, autoregressive over the same
step tokens (`rolls`: REST, HOLD, onset of pitch p), one token per sixteenth-note step.

Each reads `<bos>` (an extra id, `vocab_size`) and the roll's first T − 1 tokens and predicts all T
(teacher forcing, next-token cross-entropy). The LSTM: token embedding → `layers` LSTM layers →
linear head. The Transformer: `ml.generation.model.LatticeGpt` (token and learned position
embeddings, pre-norm causal self-attention blocks, tied head) with a block of T tokens. Training, as
`ml.generation.train` trains: AdamW with gradient clipping (a linear warm-up over the first tenth of
the steps, then cosine decay), the loss on the validation rolls after every epoch, and the weights of
the best validation epoch kept. Sampling: T steps from `<bos>` at temperature 1 (`<bos>` itself never
drawn), nothing masked — a HOLD with nothing sounding is read as a rest by `rolls.tokens_to_roll`
(and counted in the report).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.nn import functional as F

from core.errors import InputError
from ml.generation.midigan.rolls import Tokens
from ml.generation.model import GptConfig, LatticeGpt
from ml.runtime import seeded
from ml.training_loop import Schedule, fit

Kind = Literal["lstm", "transformer"]


@dataclass(frozen=True)
class LmConfig:
    kind: Kind
    vocab_size: int
    """Step tokens (REST, HOLD, onsets); the networks add `<bos>`."""
    steps: int = 80
    width: int = 64
    layers: int = 2
    heads: int = 4
    dropout: float = 0.1

    @property
    def bos(self) -> int:
        return self.vocab_size


LmTrainConfig = Schedule
"""The baselines' training: `ml.training_loop.Schedule` as it is (10 epochs of 64 rolls)."""


class LstmLm(nn.Module):
    def __init__(self, cfg: LmConfig) -> None:
        super().__init__()
        self.emb = nn.Embedding(cfg.vocab_size + 1, cfg.width)
        self.lstm = nn.LSTM(cfg.width, cfg.width, num_layers=cfg.layers, batch_first=True,
                            dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.head = nn.Linear(cfg.width, cfg.vocab_size + 1)

    def step(self, idx: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None,
             ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """idx (B, T) → logits (B, T, V + 1) and the LSTM state after them."""
        h, state = self.lstm(self.emb(idx), state)  # (B, T, W)
        return self.head(h), state

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.step(idx)[0]


def build(cfg: LmConfig) -> nn.Module:
    """The network of `cfg.kind`, freshly initialised (the caller seeds torch)."""
    if cfg.kind == "lstm":
        return LstmLm(cfg)
    if cfg.kind == "transformer":
        return LatticeGpt(GptConfig(vocab_size=cfg.vocab_size + 1, block_size=cfg.steps, n_layer=cfg.layers, n_head=cfg.heads,
                                    n_embd=cfg.width, dropout=cfg.dropout))
    raise InputError(f"unknown baseline {cfg.kind!r}: choose lstm or transformer")


@dataclass
class TrainedLm:
    net: nn.Module
    cfg: LmConfig
    losses: tuple[float, ...] = ()
    val_losses: tuple[float, ...] = ()
    """Per epoch, nats per step token."""
    best_epoch: int = 0
    train_seconds: float = 0.0

    def n_params(self) -> int:
        return sum(p.numel() for p in self.net.parameters())


def _inputs(tokens: torch.Tensor, bos: int) -> torch.Tensor:
    """(B, T) rolls → (B, T) inputs: <bos> and the first T − 1 tokens."""
    return torch.cat([torch.full((tokens.shape[0], 1), bos, dtype=torch.long), tokens[:, :-1]], dim=1)


def train(rolls: Tokens, val_rolls: Tokens, cfg: LmConfig, tcfg: LmTrainConfig = LmTrainConfig(),
          progress: Callable[[int, int], None] | None = None) -> TrainedLm:
    """Fit the network (module docstring); progress(epoch, epochs) after each epoch."""
    if rolls.ndim != 2 or rolls.shape[1] != cfg.steps or not len(rolls):
        raise InputError(f"training rolls of shape {rolls.shape}: expected (N ≥ 1, {cfg.steps}) step tokens")
    gen = seeded(tcfg.seed)
    net = build(cfg)
    data, val = torch.from_numpy(np.asarray(rolls, dtype=np.int64)), torch.from_numpy(np.asarray(val_rolls, dtype=np.int64))
    opt = torch.optim.AdamW(net.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    batches = math.ceil(len(data) / tcfg.batch_size)
    total_steps, warm = max(tcfg.epochs * batches, 1), max(1, tcfg.epochs * batches // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * s / total_steps)))

    def batch_loss(b: torch.Tensor) -> tuple[torch.Tensor, float]:
        y = data[b]  # (B, T)
        logits = net(_inputs(y, cfg.bos))  # (B, T, V + 1)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)), len(y)

    fitted = fit(net, batch_loss, items=len(data), epochs=tcfg.epochs, batch_size=tcfg.batch_size, opt=opt, gen=gen,
                 sched=sched, clip_grad=tcfg.clip_grad, validate=(lambda: mean_loss(net, val, cfg)) if len(val) else None,
                 keep_best=True, progress=progress)
    return TrainedLm(net, cfg, fitted.losses, fitted.val_losses, fitted.best_epoch, fitted.seconds)


def mean_loss(net: nn.Module, rolls: torch.Tensor, cfg: LmConfig, batch_size: int = 256) -> float:
    """Mean next-token cross-entropy (nats per step) over rolls (N, T)."""
    net.eval()
    total = 0.0
    with torch.inference_mode():
        for i in range(0, len(rolls), batch_size):
            y = rolls[i: i + batch_size]
            logits = net(_inputs(y, cfg.bos))
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum"))
    return total / max(rolls.numel(), 1)


def sample(net: nn.Module, cfg: LmConfig, n: int, *, seed: int, temperature: float = 1.0) -> Tokens:
    """n rolls of cfg.steps tokens (n, T), drawn one step at a time from <bos> (module docstring)."""
    if not temperature > 0:
        raise InputError(f"temperature must be > 0, got {temperature}")
    gen = torch.Generator().manual_seed(seed)
    net.eval()
    out = torch.full((n, cfg.steps + 1), cfg.bos, dtype=torch.long)  # (n, 1 + T): <bos> then the steps
    state: tuple[torch.Tensor, torch.Tensor] | None = None
    with torch.inference_mode():
        for s in range(cfg.steps):
            if isinstance(net, LstmLm):
                logits, state = net.step(out[:, s: s + 1], state)  # (n, 1, V + 1)
            else:
                logits = net(out[:, : s + 1])  # (n, s + 1, V + 1)
            last = logits[:, -1, :] / temperature  # (n, V + 1)
            last[:, cfg.bos] = -math.inf
            out[:, s + 1] = torch.multinomial(last.softmax(dim=-1), 1, generator=gen).squeeze(1)
    tokens: NDArray[np.int64] = out[:, 1:].numpy().astype(np.int64)
    return tokens
