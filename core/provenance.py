"""Provenance words shared by chain/ (which reads them from the contracts) and ml/ (which honours
them when it chooses what to learn from): ml never imports chain, so they live here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProtocolSource:
    """Where an item's content comes from and what its protocols allow: a content CID with its
    flags, looked up on chain (chain.derive.protocol_sources) or through the API."""

    cid: str
    ml_allowed: bool = True
    restricted: bool = False
    work_id: int | None = None
    """The registered work, when the content is one; None for unregistered corpus material."""
