"""Compile the contracts with solc-js through the project's native-CLI wrapper (py-solc-x).

`compile_source` needs `--combined-json`, which solc-js lacks, so the standard-JSON interface is
used. A solc-js run costs seconds, so artefacts are cached by a hash of every source file, the
compiler settings and the compiler version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx
from solcx.wrapper import get_solc_version

from core.errors import ToolchainError
from core.paths import CONTRACTS_DIR, REPO_ROOT, SOLC_WRAPPER

OZ_PREFIX = "@openzeppelin/contracts/"
OZ_DIR = REPO_ROOT / "node_modules" / "@openzeppelin" / "contracts"
DEPLOYABLE = ("RoyaltyRouter", "ProtocolRules", "HeritageGovernance", "HeritageRegistry", "CommitteeArbitrator",
              "HeritageDisputes", "RoyaltyReceiver", "StudyAttestations", "UsageStatements", "TrainingSets",
              "TrainingSetPot")

SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "viaIR": True,
    "evmVersion": "cancun",
    "remappings": [f"{OZ_PREFIX}=node_modules/{OZ_PREFIX}"],
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}
"""Must match foundry.toml and brownie-config.yaml so that all three build the same bytecode."""


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


def _sources() -> dict[str, str]:
    files = sorted(CONTRACTS_DIR.rglob("*.sol"))
    return {str(p.relative_to(REPO_ROOT)): p.read_text() for p in files}


def _compiler_version() -> str:
    if not SOLC_WRAPPER.exists() or not OZ_DIR.exists():
        raise ToolchainError(
            f"{SOLC_WRAPPER} or {OZ_DIR} is missing: run `npm ci` in {REPO_ROOT} to install solc-js and OpenZeppelin"
        )
    try:
        return str(get_solc_version(SOLC_WRAPPER, with_commit_hash=True))
    except Exception as exc:
        raise ToolchainError(f"the solc-js wrapper {SOLC_WRAPPER} did not answer --version ({exc}); run `npm ci`") from exc


def source_hash() -> str:
    """A hash of every contract source, the settings and the compiler's version."""
    h = hashlib.sha256()
    h.update(json.dumps(SETTINGS, sort_keys=True).encode())
    for name, text in _sources().items():
        h.update(name.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()


def compile_contracts(*, cache_dir: Path) -> dict[str, Artifact]:
    """Compile (or load from `cache_dir`) the deployable contracts, by contract name."""
    version = _compiler_version()
    key = hashlib.sha256((source_hash() + version + ",".join(DEPLOYABLE)).encode()).hexdigest()[:32]
    cached = cache_dir / f"contracts-{key}.json"
    if cached.exists():
        raw = json.loads(cached.read_text())
    else:
        standard_input = {
            "language": "Solidity",
            "sources": {name: {"content": text} for name, text in _sources().items()},
            "settings": SETTINGS,
        }
        try:
            output = solcx.compile_standard(
                standard_input, base_path=str(REPO_ROOT), solc_binary=str(SOLC_WRAPPER)
            )
        except solcx.exceptions.SolcError as exc:
            raise ToolchainError(f"compiling the contracts failed: {exc}") from exc
        raw = {}
        for path, contracts in output["contracts"].items():
            if not path.startswith("contracts/"):
                continue
            for name, data in contracts.items():
                if name in DEPLOYABLE:
                    raw[name] = {
                        "abi": data["abi"],
                        "bytecode": "0x" + data["evm"]["bytecode"]["object"],
                        "deployed_bytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
                    }
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_text(json.dumps(raw))
        tmp.replace(cached)
    return {name: Artifact(name=name, **fields) for name, fields in raw.items()}

