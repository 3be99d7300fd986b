"""Network pieces more than one capability builds on (classification and recognition alike)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


def conv_pool_blocks(channels: Sequence[int], *, in_channels: int = 1) -> list[nn.Module]:
    """One block per entry of `channels`: a 3×3 convolution (padding 1), batch norm, ReLU and a
    2×2 max pool, so each block halves time and frequency: (B, C_in, T, F) → (B, c, T/2, F/2)."""
    blocks: list[nn.Module] = []
    width = in_channels
    for c in channels:
        blocks.append(nn.Sequential(nn.Conv2d(width, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)))
        width = c
    return blocks
