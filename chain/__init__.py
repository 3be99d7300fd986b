"""The chain layer: compile, deploy and drive the Heritage Ledger contracts on an EVM node."""
