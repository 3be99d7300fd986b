"""The VGGish-architecture embedder, the cluster scores and the t-SNE maps; the map experiment
end to end on a tiny real set."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from ml.representation.vggish import Vggish, VggishConfig, cluster_scores, train_vggish, tsne, vggish_patches


def test_patches_are_vggish_frames() -> None:
    y = np.sin(2 * np.pi * 440 * np.arange(48_000) / 48_000).astype(np.float32)  # 1 s at 48 kHz
    p = vggish_patches(y, 48_000)
    assert p.shape == (1, 96, 64) and p.dtype == np.float32
    band = int(np.argmax(p[0].mean(axis=0)))  # the loudest mel band holds 440 Hz
    assert 7 <= band <= 10  # HTK mel, 125–7,500 Hz in 64 bands: 440 Hz falls in band 8–9
    with pytest.raises(InputError, match="shorter than one"):
        vggish_patches(y[:8_000], 48_000)


def test_full_width_is_the_published_vggish() -> None:
    net = Vggish(10, VggishConfig(width=1.0))
    params = sum(p.numel() for p in net.embed.parameters()) + sum(p.numel() for p in net.features.parameters())
    assert 72_000_000 < params < 73_000_000  # VGGish: 72.1 M parameters
    assert [m.out_channels for m in net.features if hasattr(m, "out_channels")] == [64, 128, 256, 256, 512, 512]


def test_training_separates_two_timbres_and_scores_see_it() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.5, size=(60, 96, 64)).astype(np.float32)
    labels = ["low" if i % 2 == 0 else "high" for i in range(60)]
    for i in range(60):
        band = slice(5, 15) if i % 2 == 0 else slice(45, 55)
        x[i, :, band] += 3.0
    model = train_vggish(x[:40], labels[:40], VggishConfig(width=0.1, epochs=12, batch=8))
    z = model.embed(x[40:])
    assert z.shape == (20, 128)
    s = cluster_scores(z, labels[40:])
    assert s["silhouette"] > 0.3 and s["ami"] > 0.5
    shuffled = cluster_scores(z, list(rng.permutation(labels[40:])))
    assert shuffled["silhouette"] < s["silhouette"] and shuffled["ami"] < 0.3
    assert tsne(z, dims=3, perplexity=5).shape == (20, 3)
    with pytest.raises(InputError, match="the same vector"):
        tsne(np.ones((20, 4)), perplexity=5)
    with pytest.raises(InputError, match="perplexity"):
        tsne(z, perplexity=50)
    with pytest.raises(InputError, match="two labels"):
        train_vggish(x[:4], ["a"] * 4)
    with pytest.raises(InputError, match="at least two labels"):
        cluster_scores(z, ["a"] * 20)


@pytest.mark.skipif(shutil.which("fluidsynth") is None or not Path("/usr/share/sounds/sf2/TimGM6mb.sf2").exists(),
                    reason="needs fluidsynth, fluid-soundfont-gm and timgm6mb-soundfont (apt-get install …)")
def test_tiny_map_run_writes_the_report(tmp_path: Path) -> None:
    from ml.representation.maps import TRADITIONS, MapConfig, run, write_report

    cfg = MapConfig(per_tradition=8, seconds=3.0, vggish=VggishConfig(width=0.05, epochs=1), perplexity=5)
    def level(y: np.ndarray, sr: int) -> np.ndarray:
        return np.array([y.mean(), y.std(), np.abs(y).max()])

    report, spaces, items = run(cfg, cache_dir=tmp_path / "cache", extra={"level": level})
    assert {it.tradition for it in items} == set(TRADITIONS) and report["n"]["held_out"] == len(items)
    assert set(spaces) == {"MFCC statistics (baseline)", "VGGish trained here", "level"}
    for s in report["scores"].values():
        assert -1 <= s["tradition"]["silhouette"] <= 1 and -1 <= s["tradition"]["ami"] <= 1
    write_report(report, spaces, items, tmp_path / "reports")
    md = (tmp_path / "reports" / "embedding.md").read_text()
    assert "| VGGish trained here |" in md and "0.41 → 0.67" in md
    for png in ("embedding_tsne.png", "embedding_tsne_3d.png"):
        assert (tmp_path / "reports" / png).read_bytes()[:4] == b"\x89PNG"
