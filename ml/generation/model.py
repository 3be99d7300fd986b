"""A small decoder-only transformer over lattice tokens (nanoGPT's layout: the model alone, no I/O).

Token and learned position embeddings, `n_layer` pre-norm blocks of causal multi-head
self-attention and a GELU MLP, a final LayerNorm and an output head tied to the token embedding.
`GptConfig`'s defaults are tiny (tests). `ModelSize` is a network's size without the vocabulary,
which the data fixes: its defaults are the experiment's; `heritage generate`'s small network is another.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from core.errors import InputError


@dataclass(frozen=True)
class GptConfig:
    vocab_size: int
    block_size: int = 64
    n_layer: int = 1
    n_head: int = 2
    n_embd: int = 16
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise InputError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        if min(self.vocab_size, self.block_size, self.n_layer, self.n_head) < 1 or not 0 <= self.dropout < 1:
            raise InputError("vocab_size, block_size, n_layer and n_head must be ≥ 1 and dropout in [0, 1)")


@dataclass(frozen=True)
class ModelSize:
    """A network's size, everything of `GptConfig` but the vocabulary (the data fixes it)."""

    n_layer: int = 3
    n_head: int = 4
    n_embd: int = 64
    block_size: int = 256
    dropout: float = 0.1

    def gpt(self, vocab_size: int) -> GptConfig:
        return GptConfig(vocab_size=vocab_size, **asdict(self))


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GptConfig) -> None:
        super().__init__()
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.n_head, self.dropout = cfg.n_head, cfg.dropout
        self.resid_drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape  # (B, T, C)
        q, k, v = self.qkv(x).split(c, dim=2)  # each (B, T, C)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))  # (B, H, T, C/H)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(b, t, c)  # (B, T, C)
        out: torch.Tensor = self.resid_drop(self.proj(y))
        return out


class Mlp(nn.Module):
    def __init__(self, cfg: GptConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.drop(self.proj(F.gelu(self.fc(x))))  # (B, T, C)
        return out


class Block(nn.Module):
    def __init__(self, cfg: GptConfig) -> None:
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(cfg.n_embd), CausalSelfAttention(cfg)
        self.ln2, self.mlp = nn.LayerNorm(cfg.n_embd), Mlp(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        out: torch.Tensor = x + self.mlp(self.ln2(x))  # (B, T, C)
        return out


class LatticeGpt(nn.Module):
    """Next-token logits over the lattice vocabulary."""

    def __init__(self, cfg: GptConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.head.weight = self.tok.weight  # weight tying
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):  # GPT-2: residual projections scaled by depth
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """idx: (B, T) token ids, T ≤ block_size → logits (B, T, vocab_size)."""
        _, t = idx.shape
        if t > self.cfg.block_size:
            raise InputError(f"a sequence of {t} tokens exceeds the model's block size {self.cfg.block_size}: crop it")
        positions = torch.arange(t, device=idx.device)  # (T,)
        x = self.drop(self.tok(idx) + self.pos(positions))  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        logits: torch.Tensor = self.head(self.ln(x))  # (B, T, V)
        return logits

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
