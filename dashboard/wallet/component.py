"""The wallet component (a Streamlit custom component served from frontend/build/, no CDN).

It reports `{account, chainId, wallet, wallets, result}`; `result` is the outcome of the last
request the page handed it (`{id, ok, kind, value}` or `{id, ok: false, code, error}`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import streamlit.components.v1 as components

BUILD = Path(__file__).resolve().parent / "frontend" / "build"
_component = components.declare_component("heritage_wallet", path=str(BUILD))


class ChainInfo(TypedDict):
    """GET /wallet/chain."""

    chain_id: int
    name: str
    rpc_url: str
    registry: str
    router: str


@dataclass(frozen=True)
class Wallet:
    """What the wallet reported on this run."""

    account: str | None = None
    chain_id: int | None = None
    name: str | None = None
    result: dict[str, Any] | None = None

    def ready(self, chain: ChainInfo) -> bool:
        """Connected, and on the platform's chain."""
        return self.account is not None and self.chain_id == chain["chain_id"]


def wallet(chain: ChainInfo, request: dict[str, Any] | None = None, *, key: str = "wallet") -> Wallet:
    """Render the wallet box; `request` (kind sign | send | message, with an `id` and a `summary`)
    gets a button that asks the wallet."""
    raw = _component(chain={"id": chain["chain_id"], "name": chain["name"], "rpc": chain["rpc_url"]}, request=request,
                     key=key, default=None)
    if not isinstance(raw, dict):
        return Wallet()
    chain_id = raw.get("chainId")
    return Wallet(account=raw.get("account"), chain_id=int(chain_id) if chain_id is not None else None,
                  name=raw.get("wallet"), result=raw.get("result"))
