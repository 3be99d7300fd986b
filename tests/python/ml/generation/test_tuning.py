"""The generator's Pareto tuning: the soft mask, a tiny study on a tiny model (stored, resumed, the
default first), the rule and the report, which shares reports/tuning.md with the economy's."""

from __future__ import annotations

import json
import math
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

from cli.main import app
from core.errors import InputError
from core.sections import replace_section
from ml.data.corpora import essen
from ml.generation import tuning, tuning_report
from ml.generation.decode import SampleConfig
from ml.generation.encoding import encode_content
from ml.generation.lattice import HAN
from ml.generation.model import ModelSize
from ml.generation.piece import SmallModel, fit_on_works
from ml.generation.train import TrainConfig
from ml.tradition import load_tradition


@pytest.fixture(scope="module")
def st() -> tuning.Stage:
    t = load_tradition(HAN)
    songs = [encode_content(s.abc.encode(), tradition=t, cid=s.cid)
             for s in sorted(essen(("Chinese Han",)), key=lambda p: p.cid)[:6]]
    small = SmallModel(ModelSize(n_layer=1, n_head=2, n_embd=16, block_size=64, dropout=0.0), TrainConfig(epochs=1))
    saved = fit_on_works(songs[:4], tradition=t, size=small)
    return tuning.stage(saved, "tiny", tradition=t, train=songs[:4], validation=songs[4:], split_id="works",
                        settings=tuning.Settings(pieces=2, seconds=9.0))


def test_the_stage_refuses_a_model_of_another_split(st: tuning.Stage) -> None:
    with pytest.raises(InputError, match="another split"):
        tuning.stage(st.saved, "tiny", tradition=st.tradition, train=st.songs, validation=st.songs, split_id="other",
                     settings=st.settings)


def test_a_huge_soft_mask_is_the_hard_mask_and_none_lets_off_mode_notes_in(st: tuning.Stage) -> None:
    hard = tuning.evaluate(st, SampleConfig())
    assert hard["modal_error_cents"] == 0.0
    assert tuning.evaluate(st, SampleConfig(mask_strength=1e9)) == hard
    loose = tuning.evaluate(st, SampleConfig(mask_strength=0.0, temperature=2.0))["off_mode_share"]
    assert loose is not None and loose > 0  # the tiny network does play off the mode when nothing stops it
    with pytest.raises(InputError, match="mask_strength"):
        tuning.evaluate(st, SampleConfig(mask_strength=-1.0))


def test_tiny_study_is_stored_resumed_and_reported(st: tuning.Stage, tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    study = tuning.run_study(st, 2, db, seed=1)
    first = study.trials[0]
    assert first.params == {"temperature": 1.0, "top_k": 0, "mask_strength": 32.0, "ornament_bias": 0.0}
    again = tuning.run_study(st, 3, db, seed=1)
    assert len(again.trials) == 3 and again.trials[0].values == first.values  # resumed, not restarted
    default = tuning.evaluate(st, SampleConfig())
    fr = tuning.front(again, default)
    assert len(fr.rows) == 3 and any(r["on_front"] for r in fr.rows)
    assert all(set(tuning.OBJECTIVES) <= set(r) for r in fr.rows)
    out = tmp_path / "r"
    out.mkdir()
    (out / "tuning.md").write_text("# Tuning the value chain: the recommender's Pareto front\n\neconomy table\n")
    meta = {"command": "x", "trials": 3, "sampler": "nsga2", "seed": 1, "model": "tiny", "pieces": 2,
            "seconds_per_piece": 9.0, "bpm": 80.0, "prompt_bars": 2, "seconds": 3.0, "seconds_per_trial": 1.0,
            "when": "now", "optuna": optuna.__version__}
    tuning_report.write(fr, meta, out)
    tuning_report.write(fr, meta, out)  # rewritten in place, not appended twice
    text = (out / "tuning.md").read_text()
    assert "economy table" in text and text.count(tuning_report.HEADING) == 1 and "default (same run)" in text
    assert json.loads((out / "tuning_generation.json").read_text())["rule"] == tuning.RULE
    assert (out / "tuning_generation.png").stat().st_size > 1000


def _trial(values: list[float]) -> optuna.trial.FrozenTrial:
    fd, idist = optuna.distributions.FloatDistribution, optuna.distributions.IntDistribution
    return optuna.trial.create_trial(
        params={"temperature": 1.0, "top_k": 0, "mask_strength": 4.0, "ornament_bias": 0.0}, values=values,
        distributions={"temperature": fd(0.5, 1.5), "top_k": idist(0, 40, step=5), "mask_strength": fd(0.25, 32, log=True),
                       "ornament_bias": fd(-3, 3)})


def test_the_rule_and_what_beats_the_default() -> None:
    study = optuna.create_study(directions=list(tuning.DIRECTIONS))
    study.add_trials([_trial([0.0, 0.30, 0.40, 100.0]),  # 0: ties modal error, better elsewhere: beats, not strictly
                      _trial([30.0, 0.10, 0.10, 50.0]),  # 1: best elsewhere but 30 cents off: not eligible
                      _trial([4.0, 0.25, 0.45, 90.0]),  # 2: within 5 cents, lowest mean ratio: chosen
                      _trial([9.0, 0.50, 0.60, 150.0])])  # 3: worse on everything (off the front)
    default = {"modal_error_cents": 0.0, "rhythm_dtw": 0.35, "structural_distance": 0.45, "ppl": 110.0}
    fr = tuning.front(study, default)
    assert fr.chosen is not None and fr.chosen["trial"] == 2
    assert fr.beats_default == [0] and fr.strictly_better == []
    assert not next(r for r in fr.rows if r["trial"] == 3)["on_front"]
    assert "Not strictly" in tuning_report.markdown(fr, {"command": "x", "trials": 4, "sampler": "nsga2", "seed": 0,
                                                         "model": "m", "pieces": 1, "seconds_per_piece": 6.0, "bpm": 80.0,
                                                         "prompt_bars": 2, "seconds": 1.0, "seconds_per_trial": 0.2,
                                                         "when": "now", "optuna": "5"})
    assert math.isinf(tuning._values({**default, "ppl": None})[3])  # an unmeasurable piece is never on a front


def test_replace_section_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "t.md"
    replace_section(path, "# B\n\nb1\n")
    replace_section(path, "# A\n\na1\n## sub\n")
    replace_section(path, "# B\n\nb2\n")
    assert path.read_text() == "# B\n\nb2\n\n# A\n\na1\n## sub\n"


def test_cli_refuses_an_unknown_sampler() -> None:
    bad = CliRunner().invoke(app, ["tune", "generation", "--sampler", "grid"])
    assert bad.exit_code == 2 and "nsga2 or tpe" in bad.output


def test_cli_runs_a_tiny_study_on_the_shipped_model_and_writes_its_section(tmp_path: Path) -> None:
    args = ["tune", "generation", "--trials", "2", "--pieces", "1", "--seconds", "6", "--data-dir", str(tmp_path / "d"),
            "--out", str(tmp_path / "r"), "--json"]
    ok = CliRunner().invoke(app, args)
    assert ok.exit_code == 0, ok.output
    report = json.loads((tmp_path / "r" / "tuning_generation.json").read_text())
    assert len(report["trials"]) == 2 and report["default"]["modal_error_cents"] == 0.0
    assert (tmp_path / "d" / "tuning" / "generation.db").is_file()
    assert tuning_report.HEADING in (tmp_path / "r" / "tuning.md").read_text()
