"""MIDI-GAN (issue 8) with tiny models on a few real Essen Han songs: the rolls, the WGAN-GP pieces,
the similarity term, the samplers, the reference model and the command end to end."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import InputError
from ml.data.corpora import essen
from ml.generation.encoding import han_corpus
from ml.generation.lattice import HAN
from ml.generation.midigan import baselines, gan
from ml.generation.midigan.experiment import (
    MODEL_FILES,
    ROWS,
    MidiganConfig,
    SavedModel,
    StepNgram,
    load,
    run,
    sample_model,
    save,
    train_models,
)
from ml.generation.midigan.rolls import (
    FIRST_ONSET,
    HOLD,
    REST,
    RollConfig,
    Rolls,
    SongSteps,
    channels,
    prepare,
    song_steps,
    tokens_to_roll,
    windows,
)
from ml.tradition import load_tradition

ROLLS = RollConfig(songs=60)
TINY = MidiganConfig(rolls=ROLLS, width=8, samples=12, gan_train=gan.GanTrainConfig(steps=2, batch_size=16),
                     lm_train=baselines.LmTrainConfig(epochs=1, batch_size=32))


@pytest.fixture(scope="module")
def rolls(tmp_path_factory: pytest.TempPathFactory) -> Rolls:
    return prepare(ROLLS, cache_dir=tmp_path_factory.mktemp("midigan-cache"))


def test_a_real_song_lands_on_the_sixteenth_grid() -> None:
    """han1 X:2 (M:2/4, L:1/16, K:F) opens `c4c4 | f2c4B2 |`: with F moved to C, the c (MIDI 72) sounds
    at 67, and the f starting bar 2 (step 8) at 72 for two steps, then the c at 67 from step 10."""
    song = next(p for p in essen(("Chinese Han",)) if p.source == "essen/han1" and p.number == "2")
    piece = han_corpus([song]).pieces[0]
    steps = song_steps(piece, load_tradition(HAN), cfg=ROLLS)
    window = windows(steps, steps=80, hop=16)[0]
    roll, onsets, lenient = tokens_to_roll(window, pitches=ROLLS.pitches)
    assert window.shape == (80,) and roll.shape == (1, 80, 37) and lenient == 0
    f, c = 72 - ROLLS.lowest, 67 - ROLLS.lowest
    assert roll[0, 8, f] and roll[0, 9, f] and onsets[0, 8] and not onsets[0, 9]
    assert roll[0, 10, c] and onsets[0, 10] and roll[0, 0, c] and onsets[0, 4]  # c4c4: two strikes of one pitch
    assert (roll[0].sum(axis=1) <= 1).all()


def test_a_window_starting_inside_a_note_strikes_it_again() -> None:
    tokens = np.array([FIRST_ONSET + 5, HOLD, HOLD, HOLD, REST, FIRST_ONSET + 2, HOLD, REST])
    sounding = np.array([5, 5, 5, 5, -1, 2, 2, -1])
    got = windows(SongSteps(tokens, sounding), steps=4, hop=2)
    assert [w.tolist() for w in got] == [[FIRST_ONSET + 5, HOLD, HOLD, HOLD], [FIRST_ONSET + 5, HOLD, REST, FIRST_ONSET + 2],
                                         [REST, FIRST_ONSET + 2, HOLD, REST]]


def test_the_prepared_rolls_are_cached(tmp_path: Path) -> None:
    first = prepare(ROLLS, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("rolls-*.npz"))) == 1
    again = prepare(ROLLS, cache_dir=tmp_path)
    assert again.split_id == first.split_id and np.array_equal(again.train, first.train)
    assert again.train.shape[1] == 80 and len(again.test) > 0


@pytest.mark.parametrize(("norm", "expected"), [(1.0, 0.0), (2.0, 1.0), (0.5, 0.25)])
def test_gradient_penalty_is_zero_for_a_unit_gradient_critic(norm: float, expected: float) -> None:
    """A linear critic D(x) = <w, x> has gradient w everywhere: GP = (‖w‖ − 1)²."""
    torch.manual_seed(0)
    w = torch.randn(80, 5)
    w = w / w.norm() * norm
    real, fake = torch.rand(4, 80, 5), torch.rand(4, 80, 5)
    gp = gan.gradient_penalty(lambda x: (x * w).sum(dim=(1, 2)), real, fake, torch.rand(4))
    assert gp.item() == pytest.approx(expected, abs=1e-5)


def test_gradient_penalty_is_taken_on_interpolates() -> None:
    seen: list[torch.Tensor] = []

    def critic(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.detach().clone())
        return (x ** 2).sum(dim=(1, 2))

    real, fake, eps = torch.ones(3, 80, 5), torch.zeros(3, 80, 5), torch.tensor([0.0, 0.25, 1.0])
    gan.gradient_penalty(critic, real, fake, eps)
    assert torch.allclose(seen[0][:, 0, 0], eps)  # ε·real + (1 − ε)·fake


def test_similarity_term_is_zero_only_for_matching_batches(rolls: Rolls) -> None:
    real = torch.from_numpy(channels(rolls.train[:16], pitches=ROLLS.pitches))  # (16, 80, 39)
    other = torch.from_numpy(channels(rolls.train[16:32], pitches=ROLLS.pitches))
    assert gan.similarity_loss(real, real.clone()).item() == pytest.approx(0.0, abs=1e-6)
    fake = torch.rand(16, 80, ROLLS.pitches + 2, requires_grad=True)
    loss = gan.similarity_loss(fake, real)
    loss.backward()  # type: ignore[no-untyped-call]
    assert loss.item() > 0.0 and fake.grad is not None and fake.grad.abs().sum() > 0
    assert gan.similarity_loss(other, real).item() > 0.0


@pytest.fixture(scope="module")
def trained(rolls: Rolls) -> dict[str, SavedModel]:
    return dict(train_models(rolls, TINY))


@pytest.mark.parametrize("name", ["gan", "lstm", "transformer"])
def test_samples_are_valid_monophonic_rolls_and_seeded(trained: dict[str, SavedModel], name: str) -> None:
    model = trained[name]
    tokens = sample_model(model, 10, seed=3)
    assert tokens.shape == (10, 80) and tokens.min() >= 0 and tokens.max() < ROLLS.vocab_size
    roll, onsets, lenient = tokens_to_roll(tokens, pitches=ROLLS.pitches)
    assert (roll.sum(axis=2) <= 1).all() and not (onsets & ~roll.any(axis=2)).any()
    if name == "gan":
        assert lenient == 0  # the GAN's decoding never leaves a HOLD without a note
    assert np.array_equal(tokens, sample_model(model, 10, seed=3))


def test_reference_model_prefers_real_held_out_rolls_to_random_ones(rolls: Rolls) -> None:
    ref = StepNgram.fit(rolls.train, vocab_size=ROLLS.vocab_size)
    random = np.random.default_rng(0).integers(0, ROLLS.vocab_size, size=rolls.test.shape)
    assert ref.perplexity(rolls.test) < ref.perplexity(random)
    probs = np.exp(ref.log_probs(np.array([[t] for t in range(ROLLS.vocab_size)])))  # p(first token) for every token
    assert probs.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(("songs", "context"), [(60, nullcontext()), (50, pytest.raises(InputError, match="another split"))])
def test_saved_models_are_measured_only_on_their_own_split(tmp_path: Path, trained: dict[str, SavedModel], songs: int,
                                                           context: AbstractContextManager[object]) -> None:
    for name, model in trained.items():
            save(tmp_path / MODEL_FILES[name], model)
    loaded = {name: load(tmp_path / f) for name, f in MODEL_FILES.items()}
    with context:
        report = run(replace(TINY, rolls=replace(ROLLS, songs=songs)), cache_dir=tmp_path, models=loaded)
        assert set(report["results"]) == set(ROWS)


def test_the_command_trains_measures_and_writes_the_report(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    args = ["generation", "midigan", "--songs", "60", "--gan-steps", "4", "--validate-every", "2", "--epochs", "1", "--samples", "8",
            "--width", "8",
            "--out", str(tmp_path / "reports"), "--models", str(tmp_path / "models"), "--cache", str(tmp_path / "cache"),
            "--no-protocols"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "reports" / "midigan.json").read_text())
    assert set(report["results"]) == set(ROWS) and report["results"]["gan"]["rolls"] == 8
    assert report["models"]["lstm"]["train_seconds"] > 0 and not report["protocols_checked"]
    md = (tmp_path / "reports" / "midigan.md").read_text()
    assert "| MIDI-GAN (WGAN-GP) |" in md and "PPL 1.7, UPC 8.43" in md
    assert (tmp_path / "reports" / "midigan.png").stat().st_size > 0
    assert report["models"]["gan"]["history"]["val_step"] == [2.0, 4.0] and report["models"]["gan"]["best_step"] in (2, 4)
    assert "## The GAN's training curves" in md and (tmp_path / "reports" / "midigan_curves.png").stat().st_size > 0
    assert report["results"]["reference"]["distance"] == 0.0 and "its Transformer baseline" in md
    assert all((tmp_path / "models" / f).exists() for f in MODEL_FILES.values())
    again = CliRunner().invoke(app, [*args, "--reuse"])
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "reports" / "midigan.json").read_text())["results"] == report["results"]


def _tiny_gan_data(rolls: Rolls) -> tuple[np.ndarray, gan.GanConfig]:
    return channels(rolls.train[:64], pitches=rolls.cfg.pitches), gan.GanConfig(pitches=rolls.cfg.pitches, width=8, z_dim=8)


def test_validation_keeps_the_best_checks_weights_and_stops_when_they_stop_improving(rolls: Rolls) -> None:
    """Scores fall for three checks, then rise: training stops `patience` checks after the best, and the
    generator comes back with exactly the weights it had at the best check."""
    data, cfg = _tiny_gan_data(rolls)
    scores = iter([5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 3.8, 3.9, 4.0, 4.1])
    seen: list[dict[str, torch.Tensor]] = []

    def measure(g: gan.Generator) -> dict[str, float]:
        assert not g.training  # checked in eval mode
        seen.append({k: v.clone() for k, v in g.state_dict().items()})
        return {"score": next(scores), "ppl": 1.0}

    t = gan.train(data, cfg, gan.GanTrainConfig(steps=20, batch_size=16, n_critic=1),
                  validation=gan.Validation(measure, every=2, patience=2))
    assert t.history["val_step"] == [2.0, 4.0, 6.0, 8.0, 10.0] and t.best_step == 6 and t.stopped_early
    assert t.history["val_score"] == [5.0, 4.0, 3.0, 3.5, 3.6] and t.history["val_ppl"] == [1.0] * 5
    assert all(torch.equal(v, seen[2][k]) for k, v in t.generator.state_dict().items())
    assert not all(torch.equal(v, seen[-1][k]) for k, v in t.generator.state_dict().items())


def test_validation_leaves_the_training_stream_alone(rolls: Rolls) -> None:
    """The same seed with and without checks (and no stopping) gives the same last weights."""
    data, cfg = _tiny_gan_data(rolls)
    tcfg = gan.GanTrainConfig(steps=4, batch_size=16, n_critic=1)
    plain = gan.train(data, cfg, tcfg)
    checked = gan.train(data, cfg, tcfg, validation=gan.Validation(lambda g: {"score": -float(len(plain.history))}, every=1))
    assert checked.best_step == 1  # a constant score keeps the first check: the weights differ from the last step's
    last = gan.train(data, cfg, tcfg, validation=gan.Validation(lambda g: {"score": 0.0}, every=4))
    assert all(torch.equal(v, plain.generator.state_dict()[k]) for k, v in last.generator.state_dict().items())


def test_a_bad_validation_setting_is_refused() -> None:
    with pytest.raises(InputError, match="patience"):
        gan.Validation(lambda g: {"score": 0.0}, every=0)
