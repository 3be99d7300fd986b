"""`heritage generate` on a real anvil: a piece conditioned on a registered ABC work is written as MIDI + WAV,
stored by CID and registered as its derivative; works that forbid ML use (or are restricted) are refused
before anything is generated or sent; a consent-required one leaves the piece pending."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mido  # type: ignore[import-untyped]
import pytest
from typer.testing import CliRunner

from chain.anvil import Anvil
from ml.generation.experiment import GenerationExperimentConfig, prepare, train_models
from ml.generation.lattice import HAN
from ml.generation.model import ModelSize
from ml.generation.train import TrainConfig


@pytest.fixture(scope="module")
def model_and_songs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A tiny conditioned model trained on 30 real songs (a stand-in: this is about the command, not the
    model's quality), and the ABC of three held-out songs."""
    cfg = GenerationExperimentConfig(songs=30, size=ModelSize(n_layer=1, n_head=2, n_embd=16, block_size=64, dropout=0.0),
                                     train=TrainConfig(epochs=1, batch_size=16))
    prep = prepare(cfg)
    folder = tmp_path_factory.mktemp("generation-model")
    train_models(prep, cfg, save_dir=folder)
    held_out = [prep.songs[p.cid or ""].abc for p in (*prep.test, *prep.validation)][:3]
    return folder / "generation-conditioned.pt", held_out


def test_generate_registers_the_piece_as_a_derivative_of_its_conditioning_work(tmp_path: Path, anvil: Anvil,
                                                                                model_and_songs: tuple[Path, list[str]]) -> None:
    from chain.client import connect
    from cli.main import app
    from core.blockstore import open_store
    from core.cid import file_cid, from_text
    from core.config import Settings
    from core.manifest import DerivativeManifest, ModelMaker, from_bytes
    from core.types import Cid

    model, songs = model_and_songs
    data = tmp_path / "data"
    env = {"HERITAGE_RPC_URL": anvil.url}

    def cli(*args: str, ok: bool = True) -> Any:
        result = CliRunner().invoke(app, [*args, "--data-dir", str(data), "--json"], env=env)
        if not ok:
            return result
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    community = cli("community", "register", "Han singers", "--steward", "1", "--treasury", "3")["community"]
    works = {}
    for name, song, protocol in zip(("open", "no-ml", "consent"), songs, ("open", "no-ml", "consent"), strict=True):
        (tmp_path / f"{name}.abc").write_text(song)
        works[name] = cli("work", "register", str(tmp_path / f"{name}.abc"), "--community", str(community), "--protocol", protocol,
                          "--from", "1")["work"]
    settings = Settings(data_dir=data, deployments_dir=data / "deployments", rpc_url=anvil.url)
    chain, store = connect(settings), open_store(settings)
    reg = chain.registry.functions
    steward = str(list(chain.w3.eth.accounts)[1])
    chain.send(reg.registerRestrictedWork(community, b"\x11" * 32, from_text(store.put_bytes(b"{}")), 0, 1, []), steward)
    restricted = int(reg.workCount().call())

    def generate(out: Path, *works_: int, ok: bool = True) -> Any:
        ids = [a for w in works_ for a in ("--conditioned-on", str(w))]
        return cli("generate", "--tradition", HAN, *ids, "--seconds", "6", "--model", str(model), "--out", str(out),
                   "--no-audio-metrics", "--from", "9", ok=ok)

    done = generate(tmp_path / "out", works["open"])
    assert not done["pending"] and not done["existing"] and done["parents"] == [works["open"]]
    work = int(done["work"])
    assert [int(p) for p in chain.router.functions.parentsOf(work).call()[0]] == [works["open"]]
    manifest = from_bytes(b"".join(store.cat(Cid(str(done["manifest_cid"])))))
    assert isinstance(manifest, DerivativeManifest) and isinstance(manifest.maker, ModelMaker)
    assert manifest.content_cid == done["midi_cid"] and manifest.renditions == {"audio/wav": done["wav_cid"]}
    abc_cid = file_cid(tmp_path / "open.abc")
    assert manifest.maker.model_cid == file_cid(model) and manifest.maker.inputs == (abc_cid,)
    assert manifest.maker.seed == 0 and manifest.maker.parameters["tradition"] == HAN
    assert manifest.maker.parameters["constraints"]["cycle_boundaries"] is True
    assert manifest.maker.metrics["cycle_crossings"] == 0.0 and manifest.maker.metrics["off_mode_share"] == 0.0
    midi = Path(done["midi"])
    assert b"".join(store.cat(Cid(done["midi_cid"]))) == midi.read_bytes()
    assert any(m.type == "pitchwheel" for m in mido.MidiFile(midi))  # exact pitch by per-note bends
    assert Path(done["wav"]).stat().st_size > 1000 and json.loads(Path(done["metrics_file"]).read_text())["metrics"]

    again = generate(tmp_path / "out", works["open"])
    assert again["existing"] and again["work"] == work  # the same seed, model and work: the same CIDs, nothing sent

    count = int(reg.workCount().call())
    for refused, reason in ((works["no-ml"], "forbids machine-learning use"), (restricted, "restricted")):
        result = generate(tmp_path / "refused", works["open"], refused, ok=False)
        assert result.exit_code != 0 and reason in " ".join(result.output.split())
        assert not (tmp_path / "refused").exists() and int(reg.workCount().call()) == count  # nothing generated or sent

    pending = generate(tmp_path / "consent", works["consent"])
    assert pending["pending"] and pending["awaiting"] == [{"work": pending["work"], "community": community}]
    chain.close()
