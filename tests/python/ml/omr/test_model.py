"""Score recognition models: Haar downsampling, SRU, focal CTC, decoding, metrics, and a tiny overfit of both models."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import pytest
import torch

from core.errors import InputError
from ml.omr.data import VOCABULARY, render_lines
from ml.omr.model import (
    KINDS,
    ContourRefine,
    OmrConfig,
    PlainCrnn,
    SeedOmr,
    Sru,
    SruLayer,
    edit_distance,
    focal_ctc_loss,
    greedy_decode,
    haar_downsample,
    haar_upsample,
    images_tensor,
    note_scores,
    symbol_error_rate,
    train,
)

TUNE = "X:1\nT:Hand-written reel\nM:4/4\nL:1/4\nK:D\n|:d c B A|B2 A2|F G A B|A4:|\n|e d c B|c2 B2|A B c d|d4|]\n"
TINY = OmrConfig(channels=(8, 16), hidden=32, layers=1, dropout=0.0, epochs=12, batch=4, lr=3e-3)


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """Tiny tensors: a second thread only adds contention on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_haar_downsample_is_orthonormal_and_invertible() -> None:
    x = torch.randn(2, 3, 8, 12, dtype=torch.float64)
    y = haar_downsample(x)
    assert y.shape == (2, 12, 4, 6)
    torch.testing.assert_close((y**2).sum(), (x**2).sum())  # energy kept
    torch.testing.assert_close(haar_upsample(y), x)


def test_haar_downsample_of_one_block_by_hand() -> None:
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])  # a=1 b=2 / c=3 d=4
    assert haar_downsample(x).flatten().tolist() == [5.0, -2.0, -1.0, 0.0]  # (a+b+c+d)/2, (a+b-c-d)/2, (a-b+c-d)/2, (a-b-c+d)/2


@pytest.mark.parametrize(("shape", "expectation"), [
    ((1, 1, 4, 4), nullcontext()),
    ((1, 1, 5, 4), pytest.raises(InputError, match="even H and W")),
    ((4, 4), pytest.raises(InputError, match=r"\(B, C, H, W\)")),
])  # fmt: skip
def test_haar_downsample_shapes(shape: tuple[int, ...], expectation: AbstractContextManager[object]) -> None:
    with expectation:
        haar_downsample(torch.zeros(shape))


def test_contour_refine_keeps_shape() -> None:
    assert ContourRefine(4, 5)(torch.randn(2, 4, 8, 10)).shape == (2, 4, 8, 10)
    with pytest.raises(InputError, match="odd"):
        ContourRefine(4, 4)


@pytest.mark.parametrize(("n_in", "hidden"), [(3, 3), (5, 3)])
def test_sru_layer_matches_a_hand_rolled_loop(n_in: int, hidden: int) -> None:
    torch.manual_seed(0)
    layer = SruLayer(n_in, hidden)
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(2, 1, n_in)  # (T, B, n_in)
    w = layer.weight.detach()
    wx, wf, wr = w[:, :hidden], w[:, hidden:2 * hidden], w[:, 2 * hidden:3 * hidden]
    skip = (lambda v: v @ w[:, 3 * hidden:]) if n_in != hidden else (lambda v: v)
    c = torch.zeros(1, hidden)
    expected = []
    for t in range(2):
        f = torch.sigmoid(x[t] @ wf + layer.v[0] * c + layer.bias[0])
        r = torch.sigmoid(x[t] @ wr + layer.v[1] * c + layer.bias[1])
        c = f * c + (1 - f) * (x[t] @ wx)
        expected.append(r * c + (1 - r) * skip(x[t]))
    torch.testing.assert_close(layer(x), torch.stack(expected).detach())


def test_sru_is_bidirectional_and_stacks() -> None:
    sru = Sru(6, 4, layers=2)
    x = torch.randn(7, 3, 6)  # (T, B, n_in)
    y = sru(x)
    assert y.shape == (7, 3, 8)
    # The first output frame of the backward direction depends on the last input frame.
    x2 = x.clone()
    x2[-1] += 1.0
    assert not torch.allclose(sru(x2)[0, :, 4:], y[0, :, 4:])
    torch.testing.assert_close(sru.forward_layers[0](x2)[0], sru.forward_layers[0](x)[0])


def _ctc_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    targets = torch.tensor([[1, 2, 3], [2, 2, 4]])  # (B, S)
    path = torch.tensor([[1, 0, 2, 0, 3, 0], [2, 0, 2, 0, 4, 4]])  # a valid alignment per line, (B, T)
    logits = torch.randn(6, 2, 5) + 8.0 * nn_one_hot(path.T, 5)  # (T, B, vocab): the path is easy
    return torch.log_softmax(logits, -1), targets, torch.tensor([6, 6]), torch.tensor([3, 3])


def nn_one_hot(ids: torch.Tensor, n: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(ids, n).float()


def test_focal_ctc_is_ctc_at_gamma_0_and_smaller_above() -> None:
    lp, targets, lengths, target_lengths = _ctc_batch()
    plain = torch.nn.functional.ctc_loss(lp, targets, lengths, target_lengths, reduction="sum") / 2
    torch.testing.assert_close(focal_ctc_loss(lp, targets, lengths, target_lengths, gamma=0.0), plain)
    assert 0 < plain.item() < 0.1  # easy examples
    focal = focal_ctc_loss(lp, targets, lengths, target_lengths, gamma=2.0)
    assert 0 < focal.item() < plain.item()
    with pytest.raises(InputError, match="gamma"):
        focal_ctc_loss(lp, targets, lengths, target_lengths, gamma=-1.0)


def test_greedy_decode_merges_repeats_and_drops_blanks() -> None:
    lp, targets, _, _ = _ctc_batch()
    assert greedy_decode(lp) == targets.tolist()
    assert greedy_decode(lp, [3, 6]) == [[1, 2], [2, 2, 4]]


def test_edit_distance_by_hand() -> None:
    assert edit_distance(list("kitten"), list("sitting")) == 3
    assert edit_distance([], ["a"]) == 1


def test_symbol_error_rate_and_note_scores_by_hand() -> None:
    truth = [["clef-G2", "note-D5-quarter", "note-C#5-quarter", "bar", "note-B4-half"],
             ["note-A4-half", "note-B4-half"]]  # fmt: skip
    pred = [["clef-G2", "note-D5-quarter", "note-E5-eighth", "note-C#5-quarter", "note-B4-half"],  # inserted E5, "bar" deleted
            ["note-A4-half", "note-B4-quarter"]]  # fmt: skip  # B4 substituted
    assert symbol_error_rate(pred, truth) == pytest.approx(3 / 7)
    s = note_scores(pred, truth)
    assert (s.matched, s.predicted, s.true) == (4, 6, 5)
    assert (s.precision, s.recall) == (pytest.approx(2 / 3), pytest.approx(4 / 5))
    assert s.f1 == pytest.approx(8 / 11)  # 2PR / (P + R)
    assert note_scores([["bar"]], [["note-C4-whole"]]).f1 == 0.0
    with pytest.raises(InputError, match="one prediction per line"):
        symbol_error_rate(pred[:1], truth)


@pytest.mark.parametrize("net", [SeedOmr, PlainCrnn])
def test_models_map_images_to_ctc_log_probs(net: type[SeedOmr | PlainCrnn]) -> None:
    cfg = OmrConfig(hidden=16, layers=2)
    out = net(cfg).eval()(torch.rand(2, 1, 128, 96))  # (B, 1, H, W)
    assert out.shape == (24, 2, len(VOCABULARY))  # (W/4, B, vocab)
    torch.testing.assert_close(out.exp().sum(-1), torch.ones(24, 2))


def test_images_tensor_pads_with_paper() -> None:
    images = [np.full((128, 10), 255, np.uint8), np.zeros((128, 16), np.uint8)]
    x, frames = images_tensor(images, OmrConfig())
    assert x.shape == (2, 1, 128, 16) and frames == [3, 4]
    assert x[0].sum() == 0 and x[1].min() == 1
    with pytest.raises(InputError, match=r"cfg\.height"):
        images_tensor([np.zeros((64, 16), np.uint8)], OmrConfig())


def test_train_refuses_lines_longer_than_their_frames() -> None:
    with pytest.raises(InputError, match="frames"):
        train("seed", [np.zeros((128, 8), np.uint8)], [[1, 2, 3]], TINY)
    with pytest.raises(InputError, match="kind"):
        train("transformer", [np.zeros((128, 8), np.uint8)], [[1]], TINY)


@pytest.fixture(scope="module")
def lines() -> tuple[list[np.ndarray], list[list[int]]]:
    staff = render_lines(TUNE, width_px=256)[:4]
    return [s.image for s in staff], [VOCABULARY.encode(s.tokens) for s in staff]


@pytest.mark.parametrize("kind", KINDS)
def test_tiny_overfit_lowers_the_loss(kind: str, lines: tuple[list[np.ndarray], list[list[int]]]) -> None:
    images, ids = lines
    assert len(images) == 4
    epochs: list[int] = []
    trained = train(kind, images, ids, TINY, progress=lambda e, n: epochs.append(e))
    assert epochs == list(range(1, TINY.epochs + 1))
    assert all(math.isfinite(v) for v in trained.losses)
    assert trained.losses[-1] < 0.8 * trained.losses[0]  # one batch per epoch: losses[0] is the untrained loss
    predicted = trained.predict(images)
    assert len(predicted) == 4 and all(0 <= i < len(VOCABULARY) for p in predicted for i in p)
