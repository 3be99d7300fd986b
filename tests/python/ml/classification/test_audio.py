"""Audio classification on tiny synthetic log-mels: models learn time order, augmentation keeps classes,
ensembles combine as documented, evaluation matches hand-computed scores, bad input says what to do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from core.errors import InputError
from ml.classification.audio import (
    KINDS,
    AudioModelConfig,
    Ensemble,
    GluCrnn,
    MelCnn,
    MelLstm,
    MelRnn,
    Trained,
    clip_proba,
    cnn_svm,
    evaluate,
    train_model,
)
from ml.classification.mel_augment import AUGMENTATIONS, FLOOR_DB, augment

N_MELS, FRAMES = 128, 32
TINY = AudioModelConfig(epochs=12, batch=16, lr=3e-3, dropout=0.1, cnn_channels=(4, 8), embed=16, rnn_hidden=16, rnn_layers=1,
                        crnn_channels=16, crnn_blocks=2, se_reduction=4, gru_hidden=8, attention=8)
REGIONS = {"a": range(10, 31), "b": range(50, 71), "c": range(90, 111)}
"""Mel bands of each class of the band data set (`bands`)."""
Data = dict[str, tuple[np.ndarray, list[str]]]


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def pulses(n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """Two classes told apart only by how fast a band pulses: "fast" is on and off every other frame
    (46 ms), "slow" every four frames (186 ms), at a random phase, in a 3-band line centred on band 30,
    60 or 90, over −80 ± 3 dB noise. Both are on half the time, so averaged over time they look alike
    and no single frame tells them apart: a model has to use the order of frames. Shape (n, 128, 32), dB."""
    rng = np.random.default_rng(seed)
    x = -80 + 3 * rng.standard_normal((n, N_MELS, FRAMES))
    y = []
    for i in range(n):
        half = 1 if i % 2 == 0 else 4
        band, phase = int(rng.choice([30, 60, 90])), int(rng.integers(0, 2 * half))
        on = ((np.arange(FRAMES) + phase) // half) % 2 == 0  # (T,)
        x[i, band - 1: band + 2, on] = -20
        y.append("fast" if half == 1 else "slow")
    return x.astype(np.float32), y


def bands(per_class: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """Three classes by band: each example is −20 dB in one band of its class's region (no two examples
    share a band, and each band is ≥ 4 from the region's edges) and exactly at the floor elsewhere."""
    rng = np.random.default_rng(seed)
    x = np.full((3 * per_class, N_MELS, FRAMES), FLOOR_DB, dtype=np.float32)
    y = []
    for c, (label, region) in enumerate(REGIONS.items()):
        for k, band in enumerate(rng.choice(np.arange(region.start + 4, region.stop - 4), per_class, replace=False)):
            x[c * per_class + k, band] = -20
            y.append(label)
    return x, y


@pytest.fixture(scope="module")
def data() -> Data:
    return {"train": pulses(256, 0), "validation": pulses(64, 1), "test": pulses(64, 2)}


@pytest.fixture(scope="module")
def trained(data: Data) -> dict[str, Trained]:
    return {kind: train_model(kind, *data["train"], TINY) for kind in KINDS}


# ----------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("net", [MelCnn, MelRnn, MelLstm, GluCrnn])
def test_model_maps_mels_by_frames_to_logits(net: type[torch.nn.Module]) -> None:
    model = net(3, TINY).eval()
    assert model(torch.randn(5, N_MELS, 16)).shape == (5, 3)


def test_crnn_attention_weights_cover_the_pooled_frames() -> None:
    embedding, weights = GluCrnn(3, TINY).eval().attend(torch.randn(4, N_MELS, 32))
    assert embedding.shape == (4, 2 * TINY.gru_hidden)
    assert weights.shape == (4, 32 // TINY.crnn_pool**TINY.crnn_blocks)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(4))


@pytest.mark.parametrize("kind", KINDS)
def test_train_model_learns_the_pulse_rate(kind: str, trained: dict[str, Trained], data: Data) -> None:
    model = trained[kind]
    x, y = data["test"]
    p = model.proba(x)
    assert model.labels == ["fast", "slow"]
    assert p.shape == (len(x), 2)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    assert len(model.losses) == TINY.epochs and model.losses[-1] < model.losses[0]
    assert evaluate(p, y, model.labels)["accuracy"] >= 0.8  # chance is 0.5


def test_train_model_is_reproducible_from_its_seed(data: Data) -> None:
    x, y = data["train"]
    cfg = AudioModelConfig(**{**TINY.__dict__, "epochs": 1})
    a, b = (train_model("rnn", x, y, cfg).proba(x) for _ in range(2))
    np.testing.assert_array_equal(a, b)


def test_embed_is_offered_by_the_cnn_and_crnn_only(trained: dict[str, Trained], data: Data) -> None:
    x = data["test"][0][:5]
    assert trained["cnn"].embed(x).shape == (5, TINY.embed)
    assert trained["crnn"].embed(x).shape == (5, 2 * TINY.gru_hidden)
    with pytest.raises(InputError, match="train a 'cnn' or 'crnn'"):
        trained["lstm"].embed(x)


def test_cnn_svm_classifies_from_the_cnn_embedding(trained: dict[str, Trained], data: Data) -> None:
    member = cnn_svm(trained["cnn"], *data["train"])
    x, y = data["test"]
    p = member.proba(x)
    assert member.name == "cnn_svm" and member.labels == trained["cnn"].labels
    assert p.shape == (len(x), 2)
    np.testing.assert_allclose(p.sum(axis=1), 1)
    assert evaluate(p, y, member.labels)["accuracy"] >= 0.8


# ----------------------------------------------------------------------------------------------
# Ensembles and clips, with members whose probabilities are fixed per example
# ----------------------------------------------------------------------------------------------

@dataclass
class Fixed:
    """A member that looks up each example's probabilities by the example's id, held in x[:, 0, 0];
    it records every input it is asked about."""

    name: str
    table: np.ndarray  # (ids, classes)
    labels: list[str] = field(default_factory=lambda: ["a", "b", "c"])
    seen: list[np.ndarray] = field(default_factory=list)

    def proba(self, x: np.ndarray) -> np.ndarray:
        self.seen.append(x)
        return np.asarray(self.table[x[:, 0, 0].astype(int)])


def ids(*items: int) -> np.ndarray:
    x = np.zeros((len(items), 2, 2), dtype=np.float32)
    x[:, 0, 0] = items
    return x


def test_soft_vote_is_the_mean_of_the_members_probabilities(trained: dict[str, Trained], data: Data) -> None:
    x = data["test"][0]
    members = [trained["cnn"], trained["lstm"], trained["crnn"]]
    vote = Ensemble.soft_vote(members)
    np.testing.assert_allclose(vote.proba(x), np.mean([m.proba(x) for m in members], axis=0))
    assert vote.name == "soft_vote(cnn+lstm+crnn)"


def test_stack_is_fitted_on_validation_probabilities_only() -> None:
    rng = np.random.default_rng(0)
    n_train, n_val = 30, 60
    truth = np.array(["a", "b", "c"] * ((n_train + n_val) // 3))
    onehot = (truth[:, None] == np.array(["a", "b", "c"])).astype(float)
    noise = rng.dirichlet(np.ones(3), size=len(truth))
    # "overfit" is perfect on its training examples (ids < n_train) and noise elsewhere; "honest" is
    # 70 % right everywhere.
    overfit = Fixed("overfit", np.where(np.arange(len(truth))[:, None] < n_train, onehot, noise))
    honest = Fixed("honest", 0.7 * onehot + 0.3 * noise)
    x_val, y_val = ids(*range(n_train, n_train + n_val)), truth[n_train:].tolist()

    stack = Ensemble.stack([overfit, honest], x_val, y_val)

    assert all(seen is x_val for m in (overfit, honest) for seen in m.seen)
    assert stack.fitted_on == {"split": "validation", "n": n_val}
    expected = LogisticRegression(max_iter=5000).fit(np.hstack([overfit.table[n_train:], honest.table[n_train:]]), y_val)
    np.testing.assert_allclose(stack.stacker.coef_, expected.coef_, rtol=1e-4, atol=1e-6)
    # The stacker learned on validation that the honest member is the one to trust.
    weight = np.abs(stack.stacker.coef_).reshape(3, 2, 3).sum(axis=(0, 2))  # (members,)
    assert weight[1] > weight[0]
    assert stack.proba(ids(0, 1, 2)).shape == (3, 3)


def test_ensembles_refuse_members_with_different_classes() -> None:
    table = np.eye(3)
    with pytest.raises(InputError, match="train every member on the same labels"):
        Ensemble.soft_vote([Fixed("x", table), Fixed("y", table, labels=["a", "b", "d"])])
    with pytest.raises(InputError, match="at least two"):
        Ensemble.stack([Fixed("x", table)], ids(0, 0), ["a", "a"])


def test_clip_proba_is_the_mean_over_each_clips_segments() -> None:
    table = np.array([[0.9, 0.1, 0.0], [0.5, 0.2, 0.3], [0.1, 0.1, 0.8], [0.0, 1.0, 0.0]])
    member = Fixed("m", table)
    p = clip_proba(member, [ids(0, 1), ids(2, 3, 3)])
    np.testing.assert_allclose(p, [[0.7, 0.15, 0.15], [0.1 / 3, 2.1 / 3, 0.8 / 3]])
    with pytest.raises(InputError, match="at least one segment"):
        clip_proba(member, [ids(0), ids()])


# ----------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------

def test_evaluate_matches_hand_computed_scores() -> None:
    labels = ["a", "b", "c"]
    y_true = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "a", "b", "b", "c", "c"]
    proba = np.array([[0.8 if lab == p else 0.1 for lab in labels] for p in predicted])
    r = evaluate(proba, y_true, labels)
    # F1: a = 2·1·(2/3)/(1 + 2/3) = 0.8; b = 0.5 (precision 1/2, recall 1/2); c = 2·(1/2)·1/(3/2) = 2/3.
    assert r["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert r["recall"] == pytest.approx({"a": 2 / 3, "b": 0.5, "c": 1.0})
    assert r["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert "beats_best_member" not in r
    assert evaluate(proba, y_true, labels, members=[{"macro_f1": 0.6}, {"macro_f1": 0.5}])["beats_best_member"] is True
    assert evaluate(proba, y_true, labels, members=[{"macro_f1": 0.6}, {"macro_f1": 0.7}])["beats_best_member"] is False
    assert evaluate(proba[:2], ["a", "a"], labels)["recall"] == {"a": 1.0, "b": None, "c": None}


def test_evaluate_refuses_mismatched_shapes_and_unknown_labels() -> None:
    with pytest.raises(InputError, match="one row per true label"):
        evaluate(np.ones((3, 2)), ["a", "b"], ["a", "b"])
    with pytest.raises(InputError, match="pass every class"):
        evaluate(np.ones((2, 2)), ["a", "z"], ["a", "b"])


# ----------------------------------------------------------------------------------------------
# Augmentation
# ----------------------------------------------------------------------------------------------

def assert_same_class_mix(mixed: np.ndarray, label: str) -> None:
    """A mix of two `bands` examples: exactly two bands above the floor, both in the label's region, at
    the levels of α and 1 − α times −20 dB in power with α in [0.3, 0.7]."""
    level = mixed.max(axis=1)  # (n_mels,): each example is constant over time
    active = np.flatnonzero(level > FLOOR_DB + 1)
    assert len(active) == 2 and set(active) <= set(REGIONS[label]), (active, label)
    weights = 10 ** ((level[active] + 20) / 10)  # α, 1 − α
    assert weights.sum() == pytest.approx(1, abs=1e-4)
    assert 0.3 - 1e-4 <= weights.min() <= weights.max() <= 0.7 + 1e-4


def test_overlay_mixes_two_examples_of_the_same_class_in_power() -> None:
    x, y = bands(6, 0)
    mixed, labels = augment(x, y, np.random.default_rng(1), kinds=("overlay",))
    assert mixed.shape == x.shape and labels == y
    for m, label in zip(mixed, labels, strict=True):
        assert_same_class_mix(m, label)
    # The check catches a mix across classes, and a mix in dB rather than in power.
    across = 10 * np.log10(0.5 * 10 ** (x[0] / 10) + 0.5 * 10 ** (x[-1] / 10))
    in_db = 0.5 * x[0] + 0.5 * x[1]
    for wrong in (across, in_db):
        with pytest.raises(AssertionError):
            assert_same_class_mix(wrong, y[0])


def test_overlay_skips_an_example_alone_in_its_class() -> None:
    x, y = bands(2, 0)
    mixed, labels = augment(x[1:], y[1:], np.random.default_rng(0), kinds=("overlay",))
    assert labels == ["b", "b", "c", "c"] and len(mixed) == 4


@pytest.mark.parametrize("kind", ["stretch", "shift", "band"])
def test_augment_keeps_labels_shapes_and_the_class_band(kind: str) -> None:
    x, y = bands(6, 0)
    out, labels = augment(x, y, np.random.default_rng(2), kinds=(kind,))
    assert out.shape == x.shape and out.dtype == np.float32 and labels == y
    assert out.min() >= FLOOR_DB
    peak = out.max(axis=2).argmax(axis=1)  # (N,) the loudest band of each copy
    assert all(p in REGIONS[lab] for p, lab in zip(peak, labels, strict=True))
    if kind == "stretch":  # examples are constant in time, so resampling time changes nothing
        np.testing.assert_allclose(out, x, atol=1e-4)
    if kind == "shift":
        moved = np.abs(peak - x.max(axis=2).argmax(axis=1))
        assert ((moved >= 1) & (moved <= 4)).all()
    if kind == "band":
        assert 0 < np.abs(out - x).max() <= 6 + 1e-4


def test_stretch_changes_the_time_scale() -> None:
    ramp = np.tile(np.linspace(-60, -20, FRAMES, dtype=np.float32), (1, N_MELS, 1))  # (1, 128, 32)
    out, _ = augment(ramp, ["a"], np.random.default_rng(3), kinds=("stretch",))
    assert out.shape == ramp.shape and not np.allclose(out, ramp)


def test_augment_all_kinds_in_order() -> None:
    x, y = bands(2, 0)
    out, labels = augment(x, y, np.random.default_rng(0))
    assert out.shape == (len(AUGMENTATIONS) * len(x), N_MELS, FRAMES) and labels == y * len(AUGMENTATIONS)
    with pytest.raises(InputError, match="choose from"):
        augment(x, y, np.random.default_rng(0), kinds=("reverb",))


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------

GOOD_X, GOOD_Y = pulses(8, 5)
ONE_EPOCH = AudioModelConfig(**{**TINY.__dict__, "epochs": 1})


@pytest.mark.parametrize(("kind", "x", "y", "expect"), [
    ("cnn", GOOD_X, GOOD_Y, nullcontext()),
    ("crnn", GOOD_X, GOOD_Y, nullcontext()),
    ("gru", GOOD_X, GOOD_Y, pytest.raises(InputError, match="choose one of cnn, rnn, lstm, crnn")),
    ("cnn", GOOD_X[:, :, 0], GOOD_Y, pytest.raises(InputError, match=r"give an array \(examples, n_mels, frames\)")),
    ("rnn", GOOD_X[:0], [], pytest.raises(InputError, match="give at least one log-mel patch")),
    ("lstm", GOOD_X[:, :64], GOOD_Y, pytest.raises(InputError, match="FeatureConfig")),
    ("cnn", GOOD_X[:, :, :3], GOOD_Y, pytest.raises(InputError, match="at least 4 frames")),
    ("crnn", GOOD_X[:, :, :3], GOOD_Y, pytest.raises(InputError, match="at least 4 frames")),
    ("rnn", GOOD_X, GOOD_Y[:-1], pytest.raises(InputError, match="one label per example")),
    ("rnn", GOOD_X, ["fast"] * len(GOOD_Y), pytest.raises(InputError, match="at least two")),
    ("rnn", np.where(GOOD_X > -30, np.nan, GOOD_X), GOOD_Y, pytest.raises(InputError, match="NaN")),
])
def test_train_model_inputs(kind: str, x: np.ndarray, y: list[str], expect: AbstractContextManager[object]) -> None:
    with expect:
        assert train_model(kind, x, y, ONE_EPOCH).proba(x).shape == (len(x), 2)


def test_proba_refuses_features_of_another_size(trained: dict[str, Trained]) -> None:
    with pytest.raises(InputError, match="mel bands"):
        trained["cnn"].proba(np.zeros((2, 64, FRAMES), dtype=np.float32))
