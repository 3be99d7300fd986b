"""Distinct types for identifiers and units. Money and shares are integers, never floats."""

from collections.abc import Callable
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
