"""Scanned and photographed looks for engraved staff images: rotation, blur, uneven light,
vignette, noise and JPEG (`AugmentParams` gives the ranges), drawn deterministically from a
random generator; `ml.omr.dataset.build_dataset` writes augmented copies of each line with them."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage

from core.errors import InputError


@dataclass(frozen=True)
class AugmentParams:
    """One scan/photo look, drawn by `augment_params`; ranges at strength s (0–1):

    rotation_deg: uniform ±2·s degrees (paper skew), about the centre, white fill.
    blur_sigma_px: uniform 0–1.2·s pixels (Gaussian; focus, scanner optics).
    light_gradient: uniform 0–0.4·s, the darkening at the dark edge of a linear gradient at
        light_angle_deg (0–360); vignette: uniform 0–0.3·s, the darkening at the far corner of a
        quadratic fall-off from vignette_centre (fractions of width and height, 0.2–0.8).
    noise_sigma: uniform 0–12·s grey levels (Gaussian sensor noise, from noise_seed).
    jpeg_quality: with probability ½ (when s > 0) uniform 95−60·s … 95, else None (no JPEG).
    """

    rotation_deg: float
    blur_sigma_px: float
    light_gradient: float
    light_angle_deg: float
    vignette: float
    vignette_centre: tuple[float, float]
    noise_sigma: float
    noise_seed: int
    jpeg_quality: int | None


def augment_params(rng: np.random.Generator, *, strength: float = 1.0) -> AugmentParams:
    """Draw one look (ranges in AugmentParams) from `rng`; the same rng state gives the same look."""
    if not 0.0 <= strength <= 1.0:
        raise InputError(f"augmentation strength {strength} is outside 0–1: 1 is the strongest look documented in AugmentParams")
    s = strength
    rotation = float(rng.uniform(-2.0 * s, 2.0 * s))
    blur = float(rng.uniform(0.0, 1.2 * s))
    gradient = float(rng.uniform(0.0, 0.4 * s))
    angle = float(rng.uniform(0.0, 360.0))
    vignette = float(rng.uniform(0.0, 0.3 * s))
    centre = (float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.2, 0.8)))
    noise = float(rng.uniform(0.0, 12.0 * s))
    noise_seed = int(rng.integers(0, 2**63 - 1))
    use_jpeg = bool(rng.random() < 0.5)
    quality = int(rng.integers(round(95 - 60 * s), 96))
    return AugmentParams(rotation, blur, gradient, angle, vignette, centre, noise, noise_seed,
                         quality if use_jpeg and s > 0 else None)


def apply_augment(image: NDArray[np.uint8], params: AugmentParams) -> NDArray[np.uint8]:
    """`image` (uint8, (H, W), 255 paper) made to look as `params` say; same shape and dtype."""
    if image.ndim != 2 or image.dtype != np.uint8:
        raise InputError(f"augment takes a grayscale uint8 image of shape (H, W), got {image.dtype} {image.shape}")
    h, w = image.shape
    out = image
    if params.rotation_deg:
        with Image.fromarray(image) as im:
            out = np.asarray(im.rotate(params.rotation_deg, resample=Image.Resampling.BILINEAR, fillcolor=255), dtype=np.uint8)
    x = out.astype(np.float64)  # (H, W), 0–255
    if params.blur_sigma_px > 0:
        x = ndimage.gaussian_filter(x, sigma=params.blur_sigma_px, mode="nearest")
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)  # (H, W) each
    theta = math.radians(params.light_angle_deg)
    along = (xx / max(w - 1, 1) - 0.5) * math.cos(theta) + (yy / max(h - 1, 1) - 0.5) * math.sin(theta)
    gradient = (along - along.min()) / max(float(np.ptp(along)), 1e-9)  # 0 at the lit edge, 1 at the dark edge
    cx, cy = params.vignette_centre
    radius = ((xx / max(w - 1, 1) - cx) * w / max(w, h)) ** 2 + ((yy / max(h - 1, 1) - cy) * h / max(w, h)) ** 2
    falloff = radius / max(float(radius.max()), 1e-9)
    x = x * (1.0 - params.light_gradient * gradient) * (1.0 - params.vignette * falloff)
    if params.noise_sigma > 0:
        x = x + np.random.default_rng(params.noise_seed).normal(0.0, params.noise_sigma, size=x.shape)
    out = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    if params.jpeg_quality is not None:
        buffer = io.BytesIO()
        with Image.fromarray(out) as im:
            im.save(buffer, format="JPEG", quality=params.jpeg_quality)
        buffer.seek(0)
        with Image.open(buffer) as im:
            out = np.asarray(im.convert("L"), dtype=np.uint8)
    return out


def augment(image: NDArray[np.uint8], rng: np.random.Generator, *, strength: float = 1.0) -> NDArray[np.uint8]:
    """A scanned/photographed look for a staff image (uint8, (H, W)): rotation, blur, uneven
    light, noise and maybe JPEG, drawn from `rng` (AugmentParams gives the ranges). Deterministic
    given the rng's state; the shape and dtype are kept."""
    return apply_augment(image, augment_params(rng, strength=strength))
