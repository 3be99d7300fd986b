"""A community, works and usage files for the statement tests (economy, API, CLI), on a real chain."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field

from web3 import Web3

from chain import gateway as gw
from chain.client import Chain
from chain.types import DerivativeParams, HeritageParams, Recipient, everything_to
from core.cid import RAW, cid_bytes, to_text
from core.types import CommunityId, Ppm, WorkId

HEADER = "period_start\tperiod_end\tservice\tterritory\twork\tusage_type\tcount\tamount_wei"
_fresh = itertools.count(int.from_bytes(os.urandom(4), "big"))


def fresh_cid() -> bytes:
    return cid_bytes(RAW, f"usage test content {next(_fresh)}".encode())


def usage_file(rows: list[tuple[str, int]], *, period: tuple[str, str] = ("2026-01-01", "2026-01-31"),
               service: str = "StreamCo") -> bytes:
    """A usage file with one line per (work text, amount in wei)."""
    lines = [HEADER] + [f"{period[0]}\t{period[1]}\t{service}\tKZ\t{work}\tstream\t{i + 1}\t{amount}"
                        for i, (work, amount) in enumerate(rows)]
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Env:
    chain: Chain
    steward: str = ""
    service: str = ""
    creator: str = ""
    treasury: str = ""
    community: CommunityId = field(default_factory=lambda: CommunityId(0))

    def __post_init__(self) -> None:
        accounts = self.chain.accounts()
        self.steward, self.service, self.creator = accounts[1], accounts[5], accounts[6]
        self.treasury = Web3.to_checksum_address(os.urandom(20))
        self.community = gw.register_community(self.chain, name="Daur song keepers", stewards=[self.steward], threshold=1,
                                               treasury=self.treasury, sender=self.steward)

    def heritage(self, cid: bytes | None = None) -> tuple[WorkId, str]:
        """A heritage work of the community, paid to its treasury; (id, content CID text)."""
        cid = cid or fresh_cid()
        work = gw.register_heritage(self.chain, HeritageParams(self.community, cid, split=everything_to(self.treasury)),
                                    sender=self.steward)
        assert work is not None
        return work, to_text(cid)

    def derivative(self, parent: WorkId, ppm: int) -> WorkId:
        params = DerivativeParams(fresh_cid(), parents=(parent,), parent_ppms=(Ppm(ppm),),
                                  split=(Recipient(self.creator, Ppm(1_000_000)),))
        return gw.register_derivative(self.chain, params, sender=self.creator)
