"""The Kubo RPC content store against a real IPFS node (js-ipfs, see tests/python/ipfs_node.py):
CIDs agree with ours for every DAG shape, reads verify each block, and a node that lies, imports
differently or is gone is refused with a clear error."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chain.anvil import free_port
from core.blockstore import BlockStore, open_store
from core.cid import CHUNK_SIZE, bytes_cid, file_cid
from core.config import Settings
from core.errors import ContentStoreError
from core.kubo import KuboStore
from core.types import Cid
from tests.python.ipfs_node import CLI, IpfsNode

pytestmark = pytest.mark.skipif(not CLI.exists(), reason="js-ipfs is not installed: run scripts/setup")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsNode]:
    with IpfsNode(tmp_path_factory.mktemp("ipfs-repo")) as n:
        yield n


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 175 * CHUNK_SIZE + 3])
def test_node_and_we_agree_on_cids_and_every_read_is_verified(node: IpfsNode, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    f = tmp_path / "piece.bin"
    f.write_bytes(data)
    store = KuboStore(node.url)
    cid = store.put_file(f)
    assert cid == file_cid(f)
    assert store.has(cid)
    assert b"".join(store.cat(cid)) == data
    # The node holds the very blocks the embedded store makes.
    local = BlockStore(tmp_path / "blocks")
    assert local.put_file(f) == cid
    for block in (p for p in (tmp_path / "blocks").rglob("*") if p.is_file()):
        assert store.get_block(Cid(block.name)) == block.read_bytes()


def test_missing_blocks_and_bytes(node: IpfsNode) -> None:
    store = KuboStore(node.url)
    absent = bytes_cid(b"never added " + os.urandom(8))
    assert not store.has(absent)
    with pytest.raises(ContentStoreError, match="not on the IPFS node"):
        store.get_block(absent)
    manifest = json.dumps({"title": "song"}).encode()
    assert store.put_bytes(manifest) == bytes_cid(manifest)
    assert b"".join(store.cat(bytes_cid(manifest))) == manifest
    assert store.version()


class _LyingNode(BaseHTTPRequestHandler):
    """Answers `add` with another CID and `block/get` with other bytes."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        elif self.headers.get("Transfer-Encoding") == "chunked":
            while (size := int(self.rfile.readline().strip(), 16)) != 0:
                self.rfile.read(size + 2)
            self.rfile.readline()
        if self.path.startswith("/api/v0/add"):
            body = json.dumps({"Name": "data", "Hash": bytes_cid(b"something else"), "Size": "3"}).encode()
        else:
            body = b"not the block you asked for"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_lying_node_is_caught_and_a_gone_node_named() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LyingNode)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        store = KuboStore(f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(ContentStoreError, match="imports differently"):
            store.put_bytes(b"hello")
        with pytest.raises(ContentStoreError, match="corrupt"):
            store.get_block(bytes_cid(b"hello"))
    finally:
        server.shutdown()
    gone = KuboStore(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ContentStoreError, match=r"no IPFS node answers .* HERITAGE_IPFS_API_URL"):
        gone.put_bytes(b"hello")


def test_settings_choose_the_store(tmp_path: Path, node: IpfsNode) -> None:
    assert isinstance(open_store(Settings(data_dir=tmp_path)), BlockStore)
    store = open_store(Settings(data_dir=tmp_path, ipfs_api_url=node.url))
    assert isinstance(store, KuboStore) and store.api_url == node.url
