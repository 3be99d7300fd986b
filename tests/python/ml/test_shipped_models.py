"""The small default models shipped in models/ (issue 23): each one loads and answers on a fresh clone
(no cache/models: HERITAGE_MODELS_DIR points to an empty folder), through the commands' own
defaults, and its manifest names the very weights beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]
from PIL import Image
from typer.testing import CliRunner

from core.cid import bytes_cid, file_cid
from ml.data.corpora import essen
from ml.defaults import SHIPPED_DIR, default_model
from ml.shipped import manifest
from ml.shipped.build_experiment import RECIPES, load

KINDS = [k for r in RECIPES.values() for k in r.kinds]


@pytest.fixture(autouse=True)
def fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No user-trained model anywhere: only the shipped ones can answer."""
    empty = tmp_path / "no-trained-models"
    empty.mkdir()
    monkeypatch.setenv("HERITAGE_MODELS_DIR", str(empty))
    return empty


def cli(*args: str) -> Any:
    from cli.main import app

    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("kind", KINDS)
def test_each_shipped_model_is_the_default_and_its_manifest_names_its_weights(kind: str) -> None:
    s = manifest.read(kind)
    assert default_model(kind) == s.weights and s.weights.parent.is_relative_to(SHIPPED_DIR)
    assert s.manifest["cid"] == str(file_cid(s.weights)) and s.cid_matches
    assert s.manifest["bytes"] == s.weights.stat().st_size
    assert s.manifest["training_set"] == manifest.training_set(s.weights) and s.manifest["training_set"]
    assert s.manifest["metrics"] and s.manifest["seeds"] and s.manifest["versions"]["torch"]
    assert s.manifest["threads"]["torch_intra_op"] == 1
    load(kind, s.weights)


def test_a_changed_weights_file_no_longer_matches_its_manifest(tmp_path: Path) -> None:
    s = manifest.read("omr")
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / s.weights.name).write_bytes(s.weights.read_bytes() + b"\0")
    manifest.manifest_path(folder / s.weights.name).write_text(json.dumps(s.manifest))
    assert not manifest.read("omr", folder).cid_matches
    assert [m.kind for m in manifest.shipped(folder)] == ["omr"]


def test_shipped_models_are_small() -> None:
    total = sum(p.stat().st_size for p in SHIPPED_DIR.rglob("*") if p.is_file())
    assert total < 20e6


def _held_out_song() -> str:
    training = {c for s in manifest.shipped() for c in s.manifest["training_set"]}  # heard by no shipped model
    han = sorted(essen(("Chinese Han",)), key=lambda p: p.cid)
    return next(p.abc for p in han if p.cid not in training)


def test_recognize_and_classify_a_rendered_clip_with_the_shipped_models(tmp_path: Path) -> None:
    from ml.data.render import both_families, render

    font = both_families("the shipped models' test")["FluidR3"].path
    y = render(_held_out_song(), program="flute", soundfont=font, tempo_bpm=100)[: 22050 * 9]
    wav = tmp_path / "flute.wav"
    sf.write(wav, y, 22050)
    segments = cli("recognize", str(wav))
    assert segments and all(len(s["top"]) == 3 for s in segments)
    assert "flute" in {t["instrument"] for s in segments for t in s["top"]}
    dist = cli("classify", str(wav))
    assert set(dist) == {"tradition"}
    assert sum(dist["tradition"].values()) == pytest.approx(1.0, abs=1e-6)


def test_transcribe_a_rendered_staff_with_the_shipped_reader(tmp_path: Path) -> None:
    from ml.omr.data import render_lines

    line = render_lines(_held_out_song(), width_px=1024)[0]
    image = tmp_path / "staff.png"
    Image.fromarray(np.asarray(line.image, dtype=np.uint8)).save(image)
    out = cli("transcribe", str(image), "--no-register", "--out", str(tmp_path / "out"))
    assert out["staves"] == 1 and out["notes"] > 0
    assert Path(out["musicxml"]).is_file() and Path(out["midi"]).is_file()


def test_generate_a_short_piece_with_the_shipped_network(tmp_path: Path) -> None:
    from ml.generation.lattice import HAN
    from ml.generation.piece import PieceSettings, make_piece_from_works
    from ml.generation.train import load
    from ml.tradition import load_tradition

    song = _held_out_song().encode()
    saved = load(default_model("generation"))
    settings = PieceSettings(seconds=6.0, seed=3, audio_metrics=False)
    result = make_piece_from_works(saved, load_tradition(HAN), {1: song}, {1: bytes_cid(song)}, settings=settings,
                                   out=tmp_path, multimodal_path=tmp_path / "none.pt")
    assert result["notes"] > 0 and Path(result["midi"]).is_file()


def test_models_list_checks_every_cid_and_build_refuses_an_unknown_recipe() -> None:
    from cli.main import app

    listed = cli("models", "list")["models"]
    assert sorted(r["kind"] for r in listed) == sorted(KINDS) and all(r["cid_matches"] for r in listed)
    result = CliRunner().invoke(app, ["models", "build", "--only", "midigan", "--json"])
    assert result.exit_code != 0 and "unknown model midigan" in result.output
