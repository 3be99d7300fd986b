"""Demo mode: the service signs for the embedded anvil's development accounts, and says so.

Those keys are public (anvil's default mnemonic), so this exists only with `api_demo` on chain
31337; the dashboard uses it to show the signed write paths without a wallet.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import State
from api.limits import check_typed_data
from api.models import DemoSigned, DemoSignIn
from api.problems import Problem
from chain.sender import dev_account
from chain.signatures import sign

router = APIRouter(tags=["demo"])
WARNING = ("signed by the service with a public development key of the local anvil node (demo mode): "
           "never use these accounts on a real chain; a real client signs with its own wallet")


@router.post("/demo/sign", response_model=DemoSigned, summary="Sign with a development account (demo mode only)")
def demo_sign(state: State, body: DemoSignIn) -> DemoSigned:
    if not state.demo:
        raise Problem(403, "demo-off", "the service signs nothing for anyone unless demo mode is on (HERITAGE_API_DEMO=true, "
                      "chain 31337 only); sign with your own wallet")
    account = dev_account(body.account)
    if account.address.lower() not in {a.lower() for a in state.chain.w3.eth.accounts}:
        raise Problem(409, "demo-unavailable", f"{account.address} is not one of this node's development accounts")
    if (body.typed_data is None) == (body.transaction is None):
        raise Problem(400, "invalid-request", "send exactly one of typed_data and transaction")
    try:
        if body.typed_data is not None:
            check_typed_data(body.typed_data)
            return DemoSigned(address=account.address, signature="0x" + sign(body.typed_data, account.key).hex(), warning=WARNING)
        signed = account.sign_transaction(dict(body.transaction or {}))
    except Problem:
        raise
    except Exception as err:  # eth_account raises several types for an incomplete or malformed document
        what = "typed_data" if body.typed_data is not None else "transaction"
        raise Problem(400, f"{what.replace('_', '-')}-malformed", f"cannot sign this {what} ({type(err).__name__}: "
                      f"{str(err)[:200]}); send a draft's {what} unchanged") from err
    return DemoSigned(address=account.address, raw=signed.raw_transaction.to_0x_hex(), warning=WARNING)
