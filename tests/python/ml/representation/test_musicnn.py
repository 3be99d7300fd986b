"""The TF1 checkpoint reader on hand-built bundles, the musicnn port against a NumPy transcription of
musicnn/models.py in TF's layout, and the pretrained taggers on real FluidSynth renders."""

from __future__ import annotations

import shutil
import struct
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from core.errors import InputError, ModelError
from ml.representation import musicnn as M
from ml.representation.tf_checkpoint import TABLE_MAGIC, crc32c, mask_crc, read_checkpoint, read_index

Arrays = dict[str, NDArray[Any]]

# ---- a tiny tensor bundle, written by hand ----


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _pb_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""  # proto3 leaves zeros out


def _pb_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _block(entries: list[tuple[bytes, bytes]], restart_interval: int = 2) -> bytes:
    out, restarts, previous = bytearray(), [], b""
    for i, (key, value) in enumerate(entries):
        shared = 0
        if i % restart_interval == 0:
            restarts.append(len(out))
        else:
            while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
                shared += 1
        out += _varint(shared) + _varint(len(key) - shared) + _varint(len(value)) + key[shared:] + value
        previous = key
    return bytes(out) + b"".join(struct.pack("<I", r) for r in restarts or [0]) + struct.pack("<I", len(restarts or [0]))


def _table(blocks: list[list[tuple[bytes, bytes]]], *, compression: int = 0) -> bytes:
    buf = bytearray()

    def put(block: bytes) -> bytes:
        offset = len(buf)
        buf.extend(block + bytes([compression]) + struct.pack("<I", mask_crc(crc32c(block + bytes([compression])))))
        return _varint(offset) + _varint(len(block))

    index = [(entries[-1][0], put(_block(entries))) for entries in blocks]
    meta = put(_block([]))
    footer = meta + put(_block(index, restart_interval=1))
    return bytes(buf) + footer.ljust(40, b"\0") + struct.pack("<Q", TABLE_MAGIC)


TF_DTYPES = {np.dtype("<f4"): 1, np.dtype("<i8"): 9, np.dtype("<f2"): 19, np.dtype("<i4"): 3}


def write_bundle(prefix: Path, tensors: Arrays, *, compression: int = 0) -> None:
    """prefix.index + prefix.data-00000-of-00001, as TF's BundleWriter lays them out (two entries a data block)."""
    data, entries = bytearray(), [(b"", _pb_varint(1, 1) + _pb_bytes(3, _pb_varint(1, 1)))]
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name]).tobytes()
        shape = b"".join(_pb_bytes(2, _pb_varint(1, d)) for d in tensors[name].shape)
        entry = (_pb_varint(1, TF_DTYPES[tensors[name].dtype]) + _pb_bytes(2, shape) + _pb_varint(4, len(data))
                 + _pb_varint(5, len(raw)) + _varint(6 << 3 | 5) + struct.pack("<I", mask_crc(crc32c(raw))))
        entries.append((name.encode(), entry))
        data += raw
    blocks = [entries[i:i + 2] for i in range(0, len(entries), 2)]
    Path(f"{prefix}.index").write_bytes(_table(blocks, compression=compression))
    Path(f"{prefix}.data-00000-of-00001").write_bytes(bytes(data))


TENSORS: Arrays = {
    "layer/kernel": np.arange(6, dtype="<f4").reshape(2, 3) / 7,
    "layer/kernel/Adam": np.full((2, 3), -1.5, dtype="<f4"),
    "layer/bias": np.array([1.0, -2.0, 65504.0, 2**-24], dtype="<f2"),
    "global_step": np.array(123456789012, dtype="<i8"),
    "table/ids": np.array([[1, -2], [3, 2**31 - 1]], dtype="<i4"),
}


def test_crc32c_matches_the_castagnoli_check_value() -> None:
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"6789", crc32c(b"12345")) == 0xE3069283


def test_read_checkpoint_returns_every_tensor_with_its_shape_and_dtype(tmp_path: Path) -> None:
    write_bundle(tmp_path / "model.ckpt", TENSORS)
    shards, entries = read_index(tmp_path / "model.ckpt")
    got = read_checkpoint(tmp_path / "model.ckpt")
    assert shards == 1 and sorted(entries) == sorted(TENSORS) == sorted(got)
    for name, want in TENSORS.items():
        assert got[name].dtype == want.dtype and got[name].shape == want.shape
        np.testing.assert_array_equal(got[name], want)


def _flip_data(prefix: Path) -> None:
    path = Path(f"{prefix}.data-00000-of-00001")
    raw = bytearray(path.read_bytes())
    raw[5] ^= 1
    path.write_bytes(bytes(raw))


def _flip_index(prefix: Path) -> None:
    path = Path(f"{prefix}.index")
    raw = bytearray(path.read_bytes())
    raw[12] ^= 1
    path.write_bytes(bytes(raw))


def _snappy(prefix: Path) -> None:
    write_bundle(prefix, TENSORS, compression=1)


def _lose_shard(prefix: Path) -> None:
    Path(f"{prefix}.data-00000-of-00001").unlink()


def _not_a_table(prefix: Path) -> None:
    Path(f"{prefix}.index").write_bytes(b"\0" * 64)


@pytest.mark.parametrize(("damage", "expectation"), [
    (lambda prefix: None, nullcontext()),
    (_flip_data, pytest.raises(ModelError, match="fails its CRC-32C")),
    (_flip_index, pytest.raises(ModelError, match="CRC-32C does not match")),
    (_snappy, pytest.raises(ModelError, match="snappy")),
    (_lose_shard, pytest.raises(ModelError, match=r"shard .* is missing")),
    (_not_a_table, pytest.raises(ModelError, match="magic number")),
], ids=["intact", "data-bit-flipped", "index-bit-flipped", "snappy-block", "shard-missing", "not-a-table"])
def test_read_checkpoint_refuses_damaged_bundles(
    tmp_path: Path, damage: Callable[[Path], None], expectation: AbstractContextManager[Any],
) -> None:
    prefix = tmp_path / "model.ckpt"
    write_bundle(prefix, TENSORS)
    damage(prefix)
    with expectation:
        read_checkpoint(prefix)


# ---- the port's weight mapping and architecture, without the real weights ----

BN_SIZES = {"": 1, "_1": 204, "_2": 204, "_3": 51, "_4": 51, "_5": 51, "_6": 64, "_7": 64, "_8": 64, "_9": 1506, "_10": 200}
KERNELS = {"conv2d": (7, 38, 1, 204), "conv2d_1": (7, 67, 1, 204), "conv2d_2": (128, 1, 1, 51), "conv2d_3": (64, 1, 1, 51),
           "conv2d_4": (32, 1, 1, 51), "conv2d_5": (7, 561, 1, 64), "conv2d_6": (7, 64, 1, 64), "conv2d_7": (7, 64, 1, 64),
           "dense": (1506, 200), "dense_1": (200, 50)}
"""Every model variable of the MSD/MTT musicnn checkpoints in the 0.1.0 wheel, with its shape (read from their .index)."""


def checkpoint_like(seed: int = 0) -> Arrays:
    """Random variables named and shaped as musicnn's checkpoint, with Adam's slots beside them."""
    rng = np.random.default_rng(seed)
    out: Arrays = {}
    for suffix, n in BN_SIZES.items():
        scope = f"batch_normalization{suffix}"
        out |= {f"{scope}/gamma": rng.uniform(0.5, 1.5, n), f"{scope}/beta": rng.normal(0, 0.1, n),
                f"{scope}/moving_mean": rng.normal(0, 0.1, n), f"{scope}/moving_variance": rng.uniform(0.5, 2, n)}
    for scope, shape in KERNELS.items():
        fan_in = int(np.prod(shape[:-1]))
        out |= {f"{scope}/kernel": rng.normal(0, fan_in ** -0.5, shape), f"{scope}/bias": rng.normal(0, 0.1, shape[-1])}
    out = {k: v.astype(np.float32) for k, v in out.items()}
    out |= {f"{k}/Adam": v for k, v in out.items()} | {f"{k}/Adam_1": v for k, v in out.items()}
    return out | {"beta1_power": np.float32(0.9).reshape(()), "beta2_power": np.float32(0.999).reshape(())}


def tf_forward(v: Arrays, x: NDArray[np.float32]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """musicnn/models.py build_musicnn transcribed in NumPy on TF-layout (NHWC, HWIO) variables, one patch x (T, 96).

    Returns (logits (50,), penultimate (200,)).
    """
    def bn(h: NDArray[Any], scope: str) -> NDArray[Any]:
        s = f"batch_normalization{scope}/"
        return (h - v[s + "moving_mean"]) / np.sqrt(v[s + "moving_variance"] + 1e-3) * v[s + "gamma"] + v[s + "beta"]

    def conv(h: NDArray[Any], scope: str, time_pad: tuple[int, int]) -> NDArray[Any]:  # h (T, W, 1) → (T', W', out), 'valid'
        k = v[f"{scope}/kernel"]
        windows = sliding_window_view(np.pad(h[..., 0], (time_pad, (0, 0))), k.shape[:2])  # (T', W', kh, kw)
        return np.maximum(np.tensordot(windows, k[:, :, 0, :], axes=([2, 3], [0, 1])) + v[f"{scope}/bias"], 0)

    def same(kh: int) -> tuple[int, int]:  # TF 'SAME', stride 1: the extra padding goes after
        return (kh - 1) // 2, kh - 1 - (kh - 1) // 2

    h = bn(x.astype(np.float64)[:, :, None], "")  # (T, 96, 1)
    front = [bn(conv(h, "conv2d", (3, 3)), "_1").max(axis=1), bn(conv(h, "conv2d_1", (3, 3)), "_2").max(axis=1)]
    front += [bn(conv(h, f"conv2d_{i}", same(kh)), f"_{i + 1}").max(axis=1) for i, kh in ((2, 128), (3, 64), (4, 32))]
    f = np.concatenate(front, axis=1)  # (T, 561)
    m1 = bn(conv(f[:, :, None], "conv2d_5", (3, 3)), "_6")[:, 0, :]  # (T, 64), transposed back to (T, 64, 1) in TF
    m2 = bn(conv(m1[:, :, None], "conv2d_6", (3, 3)), "_7")[:, 0, :] + m1
    m3 = bn(conv(m2[:, :, None], "conv2d_7", (3, 3)), "_8")[:, 0, :] + m2
    feats = np.concatenate([f, m1, m2, m3], axis=1)  # (T, 753)
    flat = np.stack([feats.max(axis=0), feats.mean(axis=0)], axis=1).reshape(-1)  # concat on axis 2, then flatten
    pen = bn(np.maximum(bn(flat, "_9") @ v["dense/kernel"] + v["dense/bias"], 0), "_10")
    return pen @ v["dense_1/kernel"] + v["dense_1/bias"], pen


def test_port_takes_every_model_variable_once_and_fills_every_parameter() -> None:
    state = M.port_state_dict(checkpoint_like())
    model = M.Musicnn(M.MSD_LABELS)
    assert len(state) == 64 == len(model.state_dict())
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_port_refuses_a_variable_no_layer_takes() -> None:
    with pytest.raises(ModelError, match="conv2d_8/kernel"):
        M.port_state_dict(checkpoint_like() | {"conv2d_8/kernel": np.zeros((3, 3, 1, 8), np.float32)})


def test_port_matches_a_numpy_transcription_of_musicnn_in_tf_layout() -> None:
    variables = checkpoint_like(seed=1)
    model = M.Musicnn(M.MTT_LABELS)
    model.load_state_dict(M.port_state_dict(variables), strict=True)
    x = np.random.default_rng(2).uniform(0, 3, (2, 40, 96)).astype(np.float32)  # two patches of 40 frames
    with torch.inference_mode():
        out = model(torch.from_numpy(x))
    for i in range(2):
        logits, penultimate = tf_forward(variables, x[i])
        np.testing.assert_allclose(out.logits[i].numpy(), logits, rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(out.penultimate[i].numpy(), penultimate, rtol=1e-3, atol=1e-4)


# ---- the front end on synthetic signals ----

@pytest.mark.parametrize(("seconds", "sr", "segments"), [(10.0, 16000, 3), (10.0, 44100, 3), (1.0, 16000, 1), (6.0, 22050, 2)])
def test_patches_cut_3_second_segments(seconds: float, sr: int, segments: int) -> None:
    t = np.arange(int(seconds * sr)) / sr
    mel = M.log_mel(0.3 * np.sin(2 * np.pi * 440 * t), sr=sr)
    assert mel.shape == (1 + int(seconds * 16000) // M.HOP, 96) and mel.dtype == np.float32 and np.isfinite(mel).all()
    assert M.patches(mel).shape == (segments, M.PATCH_FRAMES, 96)


def test_log_mel_stays_finite_where_musicnn_float16_would_overflow() -> None:
    t = np.arange(16000) / 16000
    mel = M.log_mel(0.9 * np.sin(2 * np.pi * 110 * t), sr=16000)  # mel power ≫ 6.55: 10000·x overflows float16
    assert np.isfinite(mel).all() and mel.max() > 5


def test_log_mel_refuses_stereo() -> None:
    with pytest.raises(InputError, match="mono"):
        M.log_mel(np.zeros((16000, 2), np.float32), sr=16000)


# ---- the real checkpoints, through the wheel from PyPI ----

@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return M.fetch_wheel(tmp_path_factory.mktemp("musicnn-wheel"))
    except ModelError as e:
        pytest.skip(f"the musicnn wheel could not be downloaded from PyPI: {e}")


@pytest.fixture(scope="session")
def mtt(request: pytest.FixtureRequest) -> M.Musicnn:
    """The converted MTT tagger: from cache/models when there, else converted from the downloaded wheel."""
    if M.weights_path("MTT").is_file():
        return M.load("MTT")
    return M.load("MTT", wheel=request.getfixturevalue("wheel"))


def test_wheel_checkpoints_map_onto_the_port_exactly(wheel: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        z.extractall(tmp_path, [n for n in z.namelist() if n.startswith("musicnn/MSD_musicnn/.")])
    variables = read_checkpoint(tmp_path / "musicnn" / "MSD_musicnn")
    model_vars = {k: v for k, v in variables.items() if not k.endswith(("/Adam", "/Adam_1")) and not k.endswith("_power")}
    assert len(variables) == 150 and len(model_vars) == 64
    assert {k: v.shape for k, v in model_vars.items()} == {k: v.shape for k, v in checkpoint_like().items() if k in model_vars}
    assert sum(v.size for v in model_vars.values()) == 792_079
    M.Musicnn(M.MSD_LABELS).load_state_dict(M.port_state_dict(variables), strict=True)


FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


@pytest.fixture(scope="module")
def renders() -> dict[str, NDArray[np.float32]]:
    from ml.data.corpora import essen
    from ml.data.render import render

    if shutil.which("fluidsynth") is None:
        pytest.skip("FluidSynth is not installed: apt-get install fluidsynth")
    if not FLUIDR3.is_file():
        pytest.skip("FluidR3 GM soundfont missing: apt-get install fluid-soundfont-gm")
    tune = essen()[0].abc  # han1 #1: 22 s at 120 bpm
    return {program: render(tune, program=program, soundfont=FLUIDR3, sample_rate=16000) for program in ("piano", "violin", "flute")}


def reciprocal_rank(model: M.Musicnn, renders: dict[str, NDArray[np.float32]]) -> float:
    """Mean 1/rank of the instrument's own MTT tag among the 50, over the renders."""
    ranks = [list(M.tags(model, y, sr=16000)).index(program) + 1 for program, y in renders.items()]
    return float(np.mean([1 / r for r in ranks]))


def _interleave_lost(state: dict[str, torch.Tensor]) -> None:
    """Pooled features read as [max…, mean…] rather than TF's interleaved [max₀, mean₀, …]."""
    order = torch.cat([torch.arange(0, 1506, 2), torch.arange(1, 1506, 2)])
    for leaf in ("weight", "bias", "running_mean", "running_var"):
        state[f"pool_bn.{leaf}"] = state[f"pool_bn.{leaf}"][order]
    state["dense.weight"] = state["dense.weight"][:, order]


def _midend_transposed(state: dict[str, torch.Tensor]) -> None:
    """The square 64→64 mid-end kernels mapped with in and out swapped (shapes still fit)."""
    for block in ("midend_2", "midend_3"):
        state[f"{block}.conv.weight"] = state[f"{block}.conv.weight"].transpose(0, 1).contiguous()


def test_mtt_tags_name_the_rendered_instrument_and_mis_mapped_weights_do_not(
    mtt: M.Musicnn, renders: dict[str, NDArray[np.float32]],
) -> None:
    for program, y in renders.items():
        assert program in list(M.tags(mtt, y, sr=16000))[:3], f"{program} render: {list(M.tags(mtt, y, sr=16000))[:5]}"
    good = reciprocal_rank(mtt, renders)
    assert good > 0.6
    original = {k: v.clone() for k, v in mtt.state_dict().items()}
    try:
        for mis_map in (_interleave_lost, _midend_transposed):
            state = {k: v.clone() for k, v in original.items()}
            mis_map(state)
            mtt.load_state_dict(state)
            assert reciprocal_rank(mtt, renders) < good / 2, mis_map.__doc__
    finally:
        mtt.load_state_dict(original)


def test_embed_gives_one_row_per_3_second_segment(mtt: M.Musicnn, renders: dict[str, NDArray[np.float32]]) -> None:
    y = renders["piano"]
    segments = (1 + len(y) // M.HOP) // M.PATCH_FRAMES
    assert M.embed(mtt, y, sr=16000).shape == (segments, 200)
    pooled = M.embed(mtt, y, sr=16000, layer="max_pool")
    assert pooled.shape == (segments, 753) and pooled.dtype == np.float32
