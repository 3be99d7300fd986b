"""chain/merkle.py against @openzeppelin/merkle-tree 1.x: the roots and proofs below were printed by
`StandardMerkleTree.of(values, ["uint256", "bytes"])` and `getProof` (node, the npm package installed
outside the repo, which does not ship it: node_modules/@openzeppelin/merkle-tree is absent), for
values (7·i, 0x01551220 ‖ 32 bytes of i), i = 1…n."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain.merkle import MemberTree, leaf_hash, verify
from core.errors import InputError

VECTORS = json.loads('[{"n": 1, "root": "0xb36c70fb96b539ab8c94ebec01a51508301b626e2ea15bb85ccec792dd191946", "proofs": {"7": []}}, {"n": 2, "root": "0x598f60f87279f37a4d445a46bf94af95f9a36f87d0f5f397c73989b0380ec8e6", "proofs": {"7": ["0x56af64f5ce4163fedea0d178be2f2371cfbf41169af4686293a8419133153096"], "14": ["0xb36c70fb96b539ab8c94ebec01a51508301b626e2ea15bb85ccec792dd191946"]}}, {"n": 3, "root": "0xa66261b9678ea22762ca674bb56b00383a3c4f8c03665f62585af7d810a9496d", "proofs": {"7": ["0x56af64f5ce4163fedea0d178be2f2371cfbf41169af4686293a8419133153096", "0xb9fe412092ef9f0728d38bd4938660fab77f4357429fa7bce957cabfe73a7c24"], "14": ["0xb36c70fb96b539ab8c94ebec01a51508301b626e2ea15bb85ccec792dd191946", "0xb9fe412092ef9f0728d38bd4938660fab77f4357429fa7bce957cabfe73a7c24"], "21": ["0x598f60f87279f37a4d445a46bf94af95f9a36f87d0f5f397c73989b0380ec8e6"]}}, {"n": 5, "root": "0xdcda82f5d5dcad92aa8d3058550994a99c9328889c034e9dc91c6497803067ab", "proofs": {"7": ["0xb9fe412092ef9f0728d38bd4938660fab77f4357429fa7bce957cabfe73a7c24", "0x276572edce0c1e1acaed831c88900b18b81f0b3998dbff4385964b3e4cb61faa"], "14": ["0xa4b91edd4c774914b57271f25d01975f7f2536af0791d3d8ce38376fa9e9f491", "0xcbaf86a98fb6011daf41ca084214e11541b8c82ecacd58e0c8a85958c51d4c34", "0x36485a879e857c88e1dd8094a69e243895ffc6b2ff69ebd473998eff15464a5a"], "21": ["0xb36c70fb96b539ab8c94ebec01a51508301b626e2ea15bb85ccec792dd191946", "0x276572edce0c1e1acaed831c88900b18b81f0b3998dbff4385964b3e4cb61faa"], "28": ["0x56af64f5ce4163fedea0d178be2f2371cfbf41169af4686293a8419133153096", "0xcbaf86a98fb6011daf41ca084214e11541b8c82ecacd58e0c8a85958c51d4c34", "0x36485a879e857c88e1dd8094a69e243895ffc6b2ff69ebd473998eff15464a5a"], "35": ["0x7c00e1622be400b299a2f5a41278b199f507cc470efa059cb435240de9077783", "0x36485a879e857c88e1dd8094a69e243895ffc6b2ff69ebd473998eff15464a5a"]}}]')


def _cid(i: int) -> bytes:
    return bytes.fromhex("01551220" + f"{i:02x}" * 32)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"n={v['n']}")
def test_root_and_proofs_match_openzeppelin(vector: dict[str, object]) -> None:
    tree = MemberTree.of([(7 * i, _cid(i)) for i in range(1, int(vector["n"]) + 1)])  # type: ignore[call-overload]
    assert "0x" + tree.root.hex() == vector["root"]
    for work, proof in vector["proofs"].items():  # type: ignore[attr-defined]
        assert ["0x" + h.hex() for h in tree.proof(int(work))] == proof


@given(st.lists(st.integers(1, 2**64), min_size=1, max_size=40, unique=True), st.data())
def test_every_member_proves_and_a_stranger_does_not(works: list[int], data: st.DataObject) -> None:
    members = [(w, bytes([w % 251]) * 36) for w in works]
    tree = MemberTree.of(members)
    for w, c in members:
        assert verify(tree.root, w, c, tree.proof(w))
    w, c = data.draw(st.sampled_from(members))
    assert not verify(tree.root, w + 2**65, c, tree.proof(w))
    assert not verify(tree.root, w, c + b"x", tree.proof(w))


def test_leaf_is_double_hashed_abi_encoding() -> None:
    assert leaf_hash(7, _cid(1)).hex() == VECTORS[0]["root"][2:]


@pytest.mark.parametrize(("members", "match"), [([], "at least one member"), ([(1, b"a"), (1, b"b")], r"\[1\]")])
def test_refuses_empty_and_duplicate_sets(members: list[tuple[int, bytes]], match: str) -> None:
    with pytest.raises(InputError, match=match):
        MemberTree.of(members)


def test_proof_of_a_stranger_is_refused() -> None:
    with pytest.raises(InputError, match="not a member"):
        MemberTree.of([(1, b"a")]).proof(2)
