"""What a user's recording must not change: a tiny recogniser and a tiny classifier, trained here
in seconds on synthetic instruments, answer exactly the same under level changes (bit-identical for
2^k gains, to float rounding otherwise), leading/trailing silence and duplicated stereo channels;
about the same under sample-rate changes and lossy codecs; and "silence" for silence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]

from ml.classification.audio import AudioModelConfig, train_model
from ml.classification.saved import TaskModel, classify_prepared, load, prepared_patches, save
from ml.data.preprocess import SILENCE, PreprocessConfig, prepare, prepare_file
from ml.recognition.model import Recogniser
from tests.python.ml.synthetic import INSTRUMENTS, SR, melody, one_thread, train_tiny_recogniser


@pytest.fixture(scope="module", autouse=True)
def _threads() -> Iterator[None]:
    with one_thread():
        yield


@pytest.fixture(scope="module")
def recogniser(tmp_path_factory: pytest.TempPathFactory) -> Recogniser:
    return train_tiny_recogniser(tmp_path_factory.mktemp("model") / "tiny.pt")


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> TaskModel:
    x, y = [], []
    for lab in INSTRUMENTS:
        for i in range(3):
            p = prepared_patches(prepare(melody(lab, seed=i), sample_rate=SR))
            x.append(p)
            y += [lab] * len(p)
    cfg = AudioModelConfig(cnn_channels=(4, 4, 4, 4), embed=8, epochs=2, batch=4)
    path = tmp_path_factory.mktemp("cls") / "instrument.pt"
    save(path, "instrument", [train_model("cnn", np.concatenate(x), y, cfg)], learned_from=[])
    return load(path)


def held_out() -> list[tuple[str, np.ndarray]]:
    return [(lab, melody(lab, seed=50 + i)) for lab in INSTRUMENTS for i in range(2)]


def labels(per_segment: list[dict[str, float]]) -> list[str]:
    return [max(p, key=lambda k: p[k]) for p in per_segment]


def test_the_tiny_models_have_learned_something(recogniser: Recogniser) -> None:
    """The invariances below would hold for a constant model too: make sure this one is not constant."""
    answers = {lab: labels(recogniser.recognise(y, sample_rate=SR)) for lab, y in held_out()}
    assert set(answers["pluck"]) != set(answers["reed"])


@pytest.mark.parametrize("k", [1, 3, 5, 6])
def test_power_of_two_levels_give_bit_identical_answers(recogniser: Recogniser, classifier: TaskModel, k: int) -> None:
    gain = np.float32(2.0**-k)  # −6.02 · k dB, down to −36 dBFS
    for _, y in held_out():
        assert recogniser.recognise(y * gain, sample_rate=SR) == recogniser.recognise(y, sample_rate=SR)
        assert classify_prepared(classifier, prepare(y * gain, sample_rate=SR)) == classify_prepared(
            classifier, prepare(y, sample_rate=SR))


@pytest.mark.parametrize("db", [-40.0, -31.7, -20.0, -9.5, -0.1])
def test_any_level_from_minus_40_to_0_dbfs_gives_the_same_answers(recogniser: Recogniser, classifier: TaskModel,
                                                                   db: float) -> None:
    gain = np.float32(10 ** (db / 20))
    for _, y in held_out():
        ref, got = recogniser.recognise(y, sample_rate=SR), recogniser.recognise(y * gain, sample_rate=SR)
        assert labels(got) == labels(ref)
        for a, b in zip(ref, got, strict=True):
            assert b == pytest.approx(a, abs=1e-4)
        c_ref, c_got = (classify_prepared(classifier, prepare(v, sample_rate=SR)) for v in (y, y * gain))
        assert list(c_got) == list(c_ref) and c_got == pytest.approx(c_ref, abs=1e-4)


@pytest.mark.parametrize(("lead", "tail"), [(0.5, 0.0), (0.0, 4.0), (2.345, 7.0)])
def test_leading_and_trailing_silence_change_nothing(recogniser: Recogniser, classifier: TaskModel, lead: float,
                                                     tail: float) -> None:
    for _, y in held_out():
        padded = np.concatenate([np.zeros(round(lead * SR), np.float32), y, np.zeros(round(tail * SR), np.float32)])
        assert recogniser.recognise(padded, sample_rate=SR) == recogniser.recognise(y, sample_rate=SR)
        assert classify_prepared(classifier, prepare(padded, sample_rate=SR)) == classify_prepared(
            classifier, prepare(y, sample_rate=SR))


def test_duplicated_stereo_is_mono(recogniser: Recogniser, classifier: TaskModel, tmp_path: Path) -> None:
    for i, (_, y) in enumerate(held_out()):
        stereo = np.stack([y, y], axis=1)
        assert recogniser.recognise(stereo, sample_rate=SR) == recogniser.recognise(y, sample_rate=SR)
        path = tmp_path / f"{i}.wav"
        sf.write(path, stereo, SR, subtype="FLOAT")
        assert recogniser.recognise_file(path) == recogniser.recognise(y, sample_rate=SR)
        assert classify_prepared(classifier, prepare_file(path)) == classify_prepared(classifier, prepare(y, sample_rate=SR))


def test_sample_rates_8_to_48_khz_answer_about_the_same(recogniser: Recogniser) -> None:
    import librosa

    agree = total = 0
    for _, y in held_out():
        ref = labels(recogniser.recognise(y, sample_rate=SR))
        for sr in (8_000, 16_000, 44_100, 48_000):
            got = labels(recogniser.recognise(librosa.resample(y, orig_sr=SR, target_sr=sr), sample_rate=sr))
            assert len(got) == len(ref)
            agree += sum(a == b for a, b in zip(ref, got, strict=True))
            total += len(ref)
    assert agree / total >= 0.75, f"{agree}/{total} segments agree"  # 8 kHz removes everything above 4 kHz


@pytest.mark.parametrize("fmt", ["OGG", "MP3"])
def test_lossy_codecs_answer_about_the_same(recogniser: Recogniser, tmp_path: Path, fmt: str) -> None:
    agree = total = 0
    for i, (_, y) in enumerate(held_out()):
        path = tmp_path / f"{i}.{fmt.lower()}"
        try:
            sf.write(path, y, SR, format=fmt)
        except (sf.LibsndfileError, ValueError, TypeError) as err:
            pytest.skip(f"libsndfile cannot write {fmt} here: {err}")
        ref, got = labels(recogniser.recognise(y, sample_rate=SR)), labels(recogniser.recognise_file(path))
        assert len(got) == len(ref)
        agree += sum(a == b for a, b in zip(ref, got, strict=True))
        total += len(ref)
    assert agree / total >= 0.75, f"{agree}/{total} segments agree"


def test_silence_answers_silence(recogniser: Recogniser, classifier: TaskModel) -> None:
    y = melody("reed", seed=7)
    quiet_tail = melody("pluck", seconds=3.5, seed=8) * np.float32(10 ** (-40 / 20))
    answers = recogniser.recognise(np.concatenate([y[: 6 * SR], quiet_tail, y[6 * SR:]]), sample_rate=SR)
    assert [SILENCE in a for a in answers] == [False, False, True, False]
    assert answers[2] == {SILENCE: 1.0}
    for silent in (np.zeros(5 * SR, np.float32), np.float32(1e-5) * melody("reed", seconds=5)):
        assert {SILENCE: 1.0} == classify_prepared(classifier, prepare(silent, sample_rate=SR))
        assert all(a == {SILENCE: 1.0} for a in recogniser.recognise(silent, sample_rate=SR))


def test_an_old_model_file_keeps_the_preprocessing_it_was_trained_with(recogniser: Recogniser, tmp_path: Path) -> None:
    import torch

    path = tmp_path / "tiny.pt"
    from ml.recognition.model import load, save

    save(recogniser.dnn, path, learned_from=[])
    d = torch.load(path, weights_only=True)
    del d["preprocess"]  # as files written before the preprocessing path
    torch.save(d, path)
    assert load(path).preprocess == PreprocessConfig.legacy()
