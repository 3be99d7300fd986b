"""Where the repository's own files are, independent of the working directory."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = REPO_ROOT / "contracts"
NODE_BIN = REPO_ROOT / "node_modules" / ".bin"
SOLC_WRAPPER = REPO_ROOT / "scripts" / "solc"
