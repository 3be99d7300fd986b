"""The MIDI-GAN: a WGAN-GP over piano rolls with a multi-scale residual critic and an attention
similarity-matching term (issue 8).

**What the networks see.** A roll as (B, T, C) with C = P + 2 channels (`rolls.channels`): P pitch
rows and a silence channel (one-hot per step: which row sounds, or none), then an onset flag. The
generator's output has the same form, soft: a softmax over the P + 1 rows-or-silence and a sigmoid
onset per step.

**Generator.** z ~ N(0, I) (`z_dim`) → linear to (width, T/16) (bar resolution) → two residual
upsampling stages (×4 to beats, ×4 to steps; nearest-neighbour upsampling, then residual blocks of
two 3-tap convolutions with GroupNorm and LeakyReLU) → a self-attention block over the T steps
(learned position embedding, multi-head attention and an MLP, each pre-normed with a residual) →
1×1 heads for the P + 1 row logits and the onset logit.

**Multi-scale residual critic.** The roll is read at `scales` (1, 4, 16): step, beat and bar
resolution, average-pooled over time by each factor. Each scale has its own branch — a 1×1 input
convolution to `width` channels and `critic_blocks` residual blocks (LeakyReLU, 3-tap convolution,
twice, plus the skip), no normalisation (the gradient penalty is per sample) — then the mean over
time and a linear layer to one score. D(x) is the sum of the branches' scores.

**Losses** (Gulrajani et al. 2017). Critic: D(fake) − D(real) + λ·GP with
GP = E[(‖∇ₓ̂ D(x̂)‖₂ − 1)²] on interpolates x̂ = ε·real + (1 − ε)·fake, ε ~ U[0, 1] per sample,
λ = `gp_weight` = 10; `n_critic` critic updates per generator update; Adam with β = (0.5, 0.9).
Generator: −D(fake) + μ·L_sim (μ = `sim_weight`).

**Attention similarity-matching term L_sim.** For a roll x (T, C) let u_t = x_t / ‖x_t‖₂ (each step's
channel vector, unit length) and S(x) = U Uᵀ, the (T, T) cosine self-similarity of the steps (on real
rolls 1 where two steps hold the same row with the same onset flag, 0 where they differ in both);
its attention matrix is A(x) = softmax_rows(S(x) / τ), τ = `sim_temperature` = 0.1: where each step
"attends" to the steps like it — repeats at the beat, bar and phrase lags. Over a batch, Ā is the
mean of A(x) over its rolls. Then

    L_sim(fake batch, real batch) = (1 / T) Σ_t KL(Ā_real[t] ‖ Ā_fake[t]),

the mean over query steps t of the KL divergence between the real and the generated batch-mean
attention rows: 0 when the two batches have the same mean attention (identical batches in
particular), > 0 otherwise. It is computed on the rolls themselves (not the critic's features), so
its target does not move as the critic trains; the real batch is the one the critic just saw.

**Sampling** (`sample`): per step the argmax of the P + 1 rows-or-silence gives the sounding row; an
onset is where the onset probability is > 0.5, after silence, or where the row changes
(`rolls.decode`), so the result is a valid monophonic roll in token form.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.nn import functional as F

from core.errors import InputError
from ml.generation.midigan.rolls import Tokens, decode


@dataclass(frozen=True)
class GanConfig:
    pitches: int
    steps: int = 80
    z_dim: int = 64
    width: int = 64
    """Channels of the generator and of each critic branch."""
    heads: int = 4
    critic_blocks: int = 2
    scales: tuple[int, ...] = (1, 4, 16)

    def __post_init__(self) -> None:
        if self.steps % 16 or self.width % self.heads or any(self.steps % s for s in self.scales):
            raise InputError(f"steps ({self.steps}) must be a multiple of 16 and of every scale {self.scales}, "
                             f"width ({self.width}) a multiple of heads ({self.heads})")

    @property
    def channels(self) -> int:
        return self.pitches + 2


@dataclass(frozen=True)
class GanTrainConfig:
    steps: int = 1000
    """Generator updates."""
    batch_size: int = 64
    n_critic: int = 5
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.9)
    gp_weight: float = 10.0
    sim_weight: float = 1.0
    sim_temperature: float = 0.1
    seed: int = 0


class _UpBlock(nn.Module):
    """×factor nearest-neighbour upsampling, then a residual block of two 3-tap convolutions."""

    def __init__(self, width: int, factor: int) -> None:
        super().__init__()
        self.factor = factor
        self.body = nn.Sequential(nn.GroupNorm(1, width), nn.LeakyReLU(0.2), nn.Conv1d(width, width, 3, padding=1),
                                  nn.GroupNorm(1, width), nn.LeakyReLU(0.2), nn.Conv1d(width, width, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=self.factor, mode="nearest")  # (B, W, T·factor)
        out: torch.Tensor = x + self.body(x)
        return out


class _SelfAttention(nn.Module):
    """A pre-norm transformer block over time (no mask: the generator sees the whole roll)."""

    def __init__(self, width: int, heads: int, steps: int) -> None:
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(steps, width))
        self.ln1, self.attn = nn.LayerNorm(width), nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.pos  # (B, T, W)
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        out: torch.Tensor = x + self.mlp(self.ln2(x))
        return out


class Generator(nn.Module):
    def __init__(self, cfg: GanConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.start = nn.Linear(cfg.z_dim, cfg.width * (cfg.steps // 16))
        self.up = nn.Sequential(_UpBlock(cfg.width, 4), _UpBlock(cfg.width, 4))
        self.attn = _SelfAttention(cfg.width, cfg.heads, cfg.steps)
        self.ln = nn.LayerNorm(cfg.width)
        self.rows = nn.Linear(cfg.width, cfg.pitches + 1)
        self.onset = nn.Linear(cfg.width, 1)

    def logits(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z (B, z_dim) → row logits (B, T, P + 1) and onset logits (B, T)."""
        h = self.start(z).view(z.shape[0], self.cfg.width, self.cfg.steps // 16)  # (B, W, T/16)
        h = self.up(h).transpose(1, 2)  # (B, T, W)
        h = self.ln(self.attn(h))
        return self.rows(h), self.onset(h).squeeze(-1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, z_dim) → soft rolls (B, T, P + 2): row-or-silence probabilities, then onset probability."""
        rows, onset = self.logits(z)
        return torch.cat([rows.softmax(dim=-1), torch.sigmoid(onset)[..., None]], dim=-1)


class _ResBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv1d(width, width, 3, padding=1),
                                  nn.LeakyReLU(0.2), nn.Conv1d(width, width, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.body(x)
        return out


class Critic(nn.Module):
    """Multi-scale residual critic (module docstring): x (B, T, C) → scores (B,)."""

    def __init__(self, cfg: GanConfig) -> None:
        super().__init__()
        self.scales = cfg.scales
        self.branches = nn.ModuleList(
            nn.Sequential(nn.Conv1d(cfg.channels, cfg.width, 1), *(_ResBlock(cfg.width) for _ in range(cfg.critic_blocks)),
                          nn.LeakyReLU(0.2)) for _ in cfg.scales)
        self.heads = nn.ModuleList(nn.Linear(cfg.width, 1) for _ in cfg.scales)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.transpose(1, 2)  # (B, C, T)
        total = torch.zeros(x.shape[0], device=x.device)
        for scale, branch, head in zip(self.scales, self.branches, self.heads, strict=True):
            h = F.avg_pool1d(x, scale) if scale > 1 else x  # (B, C, T/scale)
            total = total + head(branch(h).mean(dim=2)).squeeze(-1)  # (B,)
        return total


def interpolates(real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """ε·real + (1 − ε)·fake per sample; real, fake (B, T, C), eps (B,) in [0, 1]."""
    e = eps.view(-1, *([1] * (real.dim() - 1)))
    return e * real + (1 - e) * fake


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     eps: torch.Tensor) -> torch.Tensor:
    """E[(‖∇ₓ̂ D(x̂)‖₂ − 1)²] over the interpolates x̂ = `interpolates(real, fake, eps)` (unweighted: the
    caller multiplies by λ), with the graph kept so the critic trains through it. real, fake (B, T, C)."""
    x = interpolates(real, fake.detach(), eps).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)  # (B, T, C)
    gp: torch.Tensor = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    return gp


def wasserstein(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The critic's Wasserstein estimate mean D(real) − mean D(fake), from one call on both batches."""
    scores = critic(torch.cat([real, fake]))  # (2B,)
    return scores[: len(real)].mean() - scores[len(real):].mean()


def attention(x: torch.Tensor, *, temperature: float) -> torch.Tensor:
    """Mean over the batch of softmax_rows(S / τ), S the steps' cosine self-similarity: x (B, T, C) → (T, T)."""
    u = F.normalize(x, dim=-1, eps=1e-8)  # (B, T, C)
    s = u @ u.transpose(1, 2)  # (B, T, T)
    return (s / temperature).softmax(dim=-1).mean(dim=0)


def similarity_loss(fake: torch.Tensor, real: torch.Tensor, *, temperature: float = 0.1) -> torch.Tensor:
    """L_sim (module docstring): mean over steps of KL(Ā_real[t] ‖ Ā_fake[t]); fake, real (B, T, C)."""
    a_real = attention(real, temperature=temperature)  # (T, T)
    a_fake = attention(fake, temperature=temperature)
    kl = (a_real * (a_real.clamp_min(1e-12).log() - a_fake.clamp_min(1e-12).log())).sum(dim=-1)  # (T,)
    return kl.mean()


@dataclass(frozen=True)
class Validation:
    """How a GAN is judged while it trains (it has no loss to validate): every `every` generator steps
    `measure(generator)` answers metrics with a "score" (lower is better: the experiment's distance of
    generated rolls to the validation rolls); the best-scoring weights are kept, and after `patience`
    checks without a better score training stops (None: it runs all its steps)."""

    measure: Callable[[Generator], Mapping[str, float]]
    every: int = 250
    patience: int | None = None

    def __post_init__(self) -> None:
        if self.every < 1 or (self.patience is not None and self.patience < 1):
            raise InputError(f"validate every ≥ 1 steps with patience ≥ 1 (or none), got {self.every} and {self.patience}")


@dataclass
class TrainedGan:
    generator: Generator
    critic: Critic
    cfg: GanConfig
    history: dict[str, list[float]] = field(default_factory=dict)
    """Per logged generator step: "step", "wasserstein" (D(real) − D(fake)), "gp", "sim"; with a
    `Validation`, per check "val_step" and "val_<metric>" for each metric it answers."""
    train_seconds: float = 0.0
    best_step: int = 0
    """The step whose weights were kept (the last step without a `Validation`)."""
    stopped_early: bool = False

    def n_params(self) -> int:
        """Generator and critic together (the generator alone makes the samples)."""
        return sum(p.numel() for net in (self.generator, self.critic) for p in net.parameters())


def train(rolls: NDArray[np.float32], cfg: GanConfig, tcfg: GanTrainConfig = GanTrainConfig(),
          progress: Callable[[int, int], None] | None = None, log_every: int = 25,
          validation: Validation | None = None) -> TrainedGan:
    """Train on `rolls` (N, T, C) as `rolls.channels` makes them (module docstring); progress(step, steps).
    With `validation`, keep the best-scoring weights and stop when they stop improving (`Validation`);
    its checks draw their own noise, so they leave the training's random stream as it was."""
    if rolls.ndim != 3 or rolls.shape[1:] != (cfg.steps, cfg.channels) or len(rolls) < 2:
        raise InputError(f"training rolls of shape {rolls.shape}: expected (N ≥ 2, {cfg.steps}, {cfg.channels})")
    torch.manual_seed(tcfg.seed)
    gen = torch.Generator().manual_seed(tcfg.seed)
    g, d = Generator(cfg), Critic(cfg)
    opt_g = torch.optim.Adam(g.parameters(), lr=tcfg.lr, betas=tcfg.betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=tcfg.lr, betas=tcfg.betas)
    data = torch.from_numpy(rolls)
    batch = min(tcfg.batch_size, len(data))
    history: dict[str, list[float]] = {"step": [], "wasserstein": [], "gp": [], "sim": []}
    t0 = time.perf_counter()
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    stale, stopped = 0, False
    for step in range(1, tcfg.steps + 1):
        with torch.no_grad():  # the generator is fixed during the critic's updates: its fakes are made at once
            fakes = g(torch.randn(tcfg.n_critic * batch, cfg.z_dim, generator=gen)).split(batch)  # each (B, T, C)
        for fake in fakes:
            real = data[torch.randint(len(data), (batch,), generator=gen)]  # (B, T, C)
            w = wasserstein(d, real, fake)
            gp = gradient_penalty(d, real, fake, torch.rand(batch, generator=gen))
            loss_d = -w + tcfg.gp_weight * gp
            opt_d.zero_grad()
            loss_d.backward()  # type: ignore[no-untyped-call]
            opt_d.step()
        fake = g(torch.randn(batch, cfg.z_dim, generator=gen))
        sim = similarity_loss(fake, real, temperature=tcfg.sim_temperature)
        loss_g: torch.Tensor = -d(fake).mean() + tcfg.sim_weight * sim
        opt_g.zero_grad()
        loss_g.backward()  # type: ignore[no-untyped-call]
        opt_g.step()
        if step % log_every == 0 or step == tcfg.steps:
            for k, v in (("step", step), ("wasserstein", w.item()), ("gp", gp.item()), ("sim", sim.item())):
                history[k].append(float(v))
        if progress is not None:
            progress(step, tcfg.steps)
        if validation is not None and (step % validation.every == 0 or step == tcfg.steps):
            g.eval()
            measured = dict(validation.measure(g))
            g.train()
            history.setdefault("val_step", []).append(float(step))
            for k, v in measured.items():
                history.setdefault(f"val_{k}", []).append(float(v))
            if best is None or measured["score"] < best[0]:
                best, stale = (measured["score"], step, copy.deepcopy(g.state_dict())), 0
            else:
                stale += 1
            if validation.patience is not None and stale >= validation.patience and step < tcfg.steps:
                stopped = True
                if progress is not None:
                    progress(tcfg.steps, tcfg.steps)
                break
    if best is not None:
        g.load_state_dict(best[2])
    g.eval()
    d.eval()
    return TrainedGan(g, d, cfg, history, time.perf_counter() - t0, best[1] if best else tcfg.steps, stopped)


def sample(generator: Generator, n: int, *, seed: int, batch_size: int = 256) -> Tokens:
    """n rolls as tokens (n, T) (module docstring: argmax rows, onsets where > 0.5 or forced)."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    generator.eval()
    with torch.inference_mode():
        for i in range(0, n, batch_size):
            rows, onset = generator.logits(torch.randn(min(batch_size, n - i), generator.cfg.z_dim, generator=gen))
            out.append(decode(rows.argmax(dim=-1).numpy().astype(np.int64), (onset > 0).numpy(), pitches=generator.cfg.pitches))
    return np.concatenate(out) if out else np.zeros((0, generator.cfg.steps), dtype=np.int64)
