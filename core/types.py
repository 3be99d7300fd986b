"""Distinct types for identifiers and units. Money and shares are integers, never floats."""

from collections.abc import Callable
from enum import IntEnum
from typing import NewType

Cid = NewType("Cid", str)
"""A CIDv1 in its base32 text form, as `ipfs add --cid-version=1` prints it."""
WorkId = NewType("WorkId", int)
CommunityId = NewType("CommunityId", int)
Wei = NewType("Wei", int)
Ppm = NewType("Ppm", int)
"""Parts per million: a share in [0, 1_000_000]."""
Address = NewType("Address", str)
"""A checksummed 0x-prefixed Ethereum address."""

PPM = Ppm(1_000_000)
ETH = Address("0x0000000000000000000000000000000000000000")
"""The token address that stands for ETH in the royalty router."""

Progress = Callable[[str, int, int], None]
"""(stage, done, total) → None: how long work reports progress (command line, API jobs)."""


class ChainEnum(IntEnum):
    """An enum numbered as a contract's enum is; `label` is the word the catalogue, the audit and
    the API use for a value."""

    @property
    def label(self) -> str:
        """The value's name in lower case: heritage, pending, upheld…"""
        return self.name.lower()


class WorkKind(ChainEnum):
    """A work's kind, as the registry's `WorkKind` enum numbers it."""

    NONE = 0
    HERITAGE = 1
    DERIVATIVE = 2


class WorkStatus(ChainEnum):
    """A work's lifecycle in the router, as the contracts' `WorkStatus` enum numbers it: only
    active works can be paid or be parents."""

    NONE = 0
    PENDING = 1
    """Consent required by a root community and not yet given."""
    ACTIVE = 2
    RESTRICTED = 3
    """Secret/sacred: a salted hash commitment only; never paid, never a parent."""
    REJECTED = 4
    """A consenting community refused it."""
