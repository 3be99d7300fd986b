"""The songs the generation networks learn from and what a trained network remembers of them: the
protocol-filtered Essen Han songs, their split, the token vocabulary, the conditions and ornament
rates seen in training. Shared by `heritage generate`, the generation experiments and the MIDI-GAN."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.errors import InputError
from ml.data.corpora import HAN_GENRES, Piece, essen
from ml.data.splits import Split, split
from ml.data.training import Refusal, Source, training_set
from ml.generation.lattice import LatticePiece, Vocabulary, condition_tokens, timed_notes
from ml.tradition import Tradition


def han_songs(*, songs: int | None, source: Callable[[Piece], Source] | None = None) -> tuple[list[Piece], tuple[Refusal, ...]]:
    """The Essen Han songs by CID, those whose protocols refuse ML use left out (with `source`), the first
    `songs` of them (None: all), and the refusals. The generation experiment and the MIDI-GAN share it."""
    han = sorted(essen(("Chinese Han",)), key=lambda p: p.cid)
    refused: tuple[Refusal, ...] = ()
    if source is not None:
        ts = training_set(han, source=source)
        han, refused = list(ts.items), ts.refused
    return han[:songs], refused


def split_pieces(pieces: Sequence[LatticePiece], *, seed: int) -> Split[LatticePiece]:
    """Encoded songs split 70/15/15 by piece, stratified by mode: one split for every generation model
    trained on the same songs and seed. InputError for fewer than 10 songs."""
    if len(pieces) < 10:
        raise InputError(f"only {len(pieces)} Han songs could be encoded: too few to train and test on; use more songs")
    return split(list(pieces), label=lambda p: p.mode or "?", group=lambda p: p.cid or "", cid=lambda p: p.cid or "", seed=seed)


def vocabulary(*, repeats: bool = False) -> Vocabulary:
    """The Han networks' vocabulary (all traditions, Han genres as contexts); with `repeats`, the repeat tokens."""
    return Vocabulary.build(contexts=HAN_GENRES, repeats=repeats)


def seen_conditions(pieces: Sequence[LatticePiece]) -> list[str]:
    """The conditioning tokens the pieces carry, sorted: what a network trained on them has seen (a
    model file's `seen_conditions`; `conditioning_prefix` turns any other into its kind's `?`)."""
    return sorted({tok for p in pieces for tok in condition_tokens(tradition=p.tradition, mode=p.mode, cycle=p.cycle,
                                                                   context=p.context)})


def observed_ornament_rate(pieces: Sequence[LatticePiece], tradition: Tradition) -> tuple[float, float]:
    """(min, max) over pieces of ornaments per note."""
    rates = []
    for p in pieces:
        notes = timed_notes(p, tradition)
        if notes:
            rates.append(sum(n.ornament is not None for n in notes) / len(notes))
    return (min(rates), max(rates)) if rates else (0.0, 0.0)
