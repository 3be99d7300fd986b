"""One root error with a branch per stage. Every message says what went wrong and what to do."""


class HeritageError(Exception):
    """Root of every error Heritage Ledger raises on purpose."""


class InputError(HeritageError):
    """A file, argument or setting given by the user is unusable."""


class ContentStoreError(HeritageError):
    """Content could not be stored, found or verified."""


class ChainError(HeritageError):
    """The EVM node, a compilation or a transaction failed."""


class ToolchainError(ChainError):
    """A required tool (node, solc-js wrapper, anvil) is missing or broken."""


class ModelError(HeritageError):
    """A machine-learning model could not be trained, loaded or run."""


class NotFound(InputError):
    """Something named by its id does not exist (yet): the caller named the wrong one."""


class UnknownWork(NotFound):
    """No work has this id (in the index, or on chain)."""


class UnknownCommunity(NotFound):
    """No community has this id."""


class NodeUnavailable(ChainError):
    """The EVM node does not answer (stopped, restarting, unreachable): start it, or retry shortly."""
