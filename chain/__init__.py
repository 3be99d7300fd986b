"""The chain layer: compile, deploy and drive the Heritage Ledger contracts on an EVM node.

Callers go through the typed gateway (`gateway.py`, calls as values in `calls.py`, frozen
mirrors of the contracts' structs in `types.py`); nothing outside chain/ touches a contract's
`.functions`. The rules stated once here: the fee rule (`sender.fee_cap`), the royalty route in
Python (`routing.flow`, `routing.route`), the EIP-712 steward actions and their checks with named
refusals (`signatures.py`), contract errors decoded to named Python errors (`errors.py`).
"""
