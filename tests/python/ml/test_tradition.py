"""Tradition data files: every shipped file validates, cites the Scala archive faithfully, and the
helpers fold, snap and count as documented; broken files fail naming the field."""

from __future__ import annotations

import shutil
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from music21.scale import scala

from core.errors import InputError
from ml.tradition import TRADITIONS_DIR, load_tradition, read_tradition_file, traditions

REQUIRED = {"chinese_pentatonic", "javanese_slendro", "javanese_pelog", "andean_panpipe", "maqam_rast"}


def test_traditions_lists_the_required_files() -> None:
    assert REQUIRED <= set(traditions())


@pytest.mark.parametrize("tradition_id", traditions())
def test_every_shipped_file_loads(tradition_id: str) -> None:
    t = load_tradition(tradition_id)
    assert t.id == tradition_id and t.sources and t.modes and t.cycles and t.ornaments
    assert t.degrees[0].cents == 0 and all(d.cents < t.period_cents for d in t.degrees)


@pytest.mark.parametrize("tradition_id", traditions())
def test_scala_citations_match_the_archive_music21_bundles(tradition_id: str) -> None:
    spec = read_tradition_file(TRADITIONS_DIR / f"{tradition_id}.yaml")
    for source in spec.sources:
        if source.scala_file is not None:
            data = scala.parse(source.scala_file)  # type: ignore[no-untyped-call]
            assert data is not None, f"{source.scala_file} is not in music21's Scala archive"
            assert data.description.strip() == source.scala_description
    if spec.tuning.scala is not None:
        data = scala.parse(spec.tuning.scala.file)  # type: ignore[no-untyped-call]
        assert data.description.strip() == spec.tuning.scala.description
        archive = data.getCentsAboveTonic()  # degrees after the tonic, the period last
        ours = [d.cents for d in spec.tuning.degrees[1:]] + [spec.tuning.period_cents]
        np.testing.assert_allclose(ours, archive, atol=0.01)


def test_gamelan_tunings_are_not_equal_tempered() -> None:
    for tradition_id in ("javanese_slendro", "javanese_pelog"):
        cents = np.array([d.cents for d in load_tradition(tradition_id).degrees])
        assert np.max(np.abs(cents - 100 * np.round(cents / 100))) >= 20


def test_maqam_rast_has_neutral_third_and_seventh() -> None:
    rast = load_tradition("maqam_rast")
    assert {d.name: d.cents for d in rast.degrees}["sikah"] == 350
    assert {d.name: d.cents for d in rast.degrees}["awj"] == 1050


@pytest.mark.parametrize(
    ("tradition_id", "cents", "mode", "degree", "octave", "deviation"),
    [
        ("javanese_slendro", 1200.0, None, "1", 1, -8.0),  # stretched octave: 1208 cents
        ("javanese_slendro", -10.0, None, "1", 0, -10.0),
        ("javanese_slendro", 2430.0, None, "1", 2, 14.0),
        ("javanese_pelog", 530.0, None, "4", 0, -10.0),
        ("javanese_pelog", 1190.0 + 1200, None, "1", 2, -10.0),
        ("maqam_rast", 340.0, None, "sikah", 0, -10.0),
        ("chinese_pentatonic", 510.0, None, "qingjue", 0, 10.0),
        ("chinese_pentatonic", 510.0, "gong", "jue", 0, 110.0),  # the mode has no 500
    ],
)
def test_nearest_degree_folds_over_the_period(
    tradition_id: str, cents: float, mode: str | None, degree: str, octave: int, deviation: float
) -> None:
    t = load_tradition(tradition_id)
    nearest = t.nearest_degree(cents, mode=mode)
    assert (nearest.degree.name, nearest.octave) == (degree, octave)
    assert nearest.deviation_cents == pytest.approx(deviation)
    assert t.deviations([cents], mode=mode)[0] == pytest.approx(deviation)


def test_deviations_of_exact_scale_are_zero() -> None:
    for tradition_id in traditions():
        t = load_tradition(tradition_id)
        np.testing.assert_allclose(t.deviations(t.scale_cents(octaves=2)), 0, atol=1e-9)


def test_scale_cents_starts_a_mode_on_its_final() -> None:
    t = load_tradition("chinese_pentatonic")
    np.testing.assert_allclose(t.scale_cents("zhi"), [700, 900, 1200, 1400, 1600, 1900])
    np.testing.assert_allclose(t.scale_cents(), [0, 200, 400, 500, 700, 900, 1100, 1200])


@pytest.mark.parametrize(
    ("tradition_id", "a", "b", "mode", "steps", "allowed"),
    [
        ("chinese_pentatonic", 0, 1200, "gong", 5, True),  # an octave: the largest leap
        ("chinese_pentatonic", 0, 1400, "gong", 6, False),
        ("chinese_pentatonic", 900, 1200, "gong", 1, True),  # yu → gong above: one pentatonic step
        ("javanese_pelog", 950, 120, "pathet barang", -4, True),  # 7 → 2 below: pathet barang has no 1
        ("javanese_slendro", 0, 1208 + 231, None, 6, False),
        ("maqam_rast", 355, 0, "rast ascending", -2, True),  # a slightly high sikah still snaps to sikah
    ],
)
def test_steps_and_allowed_intervals(tradition_id: str, a: float, b: float, mode: str | None, steps: int, allowed: bool) -> None:
    t = load_tradition(tradition_id)
    assert t.steps_between(a, b, mode=mode) == steps
    assert t.interval_allowed(a, b, mode=mode) is allowed


@pytest.mark.parametrize(
    ("onset", "cycle_index", "beat", "strong", "strokes"),
    [
        (15.0, 0, 16, True, ("gong", "kenong")),  # the gong on the last beat
        (16.0, 1, 1, False, ()),
        (5.0, 0, 6, False, ("kempul",)),
        (7.5, 0, 8, False, ()),  # off the beat: no stroke, not strong
        (35.0, 2, 4, True, ("kenong",)),
    ],
)
def test_cycle_position_in_a_lancaran(onset: float, cycle_index: int, beat: int, strong: bool, strokes: tuple[str, ...]) -> None:
    position = load_tradition("javanese_pelog").cycle_position(onset, cycle="lancaran")
    assert (position.cycle_index, position.beat, position.strong, position.strokes) == (cycle_index, beat, strong, strokes)


def test_unknown_tradition_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"unknown tradition 'klezmer'.*javanese_pelog"):
        load_tradition("klezmer")


def test_unknown_mode_and_cycle_list_the_known_ones() -> None:
    t = load_tradition("javanese_slendro")
    with pytest.raises(InputError, match="pathet sanga"):
        t.mode("pathet lima")
    with pytest.raises(InputError, match="ladrang"):
        t.cycle_position(0.0, cycle="gangsaran")


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expectation"),
    [
        (None, None, nullcontext()),
        ("tuning.degrees.1.cents", -5, pytest.raises(InputError, match=r"field tuning\.degrees\.1\.cents")),
        ("tuning.degrees.2.cents", 100, pytest.raises(InputError, match=r"field tuning: .*must rise strictly")),
        ("tuning.period_cents", 900, pytest.raises(InputError, match="below period_cents")),
        ("modes.0.degrees", ["1", "9"], pytest.raises(InputError, match=r"names degrees \['9'\]")),
        ("cycles.0.strong_positions", [0, 17], pytest.raises(InputError, match=r"field cycles\.0.*1\.\.16")),
        ("ornaments.0.rate_hz", [7, 4], pytest.raises(InputError, match=r"field ornaments\.0.*low ≤ high")),
        ("ornaments.0.kind", "wobble", pytest.raises(InputError, match=r"field ornaments\.0\.kind")),
        ("tuning", _DELETE, pytest.raises(InputError, match=r"field tuning: Field required")),
        ("tuning.source", "nobody", pytest.raises(InputError, match="not the id of an entry in sources")),
        ("id", "pelog_two", pytest.raises(InputError, match="must equal the file name")),
        ("tempo", 120, pytest.raises(InputError, match=r"field tempo: Extra inputs")),
    ],
)
def test_invalid_file_names_the_field(tmp_path: Path, path: str | None, value: Any, expectation: AbstractContextManager[Any]) -> None:
    data = yaml.safe_load((TRADITIONS_DIR / "javanese_pelog.yaml").read_text(encoding="utf-8"))
    if path is not None:
        _set(data, path, value)
    (tmp_path / "javanese_pelog.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with expectation:
        assert load_tradition("javanese_pelog", directory=tmp_path).degrees[3].cents == 540


def test_broken_yaml_is_an_input_error(tmp_path: Path) -> None:
    shutil.copy(TRADITIONS_DIR / "maqam_rast.yaml", tmp_path / "maqam_rast.yaml")
    (tmp_path / "maqam_rast.yaml").write_text("id: maqam_rast\nname: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        load_tradition("maqam_rast", directory=tmp_path)


def test_a_new_tradition_is_a_new_file(tmp_path: Path) -> None:
    data = yaml.safe_load((TRADITIONS_DIR / "javanese_slendro.yaml").read_text(encoding="utf-8"))
    data["id"] = "sundanese_test"
    (tmp_path / "sundanese_test.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert traditions(directory=tmp_path) == ["sundanese_test"]
    assert load_tradition("sundanese_test", directory=tmp_path).period_cents == 1208
