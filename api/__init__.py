"""The HTTP service over the platform (FastAPI).

- `routes/`: thin route files, one per resource — parse, call one service function, answer;
  they never build, decode, dry-run or relay a transaction themselves (tests/python/
  test_architecture.py checks it).
- `relay.py`: every dry run, unsigned transaction for a wallet and relay (a user's signed bytes,
  or a steward's signed action sent from the relayer), over chain/calls.py and chain/sender.py's
  one fee rule.
- `stewards.py`: EIP-712 drafts of steward actions and the checks before a relay (the rules are
  chain/signatures.py's).
- `problems.py`: the one place errors become HTTP statuses, by type (`BY_TYPE`), as problem+json;
  `openapi.py` lists each operation's problem codes from its code.
- `state.py`, `deps.py`, `jobs.py`, `limits.py`, `supervisor.py`: the service's state, its
  dependencies, jobs that survive a restart, request limits, the node kept alive.
"""
