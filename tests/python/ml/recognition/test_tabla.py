"""Real tabla strokes (Debian's sonic-pi-samples): the split by sample file and the rhythms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from ml.recognition.tabla import SAMPLES_DIR, tabla_clip, tabla_clips, tabla_files, tabla_loop

pytestmark = pytest.mark.skipif(not (SAMPLES_DIR / "loop_tabla.flac").exists(),
                                reason="needs the tabla recordings: apt-get install sonic-pi-samples")


def test_split_holds_out_one_take_of_every_repeated_stroke() -> None:
    sp = tabla_files()
    assert not set(sp.train) & set(sp.test)
    assert {p.stem for p in sp.test} == {"tabla_ghe8", "tabla_ke3", "tabla_tas3", "tabla_te2", "tabla_tun3"}
    assert len(sp.train) + len(sp.test) == len(list(SAMPLES_DIR.glob("tabla_*.flac")))
    assert sp.loop.name == "loop_tabla.flac" and sp.loop not in sp.train + sp.test


def test_clips_are_deterministic_rhythms_of_the_given_strokes() -> None:
    sp = tabla_files()
    a = tabla_clip(sp.test, seed=3, seconds=4.0)
    assert a.shape == (4 * 22_050,) and a.dtype == np.float32
    assert np.isclose(np.abs(a).max(), 1.0)
    assert np.array_equal(a, tabla_clip(sp.test, seed=3, seconds=4.0))
    assert not np.array_equal(a, tabla_clip(sp.test, seed=4, seconds=4.0))
    train, test = tabla_clips(sp.train, 2, seconds=3.0, salt="train"), tabla_clips(sp.train, 2, seconds=3.0, salt="test")
    assert not np.array_equal(train[0], test[0])
    # onsets: a rhythm has many strokes, so the envelope rises many times
    env = np.abs(a).reshape(-1, 441).max(axis=1)
    assert np.sum((env[1:] > 0.3) & (env[:-1] < 0.15)) >= 4
    loop = tabla_loop(sp)
    assert 10 < len(loop) / 22_050 < 11


def test_missing_package_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="apt-get install sonic-pi-samples"):
        tabla_files(tmp_path)
    with pytest.raises(InputError, match="at least one stroke"):
        tabla_clip([], seed=0, seconds=1.0)
