"""musicnn (Pons & Serra, 2019) in PyTorch, with the pretrained MSD and MTT taggers' own weights.

The PyPI wheel `musicnn==0.1.0` (ISC licence, Music Technology Group, UPF) ships TF1 checkpoints
and TensorFlow code; its metadata pins numpy < 1.17, so it is never imported here. Instead
`prepare()` downloads the wheel once (`python -m pip download musicnn==0.1.0 --no-deps`, checked
against WHEEL_SHA256), reads its checkpoints with `tf_checkpoint.read_checkpoint` and writes
`cache/models/musicnn-{msd,mtt}.pt` (tensors, labels and provenance only; `torch.load(weights_only=True)`).
`load()` calls it when the file is missing. Nothing needs TensorFlow.

The port follows musicnn/models.py `build_musicnn` (and the graph in the checkpoint's .meta):

- input (B, 187, 96) log-mel patch → batch norm (1 channel)
- front end, each conv → ReLU → batch norm → max over frequency:
  timbral 204 filters of 7×38 and 7×67 (time padded 3+3, 'valid'), temporal 51 filters of
  128×1, 64×1, 32×1 (TF 'same': the odd padding sample goes after) → concat (B, 561, T)
- mid end: three 7-tap convs of 64 filters across all channels (time padded 3+3), ReLU, batch norm,
  the 2nd and 3rd residual → concat with the front end: (B, 753, T)
- back end: max and mean over time, interleaved per channel as TF's flatten of (753, 2) does →
  batch norm (1506) → dense 200 + ReLU → batch norm = "penultimate" → dense 50 → sigmoid.

Batch norm uses the checkpoint's moving statistics with TF's epsilon 1e-3 and never updates; dropout
is the identity at inference. Front end as musicnn/extractor.py: 16 kHz mono, librosa mel power
(n_fft 512, hop 256, 96 bands, Slaney), `.astype(float16)`, log10(10000·x + 1), cut into
non-overlapping 187-frame (3 s) patches, a trailing partial patch dropped.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import librosa
import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn

from core.errors import InputError, ModelError
from core.paths import REPO_ROOT
from ml.representation.tf_checkpoint import read_checkpoint

Dataset = Literal["MSD", "MTT"]
Layer = Literal["penultimate", "max_pool", "mean_pool"]

SAMPLE_RATE = 16000
N_FFT = 512
HOP = 256
N_MELS = 96
PATCH_FRAMES = 187
"""librosa.time_to_frames(3 s) + 1, as musicnn's extractor computes it: one 3-s patch."""

WHEEL = "musicnn==0.1.0"
WHEEL_SHA256 = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa"
FORMAT = "musicnn-port/1"
MODELS_DIR = REPO_ROOT / "cache" / "models"

MTT_LABELS = ("guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast", "piano", "ambient",
              "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male", "singing", "vocals", "no vocals",
              "harpsichord", "loud", "quiet", "flute", "woman", "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man",
              "classic", "choir", "voice", "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello", "no voice",
              "weird", "country", "metal", "female voice", "choral")
MSD_LABELS = ("rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock", "jazz",
              "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow", "electronica",
              "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic",
              "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country", "easy listening", "sexy",
              "catchy", "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb", "indie pop", "sad", "House", "happy")
LABELS: dict[str, tuple[str, ...]] = {"MSD": MSD_LABELS, "MTT": MTT_LABELS}
"""Tag order of each model's 50 outputs (musicnn/configuration.py)."""


@dataclass(frozen=True)
class MusicnnConfig:
    """The released models' sizes (build_musicnn with num_filt_midend=64, num_units_backend=200)."""

    n_mels: int = N_MELS
    timbral_filters: int = 204  # int(1.6 · 128)
    temporal_filters: int = 51  # int(1.6 · 32)
    midend_filters: int = 64
    backend_units: int = 200
    n_tags: int = 50


# ---- the model ----

class FrozenBatchNorm(nn.Module):
    """TF inference batch norm on dim 1: γ·(x − moving_mean)/√(moving_variance + ε) + β; never updates."""

    running_mean: torch.Tensor
    running_var: torch.Tensor

    def __init__(self, channels: int, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.weight * torch.rsqrt(self.running_var + self.eps)
        shift = self.bias - self.running_mean * scale
        view = (1, -1) + (1,) * (x.dim() - 2)
        return x * scale.view(view) + shift.view(view)


class FrontEndBlock(nn.Module):
    """Conv over the spectrogram → ReLU → batch norm → max over all frequencies: (B, 1, T, F) → (B, filters, T)."""

    def __init__(self, filters: int, kernel: tuple[int, int], time_pad: tuple[int, int]) -> None:
        super().__init__()
        self.time_pad = time_pad
        self.conv = nn.Conv2d(1, filters, kernel)
        self.bn = FrozenBatchNorm(filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (0, 0, *self.time_pad))  # (B, 1, T + pads, F)
        h: torch.Tensor = self.bn(F.relu(self.conv(x)))  # (B, filters, T, F')
        return h.amax(dim=3)  # (B, filters, T)


class MidEndBlock(nn.Module):
    """7-tap conv across every channel → ReLU → batch norm: (B, C, T) → (B, filters, T)."""

    def __init__(self, channels: int, filters: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, filters, 7)
        self.bn = FrozenBatchNorm(filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h: torch.Tensor = self.bn(F.relu(self.conv(F.pad(x, (3, 3)))))  # (B, filters, T)
        return h


@dataclass(frozen=True)
class MusicnnOutput:
    """One forward pass; rows are patches."""

    logits: torch.Tensor  # (B, n_tags)
    penultimate: torch.Tensor  # (B, 200): musicnn's 'penultimate' (batch-normed dense layer)
    max_pool: torch.Tensor  # (B, 753): musicnn's 'max_pool' (front + mid end, max over time)
    mean_pool: torch.Tensor  # (B, 753): musicnn's 'mean_pool'


class Musicnn(nn.Module):
    """musicnn's build_musicnn, inference only. Input (B, T, 96) log-mel patches (T = 187 for 3 s)."""

    def __init__(self, labels: tuple[str, ...], cfg: MusicnnConfig = MusicnnConfig()) -> None:
        super().__init__()
        if len(labels) != cfg.n_tags:
            raise InputError(f"musicnn has {cfg.n_tags} outputs but {len(labels)} labels were given")
        self.labels = labels
        t, s, m = cfg.timbral_filters, cfg.temporal_filters, cfg.midend_filters
        self.input_bn = FrozenBatchNorm(1)
        self.timbral_74 = FrontEndBlock(t, (7, int(0.4 * cfg.n_mels)), (3, 3))
        self.timbral_77 = FrontEndBlock(t, (7, int(0.7 * cfg.n_mels)), (3, 3))
        self.temporal_128 = FrontEndBlock(s, (128, 1), (63, 64))
        self.temporal_64 = FrontEndBlock(s, (64, 1), (31, 32))
        self.temporal_32 = FrontEndBlock(s, (32, 1), (15, 16))
        front = 2 * t + 3 * s
        self.midend_1 = MidEndBlock(front, m)
        self.midend_2 = MidEndBlock(m, m)
        self.midend_3 = MidEndBlock(m, m)
        pooled = 2 * (front + 3 * m)
        self.pool_bn = FrozenBatchNorm(pooled)
        self.dense = nn.Linear(pooled, cfg.backend_units)
        self.dense_bn = FrozenBatchNorm(cfg.backend_units)
        self.output = nn.Linear(cfg.backend_units, cfg.n_tags)

    def forward(self, x: torch.Tensor) -> MusicnnOutput:
        x = self.input_bn(x.unsqueeze(1))  # (B, 1, T, 96)
        blocks = (self.timbral_74, self.timbral_77, self.temporal_128, self.temporal_64, self.temporal_32)
        front = torch.cat([block(x) for block in blocks], dim=1)  # (B, 561, T)
        mid1 = self.midend_1(front)  # (B, 64, T)
        mid2 = self.midend_2(mid1) + mid1
        mid3 = self.midend_3(mid2) + mid2
        features = torch.cat([front, mid1, mid2, mid3], dim=1)  # (B, 753, T)
        max_pool, mean_pool = features.amax(dim=2), features.mean(dim=2)  # (B, 753) each
        pooled = torch.stack([max_pool, mean_pool], dim=2).flatten(1)  # (B, 1506): max₀, mean₀, max₁, …
        penultimate = self.dense_bn(F.relu(self.dense(self.pool_bn(pooled))))  # (B, 200)
        return MusicnnOutput(self.output(penultimate), penultimate, max_pool, mean_pool)


# ---- checkpoint variable names → module state ----

LAYERS: tuple[tuple[str, str, str], ...] = (
    ("batch_normalization", "input_bn", "bn"),
    ("conv2d", "timbral_74.conv", "conv2d"), ("batch_normalization_1", "timbral_74.bn", "bn"),
    ("conv2d_1", "timbral_77.conv", "conv2d"), ("batch_normalization_2", "timbral_77.bn", "bn"),
    ("conv2d_2", "temporal_128.conv", "conv2d"), ("batch_normalization_3", "temporal_128.bn", "bn"),
    ("conv2d_3", "temporal_64.conv", "conv2d"), ("batch_normalization_4", "temporal_64.bn", "bn"),
    ("conv2d_4", "temporal_32.conv", "conv2d"), ("batch_normalization_5", "temporal_32.bn", "bn"),
    ("conv2d_5", "midend_1.conv", "conv1d"), ("batch_normalization_6", "midend_1.bn", "bn"),
    ("conv2d_6", "midend_2.conv", "conv1d"), ("batch_normalization_7", "midend_2.bn", "bn"),
    ("conv2d_7", "midend_3.conv", "conv1d"), ("batch_normalization_8", "midend_3.bn", "bn"),
    ("batch_normalization_9", "pool_bn", "bn"),
    ("dense", "dense", "dense"), ("batch_normalization_10", "dense_bn", "bn"),
    ("dense_1", "output", "dense"),
)
"""(TF variable scope, port module, kind), in graph order. tf.compat.v1.layers numbers its layers per type as created."""

BN_NAMES = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}


def _is_optimizer_state(name: str) -> bool:
    """Adam's slots (…/Adam, …/Adam_1) and its beta powers: saved with the model but not part of it."""
    return name in ("beta1_power", "beta2_power") or name.endswith(("/Adam", "/Adam_1"))


def _convert(kind: str, leaf: str, value: NDArray[np.generic]) -> tuple[str, torch.Tensor]:
    if kind == "bn":
        return BN_NAMES[leaf], torch.from_numpy(value)
    if leaf == "bias":
        return "bias", torch.from_numpy(value)
    if kind == "conv2d":  # TF HWIO (time, freq, in, out) → torch OIHW
        return "weight", torch.from_numpy(np.ascontiguousarray(value.transpose(3, 2, 0, 1)))
    if kind == "conv1d":  # TF (7, channels, 1, out): a 2-D kernel spanning every channel → torch (out, channels, 7)
        return "weight", torch.from_numpy(np.ascontiguousarray(value[:, :, 0, :].transpose(2, 1, 0)))
    return "weight", torch.from_numpy(np.ascontiguousarray(value.T))  # dense: TF (in, out) → torch (out, in)


def port_state_dict(variables: Mapping[str, NDArray[np.generic]]) -> dict[str, torch.Tensor]:
    """Map a musicnn checkpoint's variables onto `Musicnn`'s state dict, each variable used exactly once.

    Raises ModelError naming any model variable that no layer takes (optimizer state is skipped by name).
    Shapes are checked by `load_state_dict` (strict): every parameter and buffer must be filled.
    """
    scopes = {scope: (module, kind) for scope, module, kind in LAYERS}
    state: dict[str, torch.Tensor] = {}
    leftover = []
    for name, value in variables.items():
        if _is_optimizer_state(name):
            continue
        scope, _, leaf = name.rpartition("/")
        if scope not in scopes:
            leftover.append(name)
            continue
        module, kind = scopes[scope]
        key, tensor = _convert(kind, leaf, value)
        state[f"{module}.{key}"] = tensor.to(torch.float32)
    if leftover:
        raise ModelError(f"checkpoint variables {sorted(leftover)} belong to no layer of the port: not a musicnn (MSD/MTT) checkpoint")
    return state


# ---- weights: from the wheel, once ----

def weights_path(dataset: Dataset, *, models_dir: Path = MODELS_DIR) -> Path:
    return models_dir / f"musicnn-{dataset.lower()}.pt"


def fetch_wheel(dest: Path) -> Path:
    """Download the musicnn wheel from PyPI into dest with this interpreter's pip (`convert` checks its SHA-256)."""
    cmd = [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "--only-binary=:all:", "-d", str(dest), "-q"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ModelError(f"could not run `pip download {WHEEL}`: {e}; download the wheel by hand and pass it as wheel=") from e
    wheels = sorted(dest.glob("musicnn-0.1.0-*.whl"))
    if done.returncode != 0 or not wheels:
        raise ModelError(f"`pip download {WHEEL}` failed ({done.stderr.strip()[-500:]}); PyPI must be reachable, "
                         "or download the wheel elsewhere and pass it as wheel=")
    return wheels[0]


def convert(wheel: Path, dataset: Dataset) -> dict[str, object]:
    """Read `{dataset}_musicnn` from the musicnn wheel (or an unpacked copy's folder) into the .pt payload."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest() if wheel.is_file() else None
    if digest is not None and digest != WHEEL_SHA256:
        raise ModelError(f"{wheel} has SHA-256 {digest}, not musicnn 0.1.0's {WHEEL_SHA256}: refusing to convert it")
    with tempfile.TemporaryDirectory() as tmp:
        if wheel.is_file():
            folder = Path(tmp) / "ckpt"
            folder.mkdir()
            with zipfile.ZipFile(wheel) as z:
                for suffix in (".index", ".data-00000-of-00001"):
                    (folder / suffix).write_bytes(z.read(f"musicnn/{dataset}_musicnn/{suffix}"))
        else:
            folder = wheel / f"{dataset}_musicnn"
        variables = read_checkpoint(folder)
    state = port_state_dict(variables)
    Musicnn(LABELS[dataset]).load_state_dict(state, strict=True)  # every parameter filled, nothing left over
    return {"format": FORMAT, "dataset": dataset, "labels": list(LABELS[dataset]), "source": f"{WHEEL} {dataset}_musicnn",
            "wheel_sha256": digest or "", "state_dict": state}


def prepare(*, models_dir: Path = MODELS_DIR, wheel: Path | None = None) -> dict[str, Path]:
    """Write musicnn-msd.pt and musicnn-mtt.pt from the wheel (downloaded from PyPI unless given). Returns their paths."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = wheel or fetch_wheel(Path(tmp))
        out = {}
        for dataset in ("MSD", "MTT"):
            path = weights_path(dataset, models_dir=models_dir)
            with tempfile.NamedTemporaryFile(dir=models_dir, suffix=".partial", delete=False) as f:
                torch.save(convert(source, dataset), f)
            Path(f.name).replace(path)  # atomic: a concurrent load sees the old file or the whole new one
            out[dataset] = path
    return out


def load(dataset: Dataset = "MSD", *, models_dir: Path = MODELS_DIR, wheel: Path | None = None) -> Musicnn:
    """The pretrained tagger in eval mode, converting the wheel's checkpoint first if its .pt is missing."""
    if dataset not in LABELS:
        raise InputError(f"unknown musicnn dataset {dataset!r}: use 'MSD' (Million Song Dataset) or 'MTT' (MagnaTagATune)")
    path = weights_path(dataset, models_dir=models_dir)
    if not path.is_file():
        prepare(models_dir=models_dir, wheel=wheel)
    saved = torch.load(path, weights_only=True)
    if saved.get("format") != FORMAT or saved.get("dataset") != dataset:
        raise ModelError(f"{path} is not a {dataset} musicnn port ({FORMAT}): delete it and it will be converted again")
    model = Musicnn(tuple(saved["labels"]))
    model.load_state_dict(saved["state_dict"], strict=True)
    return model.eval()


# ---- inference ----

def log_mel(y: NDArray[np.floating], *, sr: int) -> NDArray[np.float32]:
    """musicnn's input representation of mono audio y, shape (n,), at sr Hz → (frames, 96) float32.

    Resampled to 16 kHz (librosa, soxr_hq), mel power spectrogram with reflect padding (the librosa
    < 0.9 default musicnn was trained with), rounded to float16 as musicnn does, then log10(10000·x + 1)
    computed in float32 (musicnn computes it in float16, which overflows to inf above x ≈ 6.55).
    """
    if y.ndim != 1 or y.size == 0:
        raise InputError(f"musicnn needs mono audio of shape (n,), got shape {y.shape}: average the channels first")
    audio = np.asarray(y, dtype=np.float32)
    if sr != SAMPLE_RATE:
        audio = librosa.resample(audio, orig_sr=sr, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    mel = librosa.feature.melspectrogram(y=audio, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, pad_mode="reflect").T
    half = np.minimum(mel, np.finfo(np.float16).max).astype(np.float16)  # (frames, 96), musicnn's precision
    return np.asarray(np.log10(10000 * half.astype(np.float32) + 1), dtype=np.float32)


def patches(mel: NDArray[np.float32]) -> NDArray[np.float32]:
    """Non-overlapping 187-frame patches of mel (frames, 96) → (segments, 187, 96).

    As musicnn's batch_data: a trailing partial patch is dropped. Audio shorter than one patch
    (3 s) is repeated to fill it (musicnn's training 'repeat-pad'; its extractor fails instead).
    """
    if mel.shape[0] < PATCH_FRAMES:
        mel = np.tile(mel, (-(-PATCH_FRAMES // mel.shape[0]), 1))
    n = mel.shape[0] // PATCH_FRAMES
    return np.ascontiguousarray(mel[: n * PATCH_FRAMES].reshape(n, PATCH_FRAMES, mel.shape[1]))


@torch.inference_mode()
def run(model: Musicnn, y: NDArray[np.floating], *, sr: int, batch: int = 16) -> MusicnnOutput:
    """Forward every 3-s patch of y (mono, sr Hz) through model, in batches."""
    x = torch.from_numpy(patches(log_mel(y, sr=sr)))  # (S, 187, 96)
    outs = [model(x[i:i + batch]) for i in range(0, x.shape[0], batch)]
    return MusicnnOutput(*(torch.cat([getattr(o, f) for o in outs]) for f in ("logits", "penultimate", "max_pool", "mean_pool")))


def embed(model: Musicnn, y: NDArray[np.floating], *, sr: int, layer: Layer = "penultimate") -> NDArray[np.float32]:
    """One embedding per 3-s patch of y (mono, shape (n,), sr Hz) → (segments, d) float32.

    layer: 'penultimate' (d = 200, the batch-normed dense layer before the tag layer), or 'max_pool'
    / 'mean_pool' (d = 753, front- and mid-end features pooled over the patch) — musicnn's names.
    """
    if layer not in ("penultimate", "max_pool", "mean_pool"):
        raise InputError(f"unknown musicnn layer {layer!r}: use 'penultimate', 'max_pool' or 'mean_pool'")
    out: torch.Tensor = getattr(run(model, y, sr=sr), layer)  # (segments, d)
    return np.asarray(out.numpy(), dtype=np.float32)


def tags(model: Musicnn, y: NDArray[np.floating], *, sr: int) -> dict[str, float]:
    """Tag probabilities for y (mono, shape (n,), sr Hz): the sigmoid output averaged over its 3-s patches
    (musicnn's top_tags), most likely first."""
    probs = torch.sigmoid(run(model, y, sr=sr).logits).mean(dim=0)  # (n_tags,)
    order = torch.argsort(probs, descending=True).tolist()
    return {model.labels[i]: float(probs[i]) for i in order}
