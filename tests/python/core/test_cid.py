"""CIDs against vectors printed by Kubo, multi-block files against an independent UnixFS
importer (the JavaScript one Helia uses, configured as Kubo's defaults), and the block store's
verification."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
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


def sequence(n: int) -> bytes:
    """Deterministic, incompressible, language-independent test content: SHA-256(i) for i = 0, 1, …
    as 8-byte big-endian counters, concatenated and cut to n bytes."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(i.to_bytes(8, "big")).digest()
        i += 1
    return bytes(out[:n])


def write_sequence(path: Path, n: int) -> None:
    with path.open("wb") as f:
        i, left = 0, n
        while left > 0:
            block = b"".join(hashlib.sha256((i + k).to_bytes(8, "big")).digest() for k in range(32_768))
            f.write(block[:left])
            i, left = i + 32_768, left - len(block)


# Multi-block vectors of `sequence(n)`, printed by scripts/js-cid.mjs (ipfs-unixfs-importer 17.1.1
# with Kubo's defaults for --cid-version=1), and equal to ours. 174·C + 1 bytes is the first size
# that needs a second level of links; 174²·C + 1 (7.9 GB) a third.
C = CHUNK_SIZE
MULTI_BLOCK_VECTORS = [
    (C, "bafkreigy5tcgloscldzhi2iadhemu2v7dj2u5wme7vgim2jlmnxindpsfi"),
    (C + 1, "bafybeiavfl3mrv5rig3iqfle6aheyo3crcdzseal3jfwykhuwtmc4vtyjy"),
    (3 * C + 7, "bafybeiewmfxqclrjysqyl7jurb7febwydzfi7v3lgpvsmbhyfzeqm6fghu"),
    (174 * C, "bafybeie5xnk32fia7bu7dn2cvjojbnxskp6irq3xikyi6bdrh3v5yfddqy"),
    (174 * C + 1, "bafybeibwfjx4gjco2cvbbqlhbtazzttn73bsxnan2t4zmxrjmolwknbe7y"),
]


def test_sequence_generator_is_stable() -> None:
    assert sequence(40) == hashlib.sha256(bytes(8)).digest() + hashlib.sha256((1).to_bytes(8, "big")).digest()[:8]


@pytest.mark.parametrize(("size", "expected"), MULTI_BLOCK_VECTORS)
def test_multi_block_matches_reference_vectors(size: int, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "f"
    write_sequence(path, size)
    assert path.read_bytes()[:1000] == sequence(1000)
    assert file_cid(path) == expected


@pytest.mark.slow
def test_three_level_tree_of_several_gigabytes(tmp_path: Path) -> None:
    """7.9 GB streamed through file_cid in bounded memory (measured: 18 s, 18.5 MB RSS)."""
    path = tmp_path / "big"
    write_sequence(path, 174 * 174 * C + 1)
    assert file_cid(path) == "bafybeigi6dziak7jo5vhdrwxbj33puzmjhfjqj62ia3s4ysenocm32uexi"


JS_CID = Path(__file__).resolve().parents[3] / "scripts" / "js-cid.mjs"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is installed by scripts/setup")
def test_random_sizes_agree_with_the_javascript_importer(tmp_path: Path) -> None:
    """Sizes around every chunk and fan-out boundary, and random contents, against the
    independent implementation in one node process."""
    import random

    rng = random.Random(20261123)
    sizes = [0, 1, C - 1, C, C + 1, 2 * C, 173 * C + 5, 175 * C] + [rng.randrange(0, 12 * C) for _ in range(12)]
    paths = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"f{i}"
        path.write_bytes(rng.randbytes(size))
        paths.append(path)
    out = subprocess.run(["node", str(JS_CID), *map(str, paths)], capture_output=True, text=True, check=True)
    theirs = dict(reversed(line.split(" ", 1)) for line in out.stdout.splitlines())
    for path in paths:
        assert file_cid(path) == theirs[str(path)], f"{path.stat().st_size} bytes"
