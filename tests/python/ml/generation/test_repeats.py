"""Repeat tokens: a song's returns to earlier cycles marked in its tokens, learned by the network
(copies never a target), and written by the decoder only where every mask still holds."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ml.data.corpora import essen
from ml.generation.decode import Constraints, Generated, SampleConfig, generate
from ml.generation.encoding import han_corpus
from ml.generation.lattice import (
    BAR,
    BOS,
    HAN,
    REPEAT,
    Vocabulary,
    body_tokens,
    condition_tokens,
    cycles_of,
    from_tokens,
    mark_repeats,
    to_tokens,
)
from ml.generation.model import GptConfig
from ml.generation.train import TrainConfig, _batch, _Copies, load, save, train, windows
from ml.tradition import load_tradition
from tests.python.ml.generation.test_decode import CASES, TRADITIONS, Hostile, _check

VOCAB = Vocabulary.build(contexts=("Xiaodiao",), repeats=True)
SONGS = han_corpus(sorted(essen(("Chinese Han",)), key=lambda p: p.cid)[:40]).pieces


def _repeating_song() -> object:
    return next(p for p in SONGS if any(t.startswith(REPEAT) for t in body_tokens(p, repeats=True)))


def test_a_repeated_cycle_is_marked_with_the_nearest_earlier_copy_and_reads_back_unchanged() -> None:
    song = _repeating_song()
    plain, marked = body_tokens(song), body_tokens(song, repeats=True)  # type: ignore[arg-type]
    assert [t for t in marked if not t.startswith(REPEAT)] == plain  # the copy is still written out
    cycles = cycles_of(marked)
    for b, i in enumerate(i for i, t in enumerate(marked) if t == BAR):
        if marked[i + 1].startswith(REPEAT):
            back = int(marked[i + 1][len(REPEAT):])
            assert cycles[b] == cycles[b - back] and all(cycles[b] != cycles[b - k] for k in range(1, back))
        else:
            assert all(cycles[b] != cycles[b - k] for k in range(1, min(8, b) + 1))
    def read(repeats: bool) -> object:
        return from_tokens(to_tokens(song, repeats=repeats), tradition=HAN, cycle=song.cycle,  # type: ignore[arg-type,attr-defined]
                           cycle_ticks=song.cycle_ticks).events  # type: ignore[attr-defined]

    assert read(True) == read(False)  # the tokens read back to the same events (deviations are not tokens)
    assert mark_repeats(marked) == marked  # marking is idempotent


def test_a_vocabulary_with_repeats_keeps_every_other_token_id() -> None:
    plain = Vocabulary.build(contexts=("Xiaodiao",))
    assert VOCAB.tokens[: len(plain)] == plain.tokens and sorted(VOCAB.repeats.values()) == list(range(1, 9))
    assert plain.repeats == {}


def test_the_copied_tokens_are_inputs_but_never_targets() -> None:
    song = _repeating_song()
    seq = VOCAB.ids(to_tokens(song, repeats=True))  # type: ignore[arg-type]
    copies = _Copies.of(VOCAB)
    assert copies is not None
    _, y = _batch([seq], keep=5, copies=copies)
    copied = copies.positions(seq)
    assert copied and all(int(y[0, j - 1]) == -100 for j in copied)
    for j in (j for j, t in enumerate(seq) if t in VOCAB.repeats):
        assert int(y[0, j - 1]) == seq[j]  # the repeat token itself is a target: where to return is learned
    predicted = [j for j in range(1, len(seq)) if int(y[0, j - 1]) != -100]
    assert set(predicted).isdisjoint(copied) and len(predicted) + len(copied) + 4 == len(seq) - 1


def _favouring(bias_seed: int) -> Hostile:
    torch.manual_seed(bias_seed)
    return Hostile(GptConfig(vocab_size=len(VOCAB), block_size=64), bias_seed=bias_seed, scale=2.0,
                   favour=list(VOCAB.repeats)).eval()


def _sample(tid: str, mode: str | None, cycle: str, *, bars: int, seed: int, bias_seed: int, repeats: bool = True,
            prompt: list[str] | None = None) -> tuple[Generated, Constraints]:
    t = TRADITIONS[tid]
    c = Constraints(tradition=t, cycle=cycle, bars=bars, mode=mode)
    prefix = [BOS, *condition_tokens(tradition=tid, mode=mode, cycle=cycle, context=None), *(prompt or [])]
    g = generate(_favouring(bias_seed), VOCAB, prefix=prefix, tradition=t, cycle=cycle, target_ticks=bars * c.cycle_ticks,
                 constraints=c, seed=seed, sample=SampleConfig(repeats=repeats))
    return g, c


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2**31 - 1), bias_seed=st.integers(0, 10_000), bars=st.integers(2, 6))
def test_a_network_that_always_wants_to_repeat_still_keeps_every_mask(case: tuple[str, str | None, str], seed: int,
                                                                     bias_seed: int, bars: int) -> None:
    """The attacker's network: repeat tokens favoured far above everything. A copy that would leap from
    the last note or miss the cadence the last cycle owes is never offered, so every mask holds."""
    tid, mode, cycle = case
    g, c = _sample(tid, mode, cycle, bars=bars, seed=seed, bias_seed=bias_seed)
    _check(g, c)
    body = list(g.tokens[5:-1])  # without <eos>
    cycles = cycles_of(body)
    for i, t in enumerate(body):  # every repeat token is followed by an exact copy of the cycle it names
        if t.startswith(REPEAT):
            b = body[:i].count(BAR) - 1
            assert body[i - 1] == BAR and cycles[b] == cycles[b - int(t[len(REPEAT):])]


def test_the_favoured_repeats_are_drawn_and_never_when_turned_off() -> None:
    g, c = _sample(HAN, "zhi", "yiban yiyan", bars=8, seed=1, bias_seed=3)
    _check(g, c)
    drawn = [t for t in g.tokens if t.startswith(REPEAT)]
    assert len(drawn) >= 3  # the network wanted them and the masks let most through
    off, _ = _sample(HAN, "zhi", "yiban yiyan", bars=8, seed=1, bias_seed=3, repeats=False)
    assert not any(t.startswith(REPEAT) for t in off.tokens)
    _check(off, c)


def test_a_prompt_cycle_can_be_repeated() -> None:
    song = SONGS[0]
    prompt = body_tokens(song.first_bars(2), repeats=True)
    g, c = _sample(HAN, song.mode, song.cycle, bars=5, seed=0, bias_seed=2, prompt=prompt)
    _check(g, c, skip_ticks=g.prompt_ticks)
    assert g.piece.events[: len(song.first_bars(2).events)] == song.first_bars(2).events


def test_a_network_trained_with_repeats_saves_them_and_predicts_where_songs_return(tmp_path: object) -> None:
    vocab = Vocabulary.build([load_tradition(HAN)], contexts=sorted({p.context for p in SONGS if p.context}), repeats=True)
    gpt = GptConfig(vocab_size=len(vocab), block_size=96, n_layer=1, n_head=2, n_embd=16)
    trained = train(SONGS[:30], SONGS[30:], vocab=vocab, gpt=gpt, cfg=TrainConfig(epochs=2, batch_size=8, lr=3e-3))
    assert len(trained.val_losses) == 2 and all(v > 0 for v in trained.val_losses)
    path = tmp_path / "g.pt"  # type: ignore[operator]
    save(path, trained, learned_from=["x"], split_id="s", facts={})
    assert load(path).trained.vocab.repeats == vocab.repeats
    marked = windows(SONGS[:30], conditioned=True, block_size=96, repeats=True)
    assert any(t.startswith(REPEAT) for w in marked for t in w)


@pytest.mark.parametrize("back", [1, 4])
def test_a_repeat_token_away_from_a_cycle_start_copies_nothing(back: int) -> None:
    from ml.generation.decode import _State

    t = TRADITIONS[HAN]
    state = _State(VOCAB, Constraints(tradition=t, cycle="yiban yiyan", bars=4, mode="zhi"), t)
    for tok in (BAR, "p:0:0", "d:8"):
        state.feed(tok)
    assert state.copy_of(back) == []
