"""`ml.generation.piece`: a small network trained on exactly the works a piece derives from (the demo's
machine maker), and one piece from them, written as MIDI, WAV and metrics under the tradition's masks."""

from __future__ import annotations

import json
from pathlib import Path

import mido  # type: ignore[import-untyped]
import pytest

from core.cid import bytes_cid, file_cid
from core.errors import InputError
from ml.data.abc import music21_corpus_dir, read_collection
from ml.generation.encoding import NotEncodable, cycle_for_metre, encode_content
from ml.generation.lattice import LatticePiece
from ml.generation.model import ModelSize
from ml.generation.piece import PieceSettings, SmallModel, fit_on_works, make_piece
from ml.generation.train import TrainConfig
from ml.tradition import load_tradition

IRISH = load_tradition("irish_traditional")
TINY = SmallModel(ModelSize(n_layer=1, n_head=2, n_embd=16, block_size=64, dropout=0.0), TrainConfig(epochs=3))


@pytest.fixture(scope="module")
def airs() -> dict[int, tuple[bytes, LatticePiece]]:
    """The Essen Irish songs in 3/4 among the first ten, as the demo registers them: content and lattice piece."""
    out = {}
    for i, tune in enumerate(list(read_collection(music21_corpus_dir() / "essenFolksong" / "irl.abc"))[:10]):
        data = tune.text.encode()
        try:
            piece = encode_content(data, tradition=IRISH, cid=str(bytes_cid(data)))
        except NotEncodable:
            continue
        if piece.cycle == "air":
            out[i] = (data, piece)
    assert len(out) >= 3
    return out


@pytest.mark.parametrize(("tradition", "metre", "cycle"), [
    ("irish_traditional", "6/8", "jig"), ("irish_traditional", "3/4", "air"), ("irish_traditional", "9/8", "slip jig"),
    ("irish_traditional", "2/2", "reel"), ("chinese_pentatonic", "2/4", "yiban yiyan"), ("chinese_pentatonic", "3/8", None),
])
def test_a_metre_takes_the_cycle_with_its_own_beats_before_one_of_equal_length(tradition: str, metre: str,
                                                                               cycle: str | None) -> None:
    found = cycle_for_metre(load_tradition(tradition), metre)
    assert (found.name if found else None) == cycle


def test_a_piece_from_the_works_a_small_network_learned(tmp_path: Path, airs: dict[int, tuple[bytes, LatticePiece]]) -> None:
    pieces = [p for _, p in airs.values()]
    saved = fit_on_works(pieces, tradition=IRISH, size=TINY, path=tmp_path / "small.pt")
    assert set(saved.learned_from) == {p.cid for p in pieces} and saved.facts["validation_pieces"] == 0
    assert (tmp_path / "small.pt").exists()
    data = {w: d for w, (d, _) in airs.items()}
    cids = {w: bytes_cid(d) for w, d in data.items()}
    settings = PieceSettings(cycle="air", seconds=12.0, bpm=120.0, seed=3, prompt_bars=1, audio_metrics=False)
    result = make_piece(saved, IRISH, data, cids, settings=settings, out=tmp_path / "out", reference_pieces=pieces)
    m = result["metrics"]
    # The masks hold on every note: on the mode, legal intervals, nothing across a cycle boundary.
    assert (m["modal_error_cents"], m["off_mode_share"], m["interval_violations"], m["cycle_crossings"]) == (0.0, 0.0, 0.0, 0.0)
    assert m["ppl"] is not None and m["rhythm_dtw"] is not None  # the corpus metrics against the works themselves
    midi = mido.MidiFile(result["midi"])
    assert sum(msg.type == "note_on" and msg.velocity > 0 for msg in midi) == result["notes"] > 0
    assert result["midi_cid"] == str(file_cid(Path(result["midi"])))
    written = json.loads(Path(result["metrics_file"]).read_text())
    assert written["constraints"]["tradition"] == "irish_traditional" and written["constraints"]["cycle"] == "air"
    assert result["register"]["parameters"]["cycle"] == "air"
    again = make_piece(saved, IRISH, data, cids, settings=settings, out=tmp_path / "again", reference_pieces=pieces)
    assert again["midi_cid"] == result["midi_cid"]  # same model, works and seed: the same piece


def test_fit_refuses_works_of_another_tradition(airs: dict[int, tuple[bytes, LatticePiece]]) -> None:
    with pytest.raises(InputError, match=r"none of the .* works is encoded in chinese_pentatonic"):
        fit_on_works([p for _, p in airs.values()], tradition=load_tradition("chinese_pentatonic"), size=TINY)
