"""`heritage models register` on a real anvil: a shipped model is stored by CID, registered as a
machine-made derivative of the works it learned from and its training set anchored by community
count; a rerun sends nothing; a model whose training set holds a work that forbids ML use is
refused with nothing sent; a model the user trained registers from its file alone. And `heritage
generate` runs on the shipped network with no --model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chain.anvil import Anvil
from ml.data.corpora import essen
from ml.shipped import manifest


def test_models_register_anchors_the_training_set_once_and_refuses_a_forbidden_work(tmp_path: Path, anvil: Anvil,
                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from chain.client import connect
    from cli.main import app
    from core.config import Settings

    empty = tmp_path / "no-trained-models"
    empty.mkdir()
    monkeypatch.setenv("HERITAGE_MODELS_DIR", str(empty))
    data = tmp_path / "data"
    env = {"HERITAGE_RPC_URL": anvil.url}

    def cli(*args: str, ok: bool = True) -> Any:
        result = CliRunner().invoke(app, [*args, "--data-dir", str(data), "--json"], env=env)
        assert result.exit_code == 0 or not ok, result.output
        return json.loads(result.output) if result.exit_code == 0 else result

    songs = {p.cid: p.abc for p in essen()}
    generation = manifest.read("generation").manifest["training_set"]
    omr = manifest.read("omr").manifest["training_set"]
    forbidden = next(c for c in omr if c not in generation and c in songs)
    communities = [cli("community", "register", name, "--steward", "1", "--treasury", str(t))["community"]
                   for name, t in (("Han singers", 3), ("Han pipers", 4))]

    def register(cid: str, community: int, protocol: str) -> int:
        path = tmp_path / f"{cid}.abc"
        path.write_text(songs[cid])
        return int(cli("work", "register", str(path), "--community", str(community), "--protocol", protocol,
                       "--floor-ppm", "1000", "--from", "1")["work"])

    members = [register(c, communities[i % 2], "open") for i, c in enumerate(generation[:5])]
    register(forbidden, communities[0], "no-ml")

    settings = Settings(data_dir=data, deployments_dir=data / "deployments", rpc_url=anvil.url)
    chain = connect(settings)
    try:
        first = cli("models", "register", "--kind", "generation", "--from", "9")["models"]
        assert [r["status"] for r in first] == ["registered"]
        model = first[0]["work"]
        assert first[0]["members"] == 5 and first[0]["training_set"] == len(generation)
        assert first[0]["counts"] == {str(communities[0]): 3, str(communities[1]): 2}
        assert chain.registry.functions.ownerOf(model).call() == list(chain.w3.eth.accounts)[9]
        proof = cli("model", "prove", str(model), str(members[4]))
        assert proof["verified"]

        block = chain.w3.eth.block_number
        again = cli("models", "register", "--kind", "generation", "--from", "9")["models"]
        assert [(r["status"], r["sent"], r["work"]) for r in again] == [("already registered", False, model)]
        assert chain.w3.eth.block_number == block

        works = int(chain.registry.functions.workCount().call())
        refused = cli("models", "register", "--kind", "omr", "--from", "9")["models"]
        assert refused[0]["status"] == "refused" and "machine-learning" in refused[0]["reason"]
        assert int(chain.registry.functions.workCount().call()) == works and chain.w3.eth.block_number == block

        nothing = cli("models", "register", "--kind", "recognition", "--from", "9")["models"]
        assert all(r["status"] in {"no registered work", "registered"} for r in nothing)

        # A model the user trained (no manifest: described from the file) registers the same way;
        # a file that records no training set is refused, saying what to do.
        trained = tmp_path / "trained"
        trained.mkdir()
        shutil.copy(manifest.SHIPPED_DIR / "generation-unconditioned.pt", trained / "generation-unconditioned.pt")
        (trained / "multimodal.pt").write_bytes(b"not a model")
        mine = {r["kind"]: r for r in cli("models", "register", "--folder", str(trained), "--from", "9")["models"]}
        assert mine["generation-unconditioned"]["status"] == "registered" and mine["generation-unconditioned"]["members"] == 5
        assert mine["generation-unconditioned"]["work"] != model
        assert mine["multimodal"]["status"] == "refused" and "does not record what it learned from" in mine["multimodal"]["reason"]

        piece = cli("generate", "--tradition", "chinese_pentatonic", "--conditioned-on", str(members[0]), "--seconds", "6",
                    "--no-audio-metrics", "--no-register", "--out", str(tmp_path / "out"))
        assert piece["notes"] > 0 and Path(piece["midi"]).is_file()
    finally:
        chain.close()
