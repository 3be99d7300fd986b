"""The one torch training loop every network here is trained with: epochs of seeded shuffled
mini-batches, an optimiser step (optional gradient clipping and per-step scheduler), an optional
validation after each epoch with the best epoch's weights kept and early stopping, and progress.

A trainer builds its network and optimiser after `ml.runtime.seeded(seed)` and hands `fit` a
`batch_loss`: given the indices of one batch (a slice of a fresh `torch.randperm` drawn from the
seeded generator each epoch), it returns the batch's loss and the weight the epoch's mean gives it
(items, tokens), or None to let the batch sit this epoch out. The same seed gives the same batches,
so the same weights.

    gen = seeded(cfg.seed)
    net = Net(...)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    fitted = fit(net, lambda b: (F.cross_entropy(net(x[b]), y[b]), len(b)), items=len(x),
                 epochs=cfg.epochs, batch_size=cfg.batch, opt=opt, gen=gen)
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from core.errors import InputError

BatchLoss = Callable[[torch.Tensor], "tuple[torch.Tensor, float] | None"]
"""Indices of one batch (a 1-D long tensor) → (the batch's loss, its weight in the epoch's mean), or None to skip it."""


@dataclass(frozen=True)
class Schedule:
    """How a token model is trained with `fit` under AdamW: epochs, batch size, learning rate, weight
    decay, the gradient-norm clip, and the seed of the weights and batch order."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.01
    clip_grad: float = 1.0
    seed: int = 0


@dataclass(frozen=True)
class Fitted:
    """What a `fit` learned: the mean training loss of each epoch, the validation loss of each (the
    training loss where there is no validation), the epoch whose weights the network holds (1-based;
    the last one run without `keep_best`, 0 when no epoch ran) and the seconds it took."""

    losses: tuple[float, ...]
    val_losses: tuple[float, ...]
    best_epoch: int
    seconds: float


def fit(net: nn.Module, batch_loss: BatchLoss, *, items: int, epochs: int, batch_size: int,
        opt: torch.optim.Optimizer, gen: torch.Generator,
        sched: torch.optim.lr_scheduler.LRScheduler | None = None, clip_grad: float | None = None,
        validate: Callable[[], float] | None = None, keep_best: bool = False, patience: int | None = None,
        mean_over: float | None = None, progress: Callable[[int, int], None] | None = None) -> Fitted:
    """Train `net` in place (module docstring) and leave it in eval mode.

    `validate` (called after each epoch; it may switch the network to eval, the next epoch switches it
    back) gives the validation loss; without it the epoch's training loss stands in. With `keep_best`
    the network ends with the weights of the epoch of lowest validation loss (the first such). With
    `patience`, training stops after that many epochs without a lower validation loss. An epoch's
    training loss is Σ loss·weight over its batches divided by `mean_over` when given (e.g. the item
    count, skipped batches included), else by Σ weight. progress(epoch, epochs) after each epoch."""
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}")
    if patience is not None and patience < 1:
        raise InputError(f"patience must be at least 1 epoch, got {patience}")
    losses: list[float] = []
    val_losses: list[float] = []
    best: tuple[float, int, dict[str, torch.Tensor] | None] | None = None
    since_best = 0
    t0 = time.perf_counter()
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(items, generator=gen)
        total = count = 0.0
        for i in range(0, items, batch_size):
            out = batch_loss(order[i: i + batch_size])
            if out is None:
                continue
            loss, weight = out
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            if clip_grad is not None:
                nn.utils.clip_grad_norm_(net.parameters(), clip_grad)
            opt.step()
            if sched is not None:
                sched.step()
            total, count = total + loss.item() * weight, count + weight
        losses.append(total / mean_over if mean_over is not None else total / max(count, 1))
        val_losses.append(validate() if validate is not None else losses[-1])
        if best is None or val_losses[-1] < best[0]:
            best = (val_losses[-1], epoch + 1, copy.deepcopy(net.state_dict()) if keep_best else None)
            since_best = 0
        else:
            since_best += 1
        if progress is not None:
            progress(epoch + 1, epochs)
        if patience is not None and since_best >= patience:
            break
    if keep_best and best is not None and best[2] is not None:
        net.load_state_dict(best[2])
        best_epoch = best[1]
    else:
        best_epoch = len(losses)
    net.eval()
    return Fitted(tuple(losses), tuple(val_losses), best_epoch, time.perf_counter() - t0)
