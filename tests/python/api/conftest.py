"""The API in-process (FastAPI's TestClient) over a real embedded anvil, with one community whose
steward is development account 1 and treasury account 2, registered through the relay."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from api.app import create_app
from api.state import ApiState
from chain.sender import dev_account
from core.config import Settings


@dataclass
class Api:
    client: TestClient
    keys: list[LocalAccount]
    community: int

    @property
    def state(self) -> ApiState:
        state: ApiState = self.client.app.state.heritage  # type: ignore[attr-defined]
        return state

    def sign_tx(self, key: LocalAccount, tx: dict[str, Any]) -> str:
        return str(key.sign_transaction(tx).raw_transaction.to_0x_hex())

    def send(self, key: LocalAccount, fn: Any, value: int = 0) -> Any:
        """Sign `fn` as `key` and relay it through POST /transactions."""
        w3 = self.state.chain.w3
        tx = fn.build_transaction({"from": key.address, "value": value, "nonce": w3.eth.get_transaction_count(key.address, "pending"),
                                   "chainId": self.state.domain.chain_id, "gas": 3_000_000})  # no estimate: refused ones too
        return self.client.post("/transactions", json={"raw": self.sign_tx(key, tx)})

    def upload(self, data: bytes, media: str = "audio/wav", name: str = "song.wav") -> str:
        r = self.client.post("/content", files={"file": (name, data, media)})
        assert r.status_code == 201, r.text
        return str(r.json()["cid"])

    def heritage_draft(self, content_cid: str, steward: str, **extra: Any) -> dict[str, Any]:
        r = self.client.post("/works/drafts", json={"community_id": self.community, "steward": steward,
                                                    "content_cid": content_cid, "title": "A song", **extra})
        assert r.status_code == 200, r.text
        draft: dict[str, Any] = r.json()
        return draft


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {"api_demo": True, "api_writes_per_minute": 10_000, "api_index_refresh_s": 0.0, **overrides}
    return Settings(data_dir=tmp, deployments_dir=tmp / "deployments", **fields)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with TestClient(create_app(make_settings(tmp_path_factory.mktemp("api")))) as client:
        keys = [dev_account(i) for i in range(6)]
        api = Api(client, keys, 0)
        reg = api.state.chain.registry.functions
        r = api.send(keys[0], reg.registerCommunity("Han folk singers of Shaanxi", [keys[1].address], 1, keys[2].address))
        assert r.status_code == 201, r.text
        api.community = int(reg.communityCount().call())
        yield api


@pytest.fixture()
def counted(api: Api) -> Callable[[], tuple[int, int]]:
    """(works on chain, indexed events): a forbidden action must leave both unchanged."""
    def count() -> tuple[int, int]:
        works = int(api.state.chain.registry.functions.workCount().call())
        return works, len(api.state.events())
    return count
