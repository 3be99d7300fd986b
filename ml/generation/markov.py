"""A first-order Markov model over ABC note tokens: the demo's machine maker.

Small and honest: it learns transition counts from the tunes it is given and samples a new
melody from them with a seeded generator. The culturally constrained generators of
ml/generation replace it as they land.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass

NOTE = re.compile(r"[_^=]?[A-Ga-g][,']*\d*/?\d*|z\d*/?\d*")


def _body(abc: str) -> str:
    lines = abc.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("K:"):
            return " ".join(lines[i + 1 :])
    return abc


@dataclass(frozen=True)
class MarkovModel:
    transitions: dict[str, dict[str, int]]
    metre: str
    key: str

    @classmethod
    def train(cls, tunes: list[str], *, metre: str, key: str) -> MarkovModel:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for text in tunes:
            tokens = ["<s>", *NOTE.findall(_body(text)), "</s>"]
            for a, b in itertools.pairwise(tokens):
                counts[a][b] += 1
        return cls({a: dict(bs) for a, bs in counts.items()}, metre, key)

    def to_json(self) -> bytes:
        return json.dumps(
            {"kind": "markov-abc-1", "metre": self.metre, "key": self.key, "transitions": self.transitions},
            sort_keys=True,
        ).encode()

    def generate(self, *, seed: int, max_notes: int = 48, title: str = "Generated") -> str:
        rng = random.Random(seed)
        token = "<s>"
        notes: list[str] = []
        while len(notes) < max_notes:
            nexts = self.transitions.get(token)
            if not nexts:
                break
            choices, weights = zip(*sorted(nexts.items()), strict=False)
            token = rng.choices(choices, weights=weights)[0]
            if token == "</s>":
                break
            notes.append(token)
        bars = [" ".join(notes[i : i + 4]) for i in range(0, len(notes), 4)]
        return f"X:1\nT:{title}\nM:{self.metre}\nL:1/8\nK:{self.key}\n" + " | ".join(bars) + " |]\n"
