"""The recognition experiment end to end on a tiny real set: FluidSynth renders, both soundfont
families, both models, the report files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ml.recognition.dnn_hmm import DnnHmmConfig
from ml.recognition.experiment import ExperimentConfig, run, write_report
from ml.recognition.gmm_hmm import GmmHmmConfig

pytestmark = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not Path("/usr/share/sounds/sf2/TimGM6mb.sf2").exists(),
    reason="needs fluidsynth, fluid-soundfont-gm and timgm6mb-soundfont (apt-get install …)")


def test_tiny_experiment_writes_the_report(tmp_path: Path) -> None:
    cfg = ExperimentConfig(pieces=6, instruments=("flute", "bagpipe"), seconds=6.5, gmm=GmmHmmConfig(n_states=2, n_mix=1, n_iter=3),
                           dnn=DnnHmmConfig(hidden=(16,), epochs=1))
    stages: list[str] = []
    model_file = tmp_path / "model.pt"
    report = run(cfg, cache_dir=tmp_path / "cache", say=lambda stage, done, total: stages.append(stage), model_path=model_file)
    assert report["labels"] == ["bagpipe", "flute"] and report["pieces"]["train"] >= 3
    for model in ("GMM-HMM", "DNN-HMM"):
        other = report["results"][model]["test, other family (TimGM6mb)"]
        assert other["clips"] == 2 * report["pieces"]["test"] and 0 <= other["segment_error_rate"] <= 1
        assert sum(map(sum, other["confusion"])) == other["segments"]
    assert any(s.startswith("rendering") for s in stages) and "training DNN-HMM" in stages
    write_report(report, tmp_path / "reports")
    assert "| GMM-HMM | test, other family (TimGM6mb) |" in (tmp_path / "reports" / "recognition.md").read_text()
    assert json.loads((tmp_path / "reports" / "recognition.json").read_text())["split_id"] == report["split_id"]
    assert (tmp_path / "reports" / "recognition_confusion_dnn_hmm.png").read_bytes()[:4] == b"\x89PNG"
    again = run(cfg, cache_dir=tmp_path / "cache")  # from the cache: same clips, same figures
    assert again["results"]["GMM-HMM"]["test, other family (TimGM6mb)"]["confusion"] == \
        report["results"]["GMM-HMM"]["test, other family (TimGM6mb)"]["confusion"]

    # the saved model answers `heritage recognize` on a real file, and its CID is the file's
    from typer.testing import CliRunner

    from cli.main import app
    from core.cid import file_cid
    from ml.data.corpora import essen
    from ml.data.render import render, soundfonts

    assert report["model"]["cid"] == file_cid(model_file)
    import soundfile

    font = next(f for f in soundfonts() if f.family == "FluidR3")
    y = render(essen(("Chinese Han",))[0].abc, program="bagpipe", soundfont=font.path)
    wav = tmp_path / "bagpipe.wav"
    soundfile.write(wav, y, 22050)
    result = CliRunner().invoke(app, ["recognize", str(wav), "--model", str(model_file), "--json"])
    assert result.exit_code == 0, result.output
    segments = json.loads(result.stdout)
    assert segments and all(abs(sum(x["p"] for x in s["top"]) - 1) < 1e-6 for s in segments)


@pytest.mark.parametrize(("content", "message"), [(None, "no recognition model"), (b"not a model", "is not a recognition model")])
def test_bad_model_files(tmp_path: Path, content: bytes | None, message: str) -> None:
    from core.errors import InputError
    from ml.recognition.model import load

    path = tmp_path / "m.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load(path)
