"""The shared training loop: same seed → same weights, the best epoch kept, early stopping, skipped
batches, the epoch mean, progress, and what it refuses."""

from __future__ import annotations

import hashlib

import pytest
import torch
from torch import nn

from core.errors import InputError
from ml.runtime import seeded
from ml.training_loop import Fitted, fit


def _problem(seed: int) -> tuple[nn.Linear, torch.Tensor, torch.Tensor, torch.Generator, torch.optim.Optimizer]:
    gen = seeded(seed)
    net = nn.Linear(3, 2)
    x = torch.randn(23, 3)
    y = (x[:, 0] > 0).long()
    return net, x, y, gen, torch.optim.SGD(net.parameters(), lr=0.5)


def _digest(net: nn.Module) -> str:
    return hashlib.sha256(b"".join(t.detach().numpy().tobytes() for t in net.state_dict().values())).hexdigest()


def _train(seed: int, **kwargs: object) -> tuple[nn.Linear, Fitted]:
    net, x, y, gen, opt = _problem(seed)
    fitted = fit(net, lambda b: (nn.functional.cross_entropy(net(x[b]), y[b]), len(b)), items=len(x), epochs=4,
                 batch_size=5, opt=opt, gen=gen, **kwargs)  # type: ignore[arg-type]
    return net, fitted


def test_the_same_seed_gives_the_same_weights_and_another_seed_others() -> None:
    a, fa = _train(1)
    b, fb = _train(1)
    c, _ = _train(2)
    assert _digest(a) == _digest(b) and fa.losses == fb.losses
    assert _digest(a) != _digest(c)
    assert not a.training  # left in eval mode
    assert fa.best_epoch == 4 and fa.val_losses == fa.losses and fa.losses[-1] < fa.losses[0]


def test_keep_best_restores_the_epoch_of_lowest_validation_loss() -> None:
    scripted = iter([0.5, 0.2, 0.9, 0.3])
    snapshots: list[str] = []
    net, x, y, gen, opt = _problem(0)

    def validate() -> float:
        snapshots.append(_digest(net))
        return next(scripted)

    fitted = fit(net, lambda b: (nn.functional.cross_entropy(net(x[b]), y[b]), len(b)), items=len(x), epochs=4,
                 batch_size=5, opt=opt, gen=gen, validate=validate, keep_best=True)
    assert fitted.best_epoch == 2 and fitted.val_losses == (0.5, 0.2, 0.9, 0.3)
    assert _digest(net) == snapshots[1] != snapshots[-1]


def test_patience_stops_after_epochs_without_improvement() -> None:
    scripted = iter([0.5, 0.4, 0.6, 0.7, 0.1, 0.1])
    done: list[int] = []
    _, fitted = _train(0, validate=lambda: next(scripted), patience=2, progress=lambda e, n: done.append(e))
    assert len(fitted.losses) == 4 and done == [1, 2, 3, 4]  # epochs 3 and 4 did not beat 0.4


def test_a_skipped_batch_takes_no_step_and_the_mean_is_over_what_it_is_told() -> None:
    net, x, _, gen, opt = _problem(0)
    before = _digest(net)
    fitted = fit(net, lambda b: None, items=len(x), epochs=2, batch_size=5, opt=opt, gen=gen)
    assert _digest(net) == before and fitted.losses == (0.0, 0.0)
    weights: list[float] = []

    def lone_batches_out(b: torch.Tensor) -> tuple[torch.Tensor, float] | None:
        if len(b) < 5:
            return None  # 23 items: the last batch of 3 sits out
        weights.append(float(len(b)))
        return torch.ones((), requires_grad=True) * 2.0, len(b)

    over_all = fit(net, lone_batches_out, items=len(x), epochs=1, batch_size=5, opt=opt, gen=gen, mean_over=len(x))
    over_kept = fit(net, lone_batches_out, items=len(x), epochs=1, batch_size=5, opt=opt, gen=gen)
    assert over_all.losses == pytest.approx((2.0 * 20 / 23,)) and over_kept.losses == pytest.approx((2.0,))
    assert weights == [5.0] * 8


@pytest.mark.parametrize(("kwargs", "problem"), [({"batch_size": 0}, "batch_size"), ({"patience": 0}, "patience")])
def test_refuses_settings_that_cannot_train(kwargs: dict[str, int], problem: str) -> None:
    net, x, _, gen, opt = _problem(0)
    settings: dict[str, int] = {"batch_size": 5, **kwargs}
    with pytest.raises(InputError, match=problem):
        fit(net, lambda b: None, items=len(x), epochs=1, opt=opt, gen=gen, **settings)  # type: ignore[arg-type]
