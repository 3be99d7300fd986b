"""The recognition experiment end to end on a tiny real set: FluidSynth renders, both soundfont
families, both models, the report files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chain.anvil import Anvil
from ml.recognition.autoencoder import AutoencoderConfig
from ml.recognition.dnn_hmm import DnnHmmConfig
from ml.recognition.experiment import VARIANTS, ExperimentConfig, choose_pieces, run, write_report
from ml.recognition.gmm_hmm import GmmHmmConfig
from ml.recognition.transfer import CnnConfig

pytestmark = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not Path("/usr/share/sounds/sf2/TimGM6mb.sf2").exists(),
    reason="needs fluidsynth, fluid-soundfont-gm and timgm6mb-soundfont (apt-get install …)")


TINY = ExperimentConfig(pieces=6, instruments=("flute", "bagpipe"), seconds=6.5, gmm=GmmHmmConfig(n_states=2, n_mix=1, n_iter=3),
                        dnn=DnnHmmConfig(hidden=(16,), epochs=1),
                        autoencoder=AutoencoderConfig(hidden=(32,), bottleneck=6, pretrain_epochs=1, finetune_epochs=1),
                        cnn=CnnConfig(channels=(4, 4, 8, 8), penultimate=8, epochs=1), source_instruments=("piano", "violin"))


@pytest.mark.skipif(not Path("/usr/share/sonic-pi/samples/loop_tabla.flac").exists(),
                    reason="needs the tabla recordings: apt-get install sonic-pi-samples")
def test_tiny_experiment_writes_the_report(tmp_path: Path, anvil: Anvil) -> None:
    cfg = TINY
    stages: list[str] = []
    model_file, cnn_file = tmp_path / "model.pt", tmp_path / "cnn.pt"
    report = run(cfg, cache_dir=tmp_path / "cache", say=lambda stage, done, total: stages.append(stage), model_path=model_file,
                 cnn_path=cnn_file)
    assert report["labels"] == ["bagpipe", "flute", "tabla"] and report["pieces"]["train"] >= 3
    assert list(report["results"]) == list(VARIANTS)
    for model in VARIANTS:
        other = report["results"][model]["test, other family (TimGM6mb)"]
        assert other["clips"] == 3 * report["pieces"]["test"] and 0 <= other["segment_error_rate"] <= 1
        assert sum(map(sum, other["confusion"])) == other["segments"]
        loop = report["results"][model]["tabla loop (real performance)"]
        assert loop["clips"] == 1 and loop["segments"] == 3  # 10.7 s of a real performance: three 3-s segments
        assert report["results"][model]["train_seconds"] > 0 and report["results"][model]["peak_rss_mb"] > 100
    assert any(s.startswith("rendering") for s in stages) and "training DNN-HMM" in stages
    assert "training the source-task CNN" in stages and "training AE-supervised + GMM-HMM" in stages
    write_report(report, tmp_path / "reports")
    md = (tmp_path / "reports" / "recognition.md").read_text()
    assert "| GMM-HMM | test, other family (TimGM6mb) |" in md
    assert "| AE-supervised features vs MFCC, recognition accuracy | +3.46 % |" in md
    assert "| mid+high |" in md and "not consulted" in md
    assert json.loads((tmp_path / "reports" / "recognition.json").read_text())["split_id"] == report["split_id"]
    for png in ("recognition_confusion_dnn_hmm.png", "recognition_errors.png", "recognition_confusion_cnn_transfer_mid_high_svm.png"):
        assert (tmp_path / "reports" / png).read_bytes()[:4] == b"\x89PNG", png
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

    # Registered as a derivative of the works it learned from, once those works are on the chain.
    _register_model_on_chain(tmp_path, anvil, model_file, cnn_file, report)


def _register_model_on_chain(tmp_path: Path, anvil: Anvil, model_file: Path, cnn_file: Path, report: dict[str, object]) -> None:
    from typer.testing import CliRunner

    from chain import gateway as gw
    from chain.catalogue import load as load_catalogue
    from chain.client import connect
    from chain.types import HeritageParams, Protocol, everything_to
    from cli.main import app
    from core.blockstore import open_store
    from core.cid import file_cid, from_text
    from core.config import Settings
    from core.manifest import DerivativeManifest, ModelMaker, from_bytes
    from core.types import Ppm
    from ml.data.corpora import essen

    data = tmp_path / "data"
    settings = Settings(data_dir=data, deployments_dir=data / "deployments", rpc_url=anvil.url)
    chain = connect(settings)
    store = open_store(settings)
    reg, acct = chain.registry.functions, [str(a) for a in chain.w3.eth.accounts]
    env = {"HERITAGE_RPC_URL": anvil.url}
    invoke = lambda *args: CliRunner().invoke(app, [*args, "--data-dir", str(data), "--json"], env=env)  # noqa: E731

    learned = report["learned_from"]
    assert isinstance(learned, list)
    result = invoke("recognition", "register", "--model", str(model_file), "--report", str(tmp_path / "reports" / "recognition.json"))
    assert result.exit_code != 0 and "register the source works first" in result.output  # nothing on the chain yet

    by_cid = {p.cid: p for p in essen(("Chinese Han",))}
    chain.send(reg.registerCommunity("Han singers", [acct[1]], 1, acct[3]), acct[0])
    community = int(reg.communityCount().call())
    batch = []
    for cid in learned:
        content = store.put_bytes(by_cid[cid].abc.encode())
        assert content == cid  # a piece's CID is its ABC text's: the same work, found by content
        # A floor low enough for every learned-from work's effective share (v2: per root).
        batch.append(HeritageParams(community, from_text(content), b"", Protocol(floor_ppm=Ppm(1_000)), everything_to(acct[3])))
    gw.register_heritage_batch(chain, batch, sender=acct[1])

    result = invoke("recognition", "register", "--model", str(model_file), "--report", str(tmp_path / "reports" / "recognition.json"),
                    "--from", "9")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["model_cid"] == file_cid(model_file) and not out["pending"] and not out["existing"]
    ancestors = load_catalogue(chain.index()).ancestors(out["work"])
    assert {int(reg.workByContent(from_text(c)).call()) for c in learned} <= set(ancestors)
    manifest = from_bytes(b"".join(store.cat(out["manifest_cid"])))
    assert isinstance(manifest, DerivativeManifest) and isinstance(manifest.maker, ModelMaker)
    assert manifest.maker.inputs == tuple(sorted(learned)) and manifest.maker.architecture == "heritage-ledger/timbre-dnn-hmm/1"
    assert set(manifest.maker.metrics) == {"cross_family_segment_error_rate", "cross_family_clip_error_rate"}
    assert manifest.maker.parameters["labels"] == ["bagpipe", "flute", "tabla"]
    again = invoke("recognition", "register", "--model", str(model_file), "--from", "9")
    assert again.exit_code == 0 and json.loads(again.stdout)["existing"] is True
    cnn = invoke("recognition", "register", "--model", str(cnn_file), "--from", "9")
    assert cnn.exit_code == 0, cnn.output
    assert json.loads(cnn.stdout)["work"] != out["work"]
    chain.close()


def test_protocols_leave_forbidden_songs_out_before_anything_is_read() -> None:
    from ml.data.training import Source

    train, _, _, _, refused = choose_pieces(6, 0)
    forbidden = train[0].cid
    train2, _, test2, _, refused2 = choose_pieces(6, 0, source=lambda p: Source(p.cid, ml_allowed=p.cid != forbidden, work_id=7))
    assert refused == [] and [r.cid for r in refused2] == [forbidden] and refused2[0].work_id == 7
    assert forbidden not in {p.cid for p in train2 + test2}


@pytest.mark.parametrize(("content", "message"), [(None, "no recognition model"), (b"not a model", "is not a recognition model")])
def test_bad_model_files(tmp_path: Path, content: bytes | None, message: str) -> None:
    from core.errors import InputError
    from ml.recognition.model import load

    path = tmp_path / "m.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load(path)
