"""chain/batch.py on a real anvil: many calls from one account, each with its own outcome."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from web3 import Web3

from chain import calls
from chain.anvil import Anvil
from chain.batch import Landed, read_many, send_many
from chain.client import Chain
from chain.errors import ContractRevert
from chain.sender import dev_account
from core.types import CommunityId, WorkId
from tests.python.chain.connected import connected


@pytest.fixture(scope="module")
def chain(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    with connected(anvil, tmp_path_factory, "batch") as (c, _):
        yield c


def test_a_refused_call_and_one_reverting_on_chain_cost_only_themselves(chain: Chain) -> None:
    sender, registrant = Web3.to_checksum_address(chain.accounts()[0]), dev_account(7).address
    salt = os.urandom(32)
    fresh = [calls.commit_registration(chain, registrant, os.urandom(40), salt) for _ in range(3)]
    twice = calls.commit_registration(chain, registrant, os.urandom(40), salt)
    refused = calls.approve_derivative(chain, WorkId(10**9), CommunityId(1))  # no such work: reverts when estimated
    before = chain.w3.eth.get_transaction_count(sender)
    # `twice` is estimated against the state before the batch, so both copies are sent: the second reverts on chain
    out = send_many(chain, [fresh[0], twice, refused, fresh[1], twice, fresh[2]], sender)
    assert [type(o).__name__ for o in out] == ["Landed", "Landed", "ContractRevert", "Landed", "Landed", "Landed"]
    assert isinstance(out[2], ContractRevert)
    landed = [o for o in out if isinstance(o, Landed)]
    assert [o.ok for o in landed] == [True, True, True, False, True]
    assert [name for name, _ in landed[0].sent.events] == ["RegistrationCommitted"]
    assert chain.w3.eth.get_transaction_count(sender) == before + 5  # the refused call took no nonce: no gap
    assert chain.journal is not None
    assert all(chain.journal.find(o.sent.tx) is not None for o in landed)  # each journalled before it was sent


def test_read_many_answers_each_view_and_the_chain_time(chain: Chain) -> None:
    steward = dev_account(8).address
    now, values = read_many(chain, [*calls.steward_reads(chain, 1, steward), calls.commitment_reads(chain, steward, b"x",
                                                                                                   bytes(32))[0]],
                            chain.accounts()[0])
    assert now == chain.w3.eth.get_block("latest")["timestamp"]
    assert values == [(0,), (False,), (0, 0)]
