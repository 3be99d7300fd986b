"""The one settings object. Read from HERITAGE_* environment variables or a .env file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.paths import REPO_ROOT


class Settings(BaseSettings):
    """Where data lives and which chain to use. Pass it explicitly; nothing reads it at import."""

    model_config = SettingsConfigDict(env_prefix="HERITAGE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".data"), description="Block store, anvil state, index, artefact cache.")
    rpc_url: str | None = Field(
        default=None, description="An EVM JSON-RPC endpoint; when unset, an embedded anvil is started."
    )
    deployments_dir: Path = Field(
        default=Path(".data/deployments"), description="Contract addresses per chain id, as <chainId>.json."
    )
    private_key: SecretStr | None = Field(
        default=None,
        description="Key to sign with on a node that has no unlocked accounts (with rpc_url); transactions are "
        "then signed locally with EIP-1559 fees and nonces from the nonce manager.",
    )
    ipfs_api_url: str | None = Field(
        default=None, description="A Kubo node's RPC API (e.g. http://127.0.0.1:5001) to store content on; when "
        "unset, the embedded block store under data_dir/blocks is used.",
    )
    artifacts_dir: Path = Field(
        default=REPO_ROOT / "cache" / "artifacts",
        description="Compiled contracts, keyed by a hash of the sources, compiler and settings: safe to share "
        "between data directories, so a new one does not pay for a solc-js run.",
    )
    arbitrators: str = Field(
        default="", description="Comma-separated addresses of the dispute committee (CommitteeArbitrator, 1-16 "
        "distinct members) deployed with the contracts; when unset on the embedded anvil, development accounts "
        "10, 11 and 12 (never a steward, creator or payer of the demo).",
    )
    index_url: str | None = Field(
        default=None, description="The event index's database, e.g. postgresql+psycopg://user@host:5432/db (one "
        "deployment per database); when unset, a SQLite file per deployment under data_dir.",
    )
    trusted_proxies: str = Field(
        default="", description="Comma-separated addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-For "
        "the API believes for the client's address (rate limits); default none: the peer's own address counts.",
    )
    confirmations: int = Field(default=0, ge=0, description="Blocks a receipt must be buried under.")
    anvil_state_interval_s: int = Field(
        default=60, ge=1, description="Seconds between the embedded anvil's dumps of its state to disk. Each dump "
        "writes the whole chain (every block and transaction so far) and stalls the node meanwhile (0.65 s at 4,500 "
        "blocks), so a short interval slows every write as the chain grows; what a crash loses since the last dump "
        "the transaction journal replays at the next start.",
    )
    anvil_block_time_s: float | None = Field(
        default=None, gt=0, description="The embedded anvil's block time, seconds: a block every so often with every "
        "pending transaction, as a real chain. Default none: a block for each transaction as it arrives (automine), "
        "which answers at once but computes the state root, over the whole state, once per transaction.",
    )
    tx_timeout_s: float = Field(default=60.0, gt=0, description="Seconds to wait for a receipt.")
    tx_window: int = Field(default=16, ge=1, description="Transactions in flight per account (geth keeps 16 per account).")
    tx_stuck_s: float | None = Field(default=None, gt=0, description="Seconds before an unmined transaction is replaced "
                                     "with higher fees or re-sent; default: a quarter of tx_timeout_s, at most 30.")
    api_demo: bool = Field(
        default=False, description="Let the API sign with the embedded anvil's development accounts (POST /demo/sign). "
        "Only on chain id 31337; every answer that used it says so. Never on a real chain.",
    )
    api_max_upload_bytes: int = Field(default=50 * 2**20, gt=0, description="Largest file POST /content accepts.")
    api_media_types: tuple[str, ...] = Field(
        default=("audio/", "audio/midi", "audio/x-midi", "application/vnd.recordare.musicxml+xml", "application/xml",
                 "text/xml", "text/vnd.abc", "text/plain", "image/png", "image/jpeg", "application/json"),
        description="Content types POST /content accepts; an entry ending in '/' accepts the whole family.",
    )
    api_max_json_bytes: int = Field(default=2**20, gt=0, description="Largest JSON request body, bytes (413 above).")
    api_max_queued_jobs: int = Field(default=16, gt=0, description="Jobs that may wait in the queue (429 above).")
    api_job_max_bytes: int = Field(default=20 * 2**20, gt=0, description="Largest input an ML job (POST /jobs/…) reads.")
    api_job_max_seconds: float = Field(default=600.0, gt=0, description="Longest recording an ML job reads, seconds.")
    api_writes_per_minute: int = Field(default=600, gt=0, description="Write requests one client address may make a minute.")
    api_signature_ttl_s: int = Field(default=3600, gt=0, description="Deadline the API proposes for a signature, seconds.")
    api_index_refresh_s: float = Field(default=0.5, ge=0, description="How stale the API's catalogue may be, seconds.")
    api_relay_batch: int = Field(default=64, ge=1, description="Steward-signed actions relayed together at most (one 'batch' "
                                 "of transactions through the send window); 1 relays them one at a time.")
    api_relay_linger_s: float = Field(default=0.1, ge=0, description="How long a relay batch waits for more actions "
                                      "when fewer are queued than its last batch took, seconds.")
    listening_secret: SecretStr | None = Field(
        default=None, description="Key (16+ bytes) that signs listening-study invitations and credentials; when unset, "
        "a random key is made once and kept in data_dir/listening/secret.",
    )

    @property
    def arbitrator_addresses(self) -> tuple[str, ...]:
        """`arbitrators` split on commas, blanks dropped."""
        return tuple(a.strip() for a in self.arbitrators.split(",") if a.strip())

    @property
    def blocks_dir(self) -> Path:
        return self.data_dir / "blocks"

    @property
    def anvil_state(self) -> Path:
        return self.data_dir / "anvil-state.json"
