"""The lattice transformer: shapes, causality, training on real Han songs, and its model file."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest
import torch

from core.errors import InputError
from ml.data.corpora import essen
from ml.generation.encoding import han_corpus
from ml.generation.lattice import BAR, BOS, LatticePiece, Vocabulary, to_tokens
from ml.generation.model import GptConfig, LatticeGpt
from ml.generation.train import TrainConfig, load, save, train, windows

VOCAB = Vocabulary.build(contexts=("Xiaodiao", "Shange", "Haozi", "Wuge"))


@pytest.fixture(scope="module")
def pieces() -> list[LatticePiece]:
    return list(han_corpus(sorted(essen(("Chinese Han",)), key=lambda p: p.cid)[:40]).pieces)


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({}, nullcontext()),
    ({"n_embd": 18, "n_head": 4}, pytest.raises(InputError, match="multiple of n_head")),
    ({"dropout": 1.0}, pytest.raises(InputError, match="dropout")),
])
def test_config_is_checked(kwargs: dict[str, float], problem: AbstractContextManager[object]) -> None:
    with problem:
        GptConfig(vocab_size=10, **kwargs)  # type: ignore[arg-type]


def test_logits_have_the_vocabulary_shape_and_never_see_the_future() -> None:
    torch.manual_seed(0)
    net = LatticeGpt(GptConfig(vocab_size=len(VOCAB), block_size=16)).eval()
    x = torch.randint(0, len(VOCAB), (3, 12))  # (B, T)
    logits = net(x)
    assert logits.shape == (3, 12, len(VOCAB))
    changed = x.clone()
    changed[:, 8:] = (changed[:, 8:] + 1) % len(VOCAB)
    assert torch.allclose(net(changed)[:, :8], logits[:, :8], atol=1e-6)
    assert not torch.allclose(net(changed)[:, 8:], logits[:, 8:])
    with pytest.raises(InputError, match="exceeds the model's block size"):
        net(torch.zeros(1, 17, dtype=torch.long))


def test_long_pieces_are_cut_into_windows_behind_their_prefix(pieces: list[LatticePiece]) -> None:
    long = max(pieces, key=lambda p: len(to_tokens(p)))
    tokens = to_tokens(long)
    ws = windows([long], conditioned=True, block_size=64)
    assert len(tokens) > 65 and len(ws) > 1
    assert all(len(w) <= 65 and w[:5] == tokens[:5] and w[5] == BAR for w in ws)
    assert ws[-1][-1] == "<eos>"
    assert windows([long], conditioned=False, block_size=64)[0][:2] == [BOS, BAR]


def test_training_lowers_the_loss_and_the_file_gives_back_the_same_network(tmp_path: Path,
                                                                            pieces: list[LatticePiece]) -> None:
    gpt = GptConfig(vocab_size=len(VOCAB), block_size=64, n_embd=32, n_head=2, n_layer=1)
    done: list[int] = []
    trained = train(pieces[:30], pieces[30:], vocab=VOCAB, gpt=gpt, cfg=TrainConfig(epochs=3, batch_size=16, lr=1e-2),
                    progress=lambda e, n: done.append(e))
    assert done == [1, 2, 3] and trained.losses[-1] < trained.losses[0] and len(trained.val_losses) == 3
    assert trained.best_epoch == 1 + trained.val_losses.index(min(trained.val_losses))
    path = tmp_path / "gen.pt"
    save(path, trained, learned_from=["b", "a"], split_id="s", facts={"ornament_rate": [0.0, 0.0]})
    back = load(path)
    assert back.learned_from == ("a", "b") and back.split_id == "s" and back.facts["ornament_rate"] == [0.0, 0.0]
    assert back.trained.conditioned and back.trained.vocab == VOCAB
    x = torch.tensor([VOCAB.ids(to_tokens(pieces[0])[:40])])
    assert torch.equal(back.trained.net(x), trained.net(x))


def test_a_missing_or_foreign_model_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="heritage generation train"):
        load(tmp_path / "none.pt")
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(InputError, match="not a generation model"):
        load(tmp_path / "other.pt")


def test_training_needs_pieces_and_a_matching_vocabulary(pieces: list[LatticePiece]) -> None:
    with pytest.raises(InputError, match="no training pieces"):
        train([], [], vocab=VOCAB, gpt=GptConfig(vocab_size=len(VOCAB)))
    with pytest.raises(InputError, match="vocab_size"):
        train(pieces, [], vocab=VOCAB, gpt=GptConfig(vocab_size=7))
