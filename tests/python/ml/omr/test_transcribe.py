"""Transcription: staves found on real engraved pages, tokens → MusicXML/MIDI, and `heritage transcribe` on anvil."""

from __future__ import annotations

import io
import json
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import mido
import numpy as np
import pytest
import torch
from music21 import converter
from PIL import Image

from chain.anvil import Anvil
from core.errors import InputError
from ml.data.corpora import essen
from ml.omr.augment import apply_augment, augment_params
from ml.omr.data import VOCABULARY, StaffImage, render_lines, symbols
from ml.omr.model import OmrConfig, SeedOmr, TrainedOmr
from ml.omr.saved import load, save
from ml.omr.transcribe import find_staves, midi_bytes, musicxml_bytes, read_image, skew_degrees, to_score

EVENTS = ("note", "rest", "tie", "tuplet", "bar")


def _tunes(n: int, *, min_lines: int = 1) -> list[list[StaffImage]]:
    out: list[list[StaffImage]] = []
    for piece in sorted(essen(), key=lambda p: p.cid):
        try:
            lines = render_lines(piece.abc, width_px=768)
        except InputError:
            continue
        if len(lines) >= min_lines:
            out.append(lines)
        if len(out) == n:
            return out
    raise AssertionError("not enough engravable Essen tunes")


def _page(lines: list[StaffImage], *, gap: int = 12, paper: int = 240) -> np.ndarray:
    width = max(line.image.shape[1] for line in lines) + 160
    page = np.full((sum(line.image.shape[0] + gap for line in lines) + 120, width), paper, dtype=np.uint8)
    y = 60
    for line in lines:
        h, w = line.image.shape
        page[y: y + h, 80: 80 + w] = np.minimum(line.image, paper)
        y += h + gap
    return page


@pytest.fixture(scope="module")
def tune() -> list[StaffImage]:
    return _tunes(1, min_lines=3)[0]


@pytest.mark.parametrize("angle", [0.0, 1.4, -2.5])
@pytest.mark.parametrize("scale", [1.0, 1.7])
def test_every_staff_of_a_scanned_looking_page_is_found_level_and_at_the_training_scale(tune: list[StaffImage], angle: float,
                                                                                          scale: float) -> None:
    page = _page(tune)
    with Image.fromarray(page) as im:
        turned = im.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=240)
        page = np.asarray(turned.resize((round(turned.width * scale), round(turned.height * scale))), dtype=np.uint8)
    params = augment_params(np.random.default_rng(3), strength=1.0)
    page = apply_augment(page, params.__class__(**{**params.__dict__, "rotation_deg": 0.0}))  # light, blur, noise, JPEG
    assert skew_degrees(page) == pytest.approx(angle, abs=0.2)
    staves = find_staves(page)
    assert len(staves) == len(tune)
    for staff, line in zip(staves, tune, strict=True):
        alone = find_staves(line.image)[0]  # the line as engraved for training (its staff smaller where notes reach far)
        assert staff.space == pytest.approx(alone.space * scale, rel=0.04)
        assert staff.image.shape[0] == 128
        assert staff.image.shape[1] == pytest.approx(alone.image.shape[1], rel=0.05)


def test_a_page_without_staves_is_refused() -> None:
    blank = np.full((300, 400), 250, dtype=np.uint8)
    blank[100:140, 50:300] = 0  # a block of ink, no lines
    with pytest.raises(InputError, match="no five-line staff"):
        find_staves(blank)


def test_tokens_become_musicxml_and_midi_that_read_back_to_the_same_events_and_bytes() -> None:
    for lines in _tunes(6):
        tokens = [list(line.tokens) for line in lines]
        score, ignored = to_score(tokens)
        assert ignored == 0
        xml = musicxml_bytes(score)
        assert xml == musicxml_bytes(to_score(tokens)[0])  # deterministic: the same CID every time
        assert midi_bytes(score) == midi_bytes(to_score(tokens)[0])
        back = symbols(converter.parse(xml.decode(), format="musicxml"))
        want = [t for line in tokens for t in line if t.startswith(EVENTS)]
        assert [t for t in back if t.startswith(EVENTS)] == want
        if not any(t.startswith("bar-repeat") for t in want):  # music21's MIDI plays repeats
            sounded = [n.pitch.midi for n in score.flatten().notes if n.tie is None or n.tie.type == "start"]
            midi = mido.MidiFile(file=io.BytesIO(midi_bytes(score)))
            assert [m.note for m in midi if m.type == "note_on" and m.velocity > 0] == sounded


@pytest.mark.parametrize(("tokens", "ignored", "problem"), [
    (["clef-G2", "time-2/4", "note-C5-quarter", "note-D5-quarter", "bar"], 0, nullcontext()),
    (["note-C5-quarter", "bar"], 0, nullcontext()),  # no clef: treble
    (["bar", "tie", "note-C5-half", "bar", "key+2", "note-F#4-half", "bar"], 2, nullcontext()),  # a barline and a tie first
    (["note-C5-quarter", "tie", "rest-quarter", "bar", "tuplet-3"], 1, nullcontext()),  # a tie into a rest; a dangling tuplet
    (["tuplet-3", "note-C5-eighth", "note-D5-eighth", "note-E5-eighth", "bar"], 0, nullcontext()),
    (["clef-G2", "bar", "key-1"], 1, pytest.raises(InputError, match="no notes or rests")),
    ([], 0, pytest.raises(InputError, match="no notes or rests")),
])
def test_a_readers_tokens_are_read_leniently(tokens: list[str], ignored: int, problem: AbstractContextManager[object]) -> None:
    with problem:
        score, n = to_score([tokens])
        assert n == ignored
        converter.parse(musicxml_bytes(score).decode(), format="musicxml")  # valid MusicXML
        if tokens[:1] == ["tuplet-3"]:
            assert sum(n.duration.quarterLength for n in score.flatten().notes) == pytest.approx(1.0)


def test_a_file_that_is_not_an_image_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "score.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(InputError, match="not an image"):
        read_image(bad)
    with pytest.raises(InputError, match="no image at"):
        read_image(tmp_path / "missing.png")


def _one_note_reader(path: Path) -> None:
    """A reader whose every frame is one note: a stand-in beside the trained one, so that this test is
    about the command, not the model's accuracy (that is the experiment's)."""
    cfg = OmrConfig(channels=(4, 8), hidden=8, layers=1)
    net = SeedOmr(cfg)
    with torch.no_grad():
        net.out.weight.zero_()
        net.out.bias.zero_()
        net.out.bias[VOCABULARY.ids["note-A4-whole"]] = 10.0
    save(path, TrainedOmr("seed", net, cfg), learned_from=["bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"],
         metrics={"clean_symbol_error_rate": 0.5})


def test_transcribe_registers_the_musicxml_as_a_derivative_of_the_scores_work(tmp_path: Path, anvil: Anvil,
                                                                               tune: list[StaffImage]) -> None:
    from typer.testing import CliRunner

    from chain.client import connect
    from cli.main import app
    from core.blockstore import open_store
    from core.cid import file_cid, from_text
    from core.config import Settings
    from core.manifest import DerivativeManifest, ModelMaker, from_bytes
    from core.types import Cid

    model = tmp_path / "omr.pt"
    _one_note_reader(model)
    assert load(model).metrics == {"clean_symbol_error_rate": 0.5}
    image = tmp_path / "score.png"
    buffer = io.BytesIO()
    Image.fromarray(_page(tune)).save(buffer, format="PNG")
    image.write_bytes(buffer.getvalue())
    data = tmp_path / "data"
    env = {"HERITAGE_RPC_URL": anvil.url}

    def invoke(*args: str) -> dict[str, object]:
        result = CliRunner().invoke(app, ["transcribe", str(image), "--model", str(model), "--out", str(tmp_path / "out"),
                                          *args, "--data-dir", str(data), "--json"], env=env)
        assert result.exit_code == 0, result.output
        payload: dict[str, object] = json.loads(result.output)
        return payload

    local = invoke("--no-register")
    assert local["staves"] == len(tune) and local["notes"] == len(tune)  # one whole note per staff
    assert local["musicxml_cid"] == file_cid(tmp_path / "out" / "score.musicxml")

    refused = CliRunner().invoke(app, ["transcribe", str(image), "--model", str(model), "--out", str(tmp_path / "out"),
                                       "--data-dir", str(data)], env=env)
    assert refused.exit_code != 0 and "not a registered work" in " ".join(refused.output.split())  # not on the chain yet

    settings = Settings(data_dir=data, deployments_dir=data / "deployments", rpc_url=anvil.url)
    chain = connect(settings)
    store = open_store(settings)
    reg, acct = chain.registry.functions, [str(a) for a in chain.w3.eth.accounts]
    chain.send(reg.registerCommunity("Score keepers", [acct[1]], 1, acct[3]), acct[0])
    community = int(reg.communityCount().call())
    score_cid = store.put_file(image)
    from chain import gateway as gw
    from chain.types import HeritageParams, Protocol, everything_to

    gw.register_heritage(chain, HeritageParams(community, from_text(score_cid), b"", Protocol(), everything_to(acct[3])),
                         sender=acct[1])
    score_work = int(reg.workByContent(from_text(score_cid)).call())

    done = invoke("--from", "9")
    assert done["parent"] == score_work and not done["pending"] and not done["existing"]
    work = int(str(done["work"]))
    assert [int(p) for p in chain.router.functions.parentsOf(work).call()[0]] == [score_work]
    manifest = from_bytes(b"".join(store.cat(Cid(str(done["manifest_cid"])))))
    assert isinstance(manifest, DerivativeManifest) and isinstance(manifest.maker, ModelMaker)
    assert manifest.content_cid == done["musicxml_cid"] and manifest.renditions == {"audio/midi": done["midi_cid"]}
    assert manifest.maker.model_cid == file_cid(model) and manifest.maker.inputs == (score_cid,)
    assert manifest.maker.parameters["image_cid"] == score_cid and manifest.maker.architecture == "omr/seed"
    assert b"".join(store.cat(Cid(str(done["midi_cid"])))) == (tmp_path / "out" / "score.mid").read_bytes()

    again = invoke("--from", "9")
    assert again["existing"] and again["work"] == work  # the same image and model: the same CIDs, nothing sent
    chain.close()
