"""A Kubo (go-ipfs) node as the content store, through its HTTP RPC API (`/api/v0`).

Why a small client of our own: `ipfshttpclient` 0.8 checks the daemon's version and refuses
every Kubo after 0.8 ("Unsupported daemon version"), and it is unmaintained. The RPC API itself
is stable and small: `add`, `block/get` and `block/stat` are all this store needs.

Writes: the file is streamed to `add` with the import settings of `ipfs add --cid-version=1`
(256 KiB chunks, raw leaves, balanced DAG), and the CID the node answers must equal the one
computed here; a node configured otherwise (another chunker, inlining, a trickle DAG) is refused
with a message that says so. Reads: blocks are fetched one by one with `block/get` and every
block's hash is checked against its CID before a byte is handed on, so a lying or corrupt node
cannot slip content past the store.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import requests

from core.blockstore import ContentStore, verify_block
from core.cid import CHUNK_SIZE, bytes_cid, file_cid, from_text
from core.errors import ContentStoreError
from core.types import Cid

ADD_PARAMS = {
    "cid-version": "1",
    "raw-leaves": "true",
    "chunker": f"size-{CHUNK_SIZE}",
    "hash": "sha2-256",
    "cid-base": "base32",
    "pin": "true",
    "inline": "false",
    "trickle": "false",
}


class KuboStore(ContentStore):
    """Content on a Kubo node at `api_url` (e.g. http://127.0.0.1:5001)."""

    def __init__(self, api_url: str, *, timeout_s: float = 60.0, lookup_timeout_s: float = 5.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout_s = timeout_s
        # Kubo answers a missing block at once with offline=true; nodes that ignore it (js-ipfs)
        # wait for the network until this per-request `timeout` runs out.
        self._lookup = {"offline": "true", "timeout": f"{lookup_timeout_s:g}s"}
        self.session = requests.Session()

    # ------------------------------------------------------------------ RPC
    def _post(self, command: str, params: dict[str, str], *, data: Any = None,
              headers: dict[str, str] | None = None) -> requests.Response:
        url = f"{self.api_url}/api/v0/{command}"
        try:
            response = self.session.post(url, params=params, data=data, headers=headers, timeout=self.timeout_s)
        except requests.ConnectionError as exc:
            raise ContentStoreError(
                f"no IPFS node answers at {self.api_url}: start it (`ipfs daemon`) or unset "
                "HERITAGE_IPFS_API_URL to use the embedded block store"
            ) from exc
        except requests.Timeout as exc:
            raise ContentStoreError(
                f"the IPFS node at {self.api_url} did not answer {command} within {self.timeout_s:.0f} s; "
                "check that it is not overloaded, or raise HERITAGE_TX_TIMEOUT_S"
            ) from exc
        return response

    @staticmethod
    def _message(response: requests.Response) -> str:
        try:
            return str(response.json().get("Message", response.text))
        except ValueError:
            return response.text.strip()[:300]

    def version(self) -> str:
        response = self._post("version", {})
        if response.status_code != 200:
            raise ContentStoreError(f"{self.api_url} is not an IPFS RPC API ({response.status_code}); check the URL")
        return str(response.json().get("Version", "?"))

    # ------------------------------------------------------------------ writes
    def _add(self, stream: IO[bytes], name: str, expected: Cid) -> Cid:
        boundary = secrets.token_hex(16)

        def body() -> Iterator[bytes]:
            yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                   "Content-Type: application/octet-stream\r\n\r\n").encode()
            while piece := stream.read(1 << 20):
                yield piece
            yield f"\r\n--{boundary}--\r\n".encode()

        response = self._post("add", ADD_PARAMS, data=body(),
                              headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        if response.status_code != 200:
            raise ContentStoreError(f"the IPFS node refused the file: {self._message(response)}")
        lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
        answered = next((line["Hash"] for line in reversed(lines) if "Hash" in line), None)
        if answered != expected:
            raise ContentStoreError(
                f"the IPFS node at {self.api_url} stored {name} as {answered}, but its CID is {expected}: the node "
                "imports differently from `ipfs add --cid-version=1` (chunker, inlining or DAG layout); reset "
                "its Import settings to the defaults"
            )
        return expected

    def put_file(self, path: Path) -> Cid:
        expected = file_cid(path)  # raises InputError for a missing or unreadable file
        with path.open("rb") as stream:
            return self._add(stream, path.name, expected)

    def put_bytes(self, data: bytes) -> Cid:
        return self._add(io.BytesIO(data), "data", bytes_cid(data))

    # ------------------------------------------------------------------ reads
    def has(self, cid: Cid) -> bool:
        from_text(cid)
        response = self._post("block/stat", {"arg": cid, **self._lookup})
        if response.status_code == 200:
            return True
        message = self._message(response).lower()
        if any(word in message for word in ("not found", "offline", "timed out", "deadline")):
            return False
        raise ContentStoreError(f"the IPFS node could not look up {cid}: {self._message(response)}")

    def get_block(self, cid: Cid) -> bytes:
        from_text(cid)
        response = self._post("block/get", {"arg": cid, **self._lookup})
        if response.status_code != 200:
            raise ContentStoreError(
                f"block {cid} is not on the IPFS node at {self.api_url} ({self._message(response)}): "
                "add the file again or pin it on the node"
            )
        return verify_block(cid, response.content, f"the IPFS node at {self.api_url}")
