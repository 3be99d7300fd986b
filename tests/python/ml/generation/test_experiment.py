"""The generation experiment end to end on a tiny real set, and the per-piece metrics it is made of."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import InputError
from ml.data.corpora import Piece, essen
from ml.data.training import Source
from ml.generation.encoding import han_corpus
from ml.generation.evaluation import Reference, piece_metrics, span
from ml.generation.experiment import (
    ARMS,
    LOCAL_CORPORA,
    NO_REPEATS,
    GenerationExperimentConfig,
    run,
    write_report,
)
from ml.generation.lattice import HAN, Event
from ml.generation.model import ModelSize
from ml.generation.train import TrainConfig
from ml.tradition import load_tradition, traditions

TINY = GenerationExperimentConfig(songs=50, pieces=2, seconds=6.0, audio_pieces=0, other_pieces=1, reference_pieces=10,
                                  size=ModelSize(n_layer=1, n_head=2, n_embd=16, block_size=64, dropout=0.0),
                                  train=TrainConfig(epochs=1, batch_size=16))


def _refuse_some(piece: Piece) -> Source:
    return Source(piece.cid, ml_allowed=piece.cid[-1] not in "abc")


def test_tiny_experiment_fills_table_1_for_every_tradition(tmp_path: Path) -> None:
    stages: list[str] = []
    report = run(TINY, say=lambda s, d, t: stages.append(s), source=_refuse_some, save_dir=tmp_path / "models")
    assert report["refused"] > 0 and report["protocols_checked"]
    assert report["pieces"]["measured"] == 2 and "training the conditioned network" in stages
    assert set(report["results"]) == set(traditions())
    han = report["results"][HAN]
    assert set(han) == set(ARMS)
    for name in ("off_mode_share", "interval_violations", "cycle_crossings"):
        assert han["ours"][name] == 0.0 and han[NO_REPEATS][name] == 0.0  # the masks hold with and without repeats
    assert han["ours"]["ends_on_cycle"] == 1.0 and han["ours"]["rhythm_dtw"] is not None
    assert han["reference"]["form_to_song"] == 0.0  # the song against itself
    assert 0.0 <= report["form_medoid"]["mean_distance"] <= 1.0 and report["form_medoid"]["form"][0] == 0
    assert all(0.0 <= (han[arm]["form_to_song"] or 0.0) <= 1.0 for arm in ARMS)
    for tid in traditions():
        if tid in LOCAL_CORPORA:  # a local corpus: all four rows, the corpus metrics against its other songs
            assert set(report["results"][tid]) == set(ARMS)
            assert report["results"][tid]["ours"]["rhythm_dtw"] is not None
            assert report["results"][tid]["ours"]["off_mode_share"] == 0.0
            local = report["other_traditions"][tid]["corpus"]
            assert local["measured"] + local["reference_songs"] == local["encoded"] <= local["songs"]
        elif tid != HAN:
            assert set(report["results"][tid]) == {"unconditioned", "ours"}
            assert report["results"][tid]["ours"]["rhythm_dtw"] is None  # no corpus to compare with
    refused = {p.cid for p in essen(("Chinese Han",)) if p.cid[-1] in "abc"}
    from ml.generation.train import load

    assert not refused & set(load(tmp_path / "models" / "generation-conditioned.pt").learned_from)
    paths = write_report(report, tmp_path / "reports")
    md = paths[1].read_text()
    assert "## Table 1: chinese_pentatonic" in md and "| archive (no corpus) | unavailable" in md
    assert "not measurable (no corpus)" in md and paths[2].stat().st_size > 0
    assert "## Table 1: irish_traditional (Irish songs of the Essen collection; networks trained on Han songs only)" in md
    assert "(the structural distance's medoid)" in md
    assert f"| {NO_REPEATS} |" in md and "Ours against the same network with its repeat tokens never drawn:" in md
    assert json.loads(paths[0].read_text())["split_id"] == report["split_id"]


def test_models_from_another_split_are_refused(tmp_path: Path) -> None:
    report = run(TINY, save_dir=tmp_path)
    from ml.generation.train import load

    models = {name: load(tmp_path / f"generation-{name}.pt") for name in ("conditioned", "unconditioned")}
    assert report["split_id"] == models["conditioned"].split_id
    with pytest.raises(InputError, match="another split"):
        run(replace(TINY, songs=40), models=models)


def test_a_real_song_measured_against_itself_from_symbols_and_audio() -> None:
    t = load_tradition(HAN)
    song = han_corpus(sorted(essen(("Chinese Han",)), key=lambda p: p.cid)[:3]).pieces[0]
    reference = Reference.build([song], tradition=t)
    short = span(song, skip_bars=0, bars=3)
    m = piece_metrics(short, tradition=t, mode=song.mode, reference=reference, audio=True, bpm=90)
    assert m["off_mode_share"] is not None and m["modal_error_audio_cents"] is not None
    assert m["modal_error_cents"] == pytest.approx(100 * m["off_mode_share"])  # 12-TET: on a degree or a semitone off
    assert m["modal_error_audio_cents"] == pytest.approx(m["modal_error_cents"], abs=3.0)  # the tracker's floor is ~1 cent
    assert m["cycle_crossings"] == 0.0 and m["ends_on_cycle"] == 1.0
    assert m["ornament_rate"] == 0.0 and m["ppl"] is not None and m["ppl"] > 1.0
    bars = len(song.bars())
    # Its own first cycles: the same form as far as they go, then one edit per missing bar (length-fair).
    assert m["structural_distance"] == pytest.approx((bars - 3) / bars)
    whole = piece_metrics(song, tradition=t, mode=song.mode, reference=reference)
    assert whole["structural_distance"] == 0.0
    off = replace(short, events=(Event("note", 8, 0, 3), *short.events[1:]))  # qingjue: off the five-degree mode
    share = piece_metrics(off, tradition=t, mode=song.mode, reference=None)["off_mode_share"]
    assert share is not None and share > 0


def test_repeated_cycles_count_exact_returns_up_to_eight_back() -> None:
    from ml.generation.evaluation import repeated_share

    assert repeated_share(["a", "b", "a", "c"]) == pytest.approx(1 / 3)  # the third cycle returns to the first
    assert repeated_share(["a", *"bcdefghi", "a"]) == 0.0  # nine back is too far
    assert repeated_share(["a", "a", "a"]) == 1.0 and repeated_share(["a"]) is None
