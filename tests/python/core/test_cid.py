"""CIDs against vectors printed by Kubo, and the block store's verification."""

from __future__ import annotations

import hashlib
import io
from contextlib import nullcontext
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.blockstore import BlockStore
from core.cid import CHUNK_SIZE, MAX_LINKS, build_dag, bytes_cid, chunks, file_cid, from_text
from core.errors import ContentStoreError, InputError

# Printed by `ipfs add --cid-version=1` (Kubo), for single-block files.
KUBO_VECTORS = [
    (b"", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
    (b"hello world", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"),
    (b"hello\n", "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"),
    (b"Hello IPFS\n", "bafkreidfdrlkeq4m4xnxuyx6iae76fdm4wgl5d4xzsb77ixhyqwumhz244"),
]


@pytest.mark.parametrize(("data", "expected"), KUBO_VECTORS)
def test_single_block_matches_kubo(data: bytes, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(data)
    assert file_cid(path) == expected
    assert bytes_cid(data) == expected


def test_unixfs_node_encoding_matches_kubo_cidv0() -> None:
    """Kubo's CIDv0 of "hello\\n" is a dag-pb UnixFS node; ours must hash the same."""
    from core.cid import _bytes_field, _field, _varint

    data = b"hello\n"
    unixfs = _field(1, 0) + _varint(2) + _bytes_field(2, data) + _field(3, 0) + _varint(len(data))
    digest = hashlib.sha256(_bytes_field(1, unixfs)).digest()
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n, text = int.from_bytes(bytes([0x12, 32]) + digest, "big"), ""
    while n:
        n, r = divmod(n, 58)
        text = alphabet[r] + text
    assert text == "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"


@pytest.mark.parametrize("size", [CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE, (MAX_LINKS + 1) * CHUNK_SIZE])
def test_multi_block_shape(size: int) -> None:
    blocks = list(build_dag(chunks(io.BytesIO(b"\x07" * size))))
    root = blocks[-1]
    leaves = [b for b in blocks if b.cid[1] == 0x55]
    assert sum(len(b.data) for b in leaves) == size
    if size <= CHUNK_SIZE:
        assert root.cid[1] == 0x55 and len(blocks) == 1
    else:
        assert root.cid[1] == 0x70
    # 175 chunks need a second level: 174 + 1 leaves under two nodes, under one root.
    if size == (MAX_LINKS + 1) * CHUNK_SIZE:
        assert sum(1 for b in blocks if b.cid[1] == 0x70) == 3


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=3 * 1024), st.integers(1, 1024))
def test_cid_is_deterministic_and_independent_of_read_sizes(data: bytes, read_size: int) -> None:
    class Trickle(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            return super().read(min(n if n and n > 0 else read_size, read_size))

    whole = [b.cid for b in build_dag(chunks(io.BytesIO(data), size=1024))]
    trickled = [b.cid for b in build_dag(chunks(Trickle(data), size=1024))]
    assert whole == trickled


def test_store_round_trip_and_detects_corruption(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    data = bytes(range(256)) * 3000  # 768,000 bytes: three chunks
    cid = store.put_bytes(data)
    assert b"".join(store.cat(cid)) == data
    victim = next(p for p in tmp_path.rglob("bafkrei*"))
    victim.write_bytes(b"tampered")
    with pytest.raises(ContentStoreError, match="corrupt"):
        b"".join(store.cat(cid))


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", nullcontext()),
        ("QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN", pytest.raises(InputError)),
        ("b!!!notbase32!!!", pytest.raises(InputError)),
        ("bafyreihdb57fdysx5h35urvxz64ros7zvywshber7id6t6c6fek37jgyfe", pytest.raises(InputError)),  # dag-cbor
    ],
)
def test_from_text_accepts_only_supported_cids(text: str, outcome: object) -> None:
    with outcome:  # type: ignore[attr-defined]
        from_text(text)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        file_cid(tmp_path / "nope.wav")
