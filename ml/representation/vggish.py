"""A VGGish-architecture audio embedder trained here, and the maps and cluster scores of a catalogue
in any embedding space.

VGGish (Hershey et al. 2017): 0.96-s frames of log-mel at 16 kHz (25-ms window, 10-ms hop, 64
mel bands, 125–7,500 Hz, log(mel + 0.01)) → 96 × 64 patches; four VGG blocks (3 × 3 convolutions
64 | 128 | 256 256 | 512 512, each block max-pooled by 2) and three fully connected layers (4,096,
4,096, 128). The 128-d output is the embedding. The full network has ~72 M parameters, most in
the first dense layer; `VggishConfig.width` scales every layer (1.0 = the published sizes, the
default 0.25 trains on a 2-core CPU in minutes), keeping the structure, the input and the 128-d
embedding. It is trained here with a softmax head over the labels given (traditions, say), and
the head is dropped afterwards.

Cluster quality of labelled items in an embedding space: the silhouette coefficient of the true
labels (cosine distance; −1 … 1, higher = items sit nearer their own label than others), and the
adjusted mutual information between the labels and a k-means clustering with as many clusters
as labels (0 = chance, 1 = the clusters are the labels). t-SNE maps in 2-D and 3-D with the
perplexity as a parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import librosa
import numpy as np
import torch
from torch import nn

from core.errors import InputError
from ml.config import JsonConfig
from ml.runtime import seeded
from ml.training_loop import fit

SAMPLE_RATE = 16_000
PATCH_FRAMES, MEL_BANDS = 96, 64


@dataclass(frozen=True)
class VggishConfig(JsonConfig):
    width: float = 0.25
    """Scale of every layer's width: 1.0 is the published VGGish (64…512 channels, 4,096-unit dense layers)."""
    embedding: int = 128
    epochs: int = 10
    batch: int = 32
    lr: float = 1e-3
    seed: int = 0



def vggish_patches(y: np.ndarray, sr: int) -> np.ndarray:
    """VGGish input: non-overlapping 0.96-s log-mel patches of mono `y` → (k, 96, 64) float32.
    Audio shorter than one patch is an InputError."""
    if sr != SAMPLE_RATE:
        y = librosa.resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=SAMPLE_RATE)
    mel = librosa.feature.melspectrogram(y=np.asarray(y, dtype=np.float32), sr=SAMPLE_RATE, n_fft=512, win_length=400,
                                         hop_length=160, n_mels=MEL_BANDS, fmin=125, fmax=7500, power=1.0, center=False, htk=True)
    logmel = np.log(mel.T + 0.01).astype(np.float32)  # (frames, 64)
    k = len(logmel) // PATCH_FRAMES
    if k == 0:
        raise InputError(f"the audio lasts {len(y) / SAMPLE_RATE:.2f} s, shorter than one 0.96-s VGGish frame")
    return logmel[: k * PATCH_FRAMES].reshape(k, PATCH_FRAMES, MEL_BANDS)


class Vggish(nn.Module):
    """Patches (B, 96, 64) → embeddings (B, 128); `head` maps embeddings to label logits."""

    def __init__(self, classes: int, cfg: VggishConfig = VggishConfig()) -> None:
        super().__init__()
        def w(n: int) -> int:
            return max(4, round(n * cfg.width))

        layers: list[nn.Module] = []
        width = 1
        for block in ((64,), (128,), (256, 256), (512, 512)):
            for c in block:
                layers += [nn.Conv2d(width, w(c), 3, padding=1), nn.ReLU()]
                width = w(c)
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)  # (B, w(512), 6, 4)
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(width * 6 * 4, w(4096)), nn.ReLU(), nn.Linear(w(4096), w(4096)),
                                   nn.ReLU(), nn.Linear(w(4096), cfg.embedding))
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(cfg.embedding, classes))

    def embedding(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(self.features(x[:, None]))  # type: ignore[no-any-return]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embedding(x))  # type: ignore[no-any-return]


@dataclass
class TrainedVggish:
    net: Vggish
    cfg: VggishConfig
    labels: list[str]
    mean: float
    std: float
    train_seconds: float

    def embed(self, patches: np.ndarray, batch: int = 128) -> np.ndarray:
        """(k, 96, 64) → (k, 128) float32."""
        out = []
        with torch.inference_mode():
            for i in range(0, len(patches), batch):
                x = torch.from_numpy((patches[i: i + batch] - self.mean) / self.std).float()
                out.append(self.net.embedding(x).numpy())
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, self.cfg.embedding), np.float32)


def train_vggish(patches: np.ndarray, labels: Sequence[str], cfg: VggishConfig = VggishConfig(),
                 progress: Callable[[int, int], None] | None = None) -> TrainedVggish:
    """Train on patches (N, 96, 64) with one label each (at least two labels)."""
    if patches.ndim != 3 or patches.shape[1:] != (PATCH_FRAMES, MEL_BANDS) or len(patches) != len(labels):
        raise InputError(f"give patches of shape (N, 96, 64) and one label each; got {patches.shape} and {len(labels)} labels")
    names = sorted(set(labels))
    if len(names) < 2:
        raise InputError("give at least two labels to train the embedder")
    index = {n: i for i, n in enumerate(names)}
    mean, std = float(patches.mean()), float(patches.std()) or 1.0
    gen = seeded(cfg.seed)
    net = Vggish(len(names), cfg)
    x = torch.from_numpy((patches - mean) / std).float()
    y = torch.tensor([index[lab] for lab in labels])
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    fitted = fit(net, lambda b: (nn.functional.cross_entropy(net(x[b]), y[b]), len(b)), items=len(x), epochs=cfg.epochs,
                 batch_size=cfg.batch, opt=opt, gen=gen, progress=progress)
    return TrainedVggish(net, cfg, names, mean, std, fitted.seconds)


def cluster_scores(embeddings: np.ndarray, labels: Sequence[str], seed: int = 0) -> dict[str, float]:
    """Silhouette of the true labels (cosine) and AMI between the labels and k-means (k = labels) on
    L2-normalised embeddings (N, d). Needs at least two labels and more items than labels."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_mutual_info_score, silhouette_score

    y = np.asarray(labels)
    k = len(set(labels))
    if k < 2 or len(y) <= k or len(y) != len(embeddings):
        raise InputError(f"cluster scores need one label per embedding, at least two labels and more items than labels; "
                         f"got {len(embeddings)} embeddings, {len(y)} labels, {k} distinct")
    z = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    clusters = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(z)
    return {"silhouette": float(silhouette_score(z, y, metric="cosine")), "ami": float(adjusted_mutual_info_score(y, clusters))}


def tsne(embeddings: np.ndarray, *, dims: int = 2, perplexity: float = 30.0, seed: int = 0) -> np.ndarray:
    """t-SNE coordinates (N, dims) of embeddings (N, d); the perplexity must be below N."""
    from sklearn.manifold import TSNE

    if dims not in (2, 3):
        raise InputError(f"t-SNE maps are 2-D or 3-D, not {dims}-D")
    if not 1 <= perplexity < len(embeddings):
        raise InputError(f"perplexity {perplexity} must be at least 1 and below the number of items ({len(embeddings)})")
    if np.ptp(embeddings, axis=0).max(initial=0.0) == 0.0:
        raise InputError("every embedding is the same vector: there is nothing to map; check the embedder")
    # exact gradients below 1,000 items: Barnes-Hut is an approximation for large sets, and sklearn's
    # implementation crashes (segfault) on duplicate points, which a small catalogue can have
    method = "exact" if len(embeddings) < 1000 else "barnes_hut"
    return np.asarray(TSNE(n_components=dims, perplexity=perplexity, init="pca", random_state=seed,
                           method=method).fit_transform(embeddings))
