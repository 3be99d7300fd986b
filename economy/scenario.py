"""A simulation scenario: what to simulate, read from YAML, every field checked with its range.

`heritage simulate --config scenario.yaml` reads one of these; fields left out take the
defaults below, which are the scenario the README's figures come from. An invalid file is
refused with the field's path and the allowed range.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import InputError
from core.yamlfile import read_mapping


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CatalogueSpec(_Strict):
    """Heritage works from music21's Essen collection, one community per region with enough songs."""

    communities: int = Field(default=12, ge=2, le=40, description="Communities (regions/collections) to register.")
    min_songs: int = Field(default=8, ge=1, le=200, description="A region needs this many songs to become a community.")
    max_works_per_community: int = Field(default=40, ge=1, le=500, description="Heritage works registered per community.")
    derivative_share: float = Field(default=0.3, ge=0, le=2, description="Derivatives per heritage work.")
    machine_share: float = Field(default=0.5, ge=0, le=1, description="Share of derivatives made by a model.")
    upstream_ppm: tuple[int, int] = Field(default=(100_000, 300_000), description="Range of a derivative's share per parent (ppm).")

    @model_validator(mode="after")
    def _range(self) -> CatalogueSpec:
        lo, hi = self.upstream_ppm
        if not 100_000 <= lo <= hi <= 500_000:
            raise ValueError("upstream_ppm must be [lo, hi] with 100000 <= lo <= hi <= 500000 (the floor is 100000)")
        return self


class ListenerSpec(_Strict):
    """The listener population and its sessions."""

    count: int = Field(default=2_000, ge=10, le=1_000_000, description="Listeners.")
    days: float = Field(default=120, gt=0, le=730, description="Simulated days of listening after the warm-up.")
    warmup_days: float = Field(default=30, ge=0, le=365, description="Days of history the recommenders learn from.")
    sessions_per_week: float = Field(default=2.0, gt=0, le=50, description="Mean sessions per listener per week.")
    familiarity: tuple[float, float] = Field(default=(2.0, 5.0), description="Beta(a, b) of familiarity with heritage music.")
    devices: dict[str, float] = Field(default_factory=lambda: {"mobile": 0.6, "desktop": 0.3, "speaker": 0.1},
                                      description="Device shares (they sum to 1).")
    list_length: int = Field(default=20, ge=1, le=200, description="Items recommended per session.")
    taste_dims: int = Field(default=8, ge=1, le=64, description="Dimensions of the hidden taste model.")

    @model_validator(mode="after")
    def _check(self) -> ListenerSpec:
        a, b = self.familiarity
        if a <= 0 or b <= 0:
            raise ValueError("familiarity must be two positive Beta parameters [a, b]")
        if abs(sum(self.devices.values()) - 1) > 1e-6 or any(v < 0 for v in self.devices.values()):
            raise ValueError("devices: shares must be non-negative and sum to 1")
        return self


class ManualSpec(_Strict):
    """Archive/manual settlement: statements per cycle, then reporting and payment delays.

    Defaults follow the usual collective-management practice: usage reported by the platform
    monthly, the distributor's processing delay log-normal (median 9 days), payment after
    the statement (median 6 days); usage without usable metadata is unmatched and goes to the
    "black box", shared out by market share; derivatives carry no lineage, so nothing flows
    upstream; the intermediary keeps a commission.
    """

    statement_days: float = Field(default=30, gt=0, le=366)
    reporting_median_days: float = Field(default=9, ge=0, le=365)
    reporting_sigma: float = Field(default=0.6, ge=0, le=3)
    payment_median_days: float = Field(default=6, ge=0, le=365)
    payment_sigma: float = Field(default=0.5, ge=0, le=3)
    unmatched_heritage: float = Field(default=0.35, ge=0, le=1, description="Share of heritage usage with unusable metadata.")
    unmatched_other: float = Field(default=0.08, ge=0, le=1, description="Share of derivative usage with unusable metadata.")
    commission: float = Field(default=0.15, ge=0, lt=1)


class OnchainSpec(_Strict):
    """On-chain settlement: each batch of usage a usage statement, anchored and settled on the node
    through the statement path (economy/statements/submit.py)."""

    batch_hours: float = Field(default=24, gt=0, le=24 * 90, description="A batch closes after this long …")
    batch_size: int = Field(default=2_000, ge=1, le=100_000, description="… or when it holds this many usage events.")
    aggregate: bool = Field(default=True, description="One statement line per work and batch, not per usage event.")
    submit_minutes: float = Field(default=5, ge=0, le=24 * 60, description="From batch close to submission.")
    max_entries_per_tx: int = Field(default=150, ge=1, le=256, description="Works per settle transaction (gas; contract limit 256).")
    retries: int = Field(default=3, ge=0, le=20)


class RecommenderSpec(_Strict):
    kind: Literal["popularity", "als"] = Field(default="als", description="The collaborative recommender.")
    fair_strength: float = Field(
        default=0.35, ge=0, le=1, description="Strength of the fairness-aware re-ranking in 'ours' (0.35: the strongest "
        "without a significant rise in abandonment on benchmarks/fairness_frontier).")
    candidates: int = Field(default=200, ge=20, le=2_000, description="Best items per listener the re-ranking chooses from.")
    tail_candidates: int = Field(default=20, ge=0, le=200,
                                 description="Long-tail items always among a listener's candidates (in place of the weakest).")
    popularity_blend: float | None = Field(
        default=None, ge=0, le=8, description="Weight of standardised popularity added to the collaborative scores in 'ours'; "
        "None: the weight chosen on the warm-up for NDCG.")
    familiarity_tilt: float = Field(
        default=0.0, ge=-1, le=1, description="Per-listener strength: fair_strength × (1 + tilt × (2 × familiarity − 1)), "
        "clipped to [0, 1]; > 0 re-ranks harder for listeners familiar with heritage music, 0 is one strength for all.")


class Scenario(_Strict):
    name: str = "default"
    seed: int = Field(default=7, ge=0)
    price_wei: int = Field(default=10**13, gt=0, le=10**18, description="Paid per stream.")
    epoch_days: float = Field(default=30, gt=0, le=366, description="Fairness indices are reported per epoch.")
    catalogue: CatalogueSpec = Field(default_factory=CatalogueSpec)
    listeners: ListenerSpec = Field(default_factory=ListenerSpec)
    manual: ManualSpec = Field(default_factory=ManualSpec)
    onchain: OnchainSpec = Field(default_factory=OnchainSpec)
    recommender: RecommenderSpec = Field(default_factory=RecommenderSpec)


def load_scenario(path: Path | None) -> Scenario:
    """The scenario in `path` (YAML), or the defaults when `path` is None."""
    if path is None:
        return Scenario()
    data = read_mapping(path, what="scenario file", fields="name, seed, listeners, …", empty_ok=True,
                        missing="give a scenario YAML file, or omit --config for the defaults")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(scenario)"
            lines.append(f"{where}: {err['msg']}")
        raise InputError(f"{path} is not a valid scenario:\n  " + "\n  ".join(lines)) from exc
