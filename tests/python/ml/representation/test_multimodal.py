"""The multimodal representation: its losses, the cached views, and a tiny trained model's uses."""

from __future__ import annotations

import json
import math
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]
import torch
from torch.nn import functional as F

from core.errors import InputError
from ml.data.render import both_families
from ml.generation.experiment import GenerationExperimentConfig, prepare
from ml.generation.lattice import COND_KINDS, HAN, Vocabulary
from ml.generation.songs import vocabulary
from ml.representation.multimodal import (
    MODEL_FILE,
    MultimodalConfig,
    MultimodalTrainConfig,
    SavedMultimodal,
    build_net,
    centroid,
    embed_views,
    fused,
    info_nce,
    load,
    train,
    triplet,
)
from ml.representation.multimodal_data import AudioSettings, LabelSpace, song_views
from ml.representation.multimodal_experiment import MultimodalExperimentConfig, run, write_report
from ml.representation.multimodal_query import archive_neighbour, infer_conditioning, nearest_other
from ml.tradition import load_tradition

TINY_AUDIO = AudioSettings(head_s=1.0, tail_s=1.0, n_mels=32, n_fft=1024, hop=512)
TINY_NET = MultimodalConfig(dim=16, audio_channels=(4, 8), token_embedding=8, token_hidden=8, context_embedding=8, max_tokens=64)
TINY = MultimodalExperimentConfig(songs=24, audio=TINY_AUDIO, net=TINY_NET,
                                  train=MultimodalTrainConfig(epochs=1, batch_size=8), ablations=("constraint",))


# --- Losses -------------------------------------------------------------------------------------------


def _unit(x: torch.Tensor) -> torch.Tensor:
    return F.normalize(x, dim=-1)


def test_info_nce_is_log_batch_for_uninformative_and_zero_for_aligned() -> None:
    g = torch.Generator().manual_seed(0)
    b = 16
    x, y = _unit(torch.randn(b, 4096, generator=g)), _unit(torch.randn(b, 4096, generator=g))
    assert float(info_nce(x, y, tau=1.0)) == pytest.approx(math.log(b), abs=0.05)
    aligned = torch.eye(b, 32)  # distinct one-hot rows
    assert float(info_nce(aligned, aligned, tau=0.01)) < 1e-6
    # several songs sharing one context: all of them are positives, so identical rows cost nothing
    keys = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    context = torch.eye(8, 32)[keys]
    same = keys[:, None] == keys[None, :]
    assert float(info_nce(context, context, tau=0.01, positives=same)) < 1e-6
    assert float(info_nce(context, context, tau=0.01)) == pytest.approx(math.log(2), abs=1e-3)  # without: ambiguous


def test_triplet_is_zero_when_positives_coincide_and_negatives_lie_beyond_the_margin() -> None:
    mode, province = torch.tensor([1, 1, 2, 2]), torch.tensor([3, 3, 3, 3])
    f = torch.eye(4, 8)[torch.tensor([0, 0, 1, 1])]  # same mode and province: one point; other mode: orthogonal (d = 2)
    assert float(triplet(f, mode=mode, province=province, margin=0.2)) == 0.0
    assert float(triplet(f, mode=mode, province=province, margin=2.5)) == pytest.approx(0.5)
    swapped = torch.eye(4, 8)[torch.tensor([0, 1, 0, 1])]  # positives apart, negatives together
    assert float(triplet(swapped, mode=mode, province=province, margin=0.2)) == pytest.approx(2.2)
    unknown = torch.zeros(4, dtype=torch.long)  # no anchor has a positive: nothing to learn from
    assert float(triplet(swapped, mode=mode, province=unknown, margin=0.2)) == 0.0


def test_centroid_is_zero_when_each_label_is_one_point_and_ignores_unknown() -> None:
    f = torch.eye(3, 4)[torch.tensor([0, 0, 1, 1, 2])]
    assert float(centroid(f, torch.tensor([1, 1, 2, 2, 0]), classes=3)) == 0.0
    assert float(centroid(f, torch.tensor([1, 2, 1, 2, 0]), classes=3)) == pytest.approx(0.5)  # ‖e0 − (e0 + e1)/2‖²
    assert float(centroid(f, torch.zeros(5, dtype=torch.long), classes=3)) == 0.0


# --- A tiny end-to-end run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tiny:
    report: dict[str, Any]
    model: SavedMultimodal
    cache: Path
    models: Path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    root = tmp_path_factory.mktemp("multimodal")
    stages: list[str] = []
    report = run(TINY, say=lambda s, d, t: stages.append(s), save_dir=root / "models", cache_dir=root / "cache")
    assert "training the multimodal network" in stages and "training without the constraint loss" in stages
    return Tiny(report, load(root / "models" / MODEL_FILE), root / "cache", root / "models")


def test_run_reports_every_measurement_and_writes_the_report(tiny: Tiny, tmp_path: Path) -> None:
    r = tiny.report
    assert r["songs"]["test"] >= 2 and r["render"]["rendered"] + r["render"]["from_cache"] == sum(r["songs"].values())
    retrieval = r["evaluation"]["retrieval"]["audio→symbolic"]
    assert retrieval["chance_r1"] == pytest.approx(1 / r["songs"]["test"]) and 1 <= retrieval["median_rank"] <= r["songs"]["test"]
    assert "ours, from audio" in r["evaluation"]["conditioning"]["mode"]["rows"]
    assert "MFCC nearest class mean (audio)" in r["evaluation"]["conditioning"]["mode"]["rows"]
    assert "symbolic features (current baseline)" in r["evaluation"]["archive"]["methods"]
    assert set(r["ablations"]) == {"constraint"} and r["model"]["parameters"] == tiny.model.net.n_params()
    paths = write_report(r, tmp_path)
    assert "## Cross-modal retrieval" in paths[1].read_text() and paths[2].stat().st_size > 0
    assert json.loads(paths[0].read_text())["split_id"] == r["split_id"] == tiny.model.split_id


def test_rendering_reads_the_cache_the_second_time(tiny: Tiny) -> None:
    prep = prepare(GenerationExperimentConfig(songs=TINY.songs, seed=TINY.seed))
    fonts = both_families("the test")
    kw: dict[str, Any] = {"songs": prep.songs, "tradition": load_tradition(HAN), "soundfont": fonts["FluidR3"],
                          "settings": TINY_AUDIO, "vocab": vocabulary(), "labels": LabelSpace.build(load_tradition(HAN)),
                          "max_tokens": TINY_NET.max_tokens, "cache_dir": tiny.cache}
    first, cached = song_views(prep.train[:3], **kw)
    assert cached == 3  # the run rendered them
    fresh = tiny.cache.parent / "fresh"
    again, none = song_views(prep.train[:3], **{**kw, "cache_dir": fresh})
    assert none == 0 and len(list(fresh.glob("*.npz"))) == 3
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.log_mel, b.log_mel)
        np.testing.assert_array_equal(a.chroma, b.chroma)
    longer, hits = song_views(prep.train[:1], **{**kw, "cache_dir": fresh, "settings": AudioSettings(head_s=1.5, tail_s=1.0,
                                                                                                     n_mels=32, n_fft=1024, hop=512)})
    assert hits == 0 and longer[0].log_mel.shape[1] > first[0].log_mel.shape[1]  # other settings, another entry


def test_audio_only_and_score_only_embed_in_one_space(tiny: Tiny) -> None:
    prep = prepare(GenerationExperimentConfig(songs=TINY.songs, seed=TINY.seed))
    m = tiny.model
    views, _ = song_views(prep.test, songs=prep.songs, tradition=load_tradition(HAN), soundfont=both_families("t")["TimGM6mb"],
                          settings=m.settings, vocab=m.vocab, labels=m.labels, max_tokens=m.net.cfg.max_tokens,
                          cache_dir=tiny.cache)
    e = embed_views(m.net, views)
    for use in (("audio",), ("symbolic",), ("audio", "symbolic")):
        z = fused(e, use)
        assert z.shape == (len(views), TINY_NET.dim)
        np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(fused(e, ("audio",)), e["audio"], rtol=1e-5)
    both = fused(e, ("audio", "symbolic"))  # between the two single-view embeddings
    assert np.all((both * e["audio"]).sum(1) >= (e["symbolic"] * e["audio"]).sum(1) - 1e-6)


def _wav(tmp_path: Path) -> Path:
    t = np.arange(int(1.5 * 22050)) / 22050
    y = 0.3 * np.sin(2 * np.pi * 392.0 * t) * (t < 0.75) + 0.3 * np.sin(2 * np.pi * 261.63 * t) * (t >= 0.75)
    path = tmp_path / "work.wav"
    sf.write(path, y.astype(np.float32), 22050)
    return path


def test_infer_conditioning_gives_tokens_the_lattice_vocabulary_knows(tiny: Tiny, tmp_path: Path) -> None:
    prep = prepare(GenerationExperimentConfig(songs=TINY.songs, seed=TINY.seed))
    vocab: Vocabulary = tiny.model.vocab
    score = prep.test[0]
    inputs: list[dict[str, Any]] = [{"audio": _wav(tmp_path)}, {"score": score}, {"audio": _wav(tmp_path), "score": score}]
    for kwargs in inputs:
        c = infer_conditioning(tiny.model, **kwargs)
        assert [t.split(":", 1)[0] for t in c.tokens] == list(COND_KINDS)
        assert all(t in vocab.index for t in c.tokens) and not any(t.endswith(":?") for t in c.tokens[:2])
        assert set(c.inferred) >= {"mode", "genre"} and 0 < c.inferred["mode"].confidence <= 1
        assert c.inferred["mode"].label in c.inferred["mode"].distances
    with_score = infer_conditioning(tiny.model, score=score, known={"genre": "Shange"})
    assert with_score.labels["cycle"] == score.cycle and "cycle" not in with_score.inferred  # the metre fixes it
    assert with_score.tokens[3] == "ctx:Shange" and "genre" not in with_score.inferred
    samples = infer_conditioning(tiny.model, audio=sf.read(_wav(tmp_path))[0], sample_rate=22050)
    assert samples.tokens == infer_conditioning(tiny.model, audio=_wav(tmp_path)).tokens


@pytest.mark.parametrize(("case", "expect"), [
    ("wav", nullcontext()),
    ("not audio", pytest.raises(InputError, match="could not be decoded")),
    ("missing", pytest.raises(InputError, match="does not exist")),
    ("nothing", pytest.raises(InputError, match="needs a recording")),
    ("bad label", pytest.raises(InputError, match="not in the model's labels")),
])
def test_infer_conditioning_inputs(tiny: Tiny, tmp_path: Path, case: str, expect: AbstractContextManager[Any]) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF not really a wave file")
    cases: dict[str, dict[str, Any]] = {"wav": {"audio": _wav(tmp_path)}, "not audio": {"audio": junk},
                                        "missing": {"audio": tmp_path / "absent.wav"}, "nothing": {},
                                        "bad label": {"audio": _wav(tmp_path), "known": {"mode": "lydian"}}}
    kwargs = cases[case]
    with expect:
        infer_conditioning(tiny.model, **kwargs)


def test_archive_neighbour_never_returns_the_query(tiny: Tiny) -> None:
    prep = prepare(GenerationExperimentConfig(songs=TINY.songs, seed=TINY.seed))
    pieces = [*prep.test, *prep.validation]
    nearest = archive_neighbour(tiny.model, pieces, songs=prep.songs, cache_dir=tiny.cache)
    assert len(nearest) == len(pieces) and all(j != i and pieces[j].cid != pieces[i].cid for i, j in enumerate(nearest))
    z = np.eye(3, 4, dtype=np.float32)[[0, 0, 1, 2]]  # two copies of one song: never each other's neighbour
    assert all(j not in (0, 1) for j in nearest_other(z, ["a", "a", "b", "c"])[:2])
    with pytest.raises(InputError, match="at least two distinct"):
        nearest_other(z[:2], ["a", "a"])


def test_saved_model_embeds_as_trained_and_training_is_deterministic(tiny: Tiny) -> None:
    prep = prepare(GenerationExperimentConfig(songs=TINY.songs, seed=TINY.seed))
    m = tiny.model
    kw: dict[str, Any] = {"songs": prep.songs, "tradition": load_tradition(HAN), "soundfont": both_families("t")["FluidR3"],
                          "settings": m.settings, "vocab": m.vocab, "labels": m.labels, "max_tokens": m.net.cfg.max_tokens,
                          "cache_dir": tiny.cache}
    views, _ = song_views(prep.train, **kw)
    nets = []
    for _ in range(2):
        net = build_net(TINY_NET, settings=m.settings, vocab=m.vocab, labels=m.labels, tradition=HAN)
        nets.append(train(views, [], net=net, cfg=TINY.train, labels=m.labels, seed=0).net)
    a, b = embed_views(nets[0], views), embed_views(nets[1], views)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    again = load(tiny.models / MODEL_FILE)
    np.testing.assert_array_equal(embed_views(again.net, views)["audio"], embed_views(m.net, views)["audio"])
    foreign = tiny.models / "foreign.pt"
    torch.save({"format": "something-else"}, foreign)
    with pytest.raises(InputError, match="not a multimodal model"):
        load(foreign)


# --- Its two uses in generation ----------------------------------------------------------------------


def test_the_archive_row_retrieves_by_the_multimodal_embedding_on_the_same_split(tiny: Tiny) -> None:
    from ml.generation.experiment import run as run_generation
    from ml.generation.model import ModelSize
    from ml.generation.train import TrainConfig

    cfg = GenerationExperimentConfig(songs=TINY.songs, seed=TINY.seed, pieces=2, seconds=6.0, audio_pieces=0, other_pieces=0,
                                     reference_pieces=10, size=ModelSize(n_layer=1, n_head=2, n_embd=16, block_size=64),
                                     train=TrainConfig(epochs=1, batch_size=16))
    report = run_generation(cfg, multimodal=tiny.model, multimodal_cache=tiny.cache)
    assert report["archive_by"].startswith("multimodal embedding") and report["split_id"] == tiny.model.split_id
    assert len(report["per_piece"][HAN]["archive"]) == 2
    with pytest.raises(InputError, match="another split"):
        run_generation(GenerationExperimentConfig(songs=(TINY.songs or 0) + 6, pieces=2, seconds=6.0, audio_pieces=0, other_pieces=0,
                                                  size=cfg.size, train=cfg.train), multimodal=tiny.model)


def test_a_recording_conditions_a_piece_through_the_multimodal_model(tiny: Tiny, tmp_path: Path) -> None:
    from core.cid import bytes_cid
    from ml.generation.model import ModelSize
    from ml.generation.piece import PieceSettings, SmallModel, fit_on_works, make_piece
    from ml.generation.train import TrainConfig

    prep = prepare(GenerationExperimentConfig(songs=TINY.songs, seed=TINY.seed))
    han = load_tradition(HAN)
    small = SmallModel(ModelSize(n_layer=1, n_head=2, n_embd=16, block_size=64, dropout=0.0), TrainConfig(epochs=1))
    saved = fit_on_works(list(prep.train)[:6], tradition=han, size=small)
    wav = _wav(tmp_path).read_bytes()
    song = prep.songs[prep.test[0].cid or ""].abc.encode()
    settings = PieceSettings(seconds=6.0, bpm=120.0, seed=1, prompt_bars=1, audio_metrics=False)
    with pytest.raises(InputError, match="heritage generation multimodal"):
        make_piece(saved, han, {1: wav}, {1: bytes_cid(wav)}, settings=settings, out=tmp_path / "refused")
    assert not (tmp_path / "refused").exists()  # refused before anything is written
    heard = make_piece(saved, han, {1: wav}, {1: bytes_cid(wav)}, settings=settings, out=tmp_path / "heard",
                       multimodal=tiny.model)
    labels = heard["recordings"]["1"]["labels"]
    assert heard["mode"] == labels["mode"] in [m.name for m in han.modes] and heard["cycle"] == han.cycles[0].name
    assert heard["metrics"]["off_mode_share"] == 0.0 and heard["register"]["parameters"]["recordings"]["1"]["labels"] == labels
    both = make_piece(saved, han, {1: wav, 2: song}, {1: bytes_cid(wav), 2: bytes_cid(song)}, settings=settings,
                      out=tmp_path / "both", multimodal=tiny.model)
    assert both["mode"] == prep.test[0].mode and set(both["recordings"]) == {"1"}  # the score's own mode comes first


def test_the_command_trains_reports_and_saves(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    result = CliRunner().invoke(app, ["generation", "multimodal", "--songs", "24", "--epochs", "1", "--no-ablations",
                                      "--no-protocols", "--models", str(tmp_path / "models"), "--cache", str(tmp_path / "cache"),
                                      "--out", str(tmp_path / "reports")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "models" / MODEL_FILE).exists() and (tmp_path / "reports" / "multimodal.md").exists()
    assert load(tmp_path / "models" / MODEL_FILE).split_id == prepare(GenerationExperimentConfig(songs=24)).split_id
