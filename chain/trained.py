"""A trained model on chain, with its whole training set credited (issue 23): stored by CID,
registered as a machine-made derivative, its training set anchored as a Merkle root with each
community's count, and its split naming the training set's pot.

    r = register_trained(chain, store, model_file=…, architecture=…, training_set=[cid, …], operator=…)

1. The registered works among `training_set` are checked (`trainingsets.plan_training_set`): one
   whose protocol forbids machine-learning use (or derivatives, or restricted) refuses the whole
   model, and nothing is sent.
2. The model is registered (`derive.register_model`) as a derivative of one work per community of
   the set (at most 8): the contract checks their protocols and floors, consent-required communities
   are asked through them, and a derivative's 16-root cap does not limit the set.
3. The set is anchored on the model (`trainingsets.anchor`): each community is paid by its count,
   every member can prove its membership (`heritage model prove`).
4. The model's split routes `set_ppm` of what the model keeps to the training set's pot, the rest
   to the operator.

Every step reads first and sends only what is missing, so a rerun sends nothing. A model whose
registration awaits consent stops after step 2 and says whose; the same call finishes later.
This module imports no `ml` (DESIGN.md): the caller gives the files and CIDs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chain import gateway as gw
from chain import trainingsets as ts
from chain.client import Chain
from chain.derive import DEFAULT_UPSTREAM_PPM, MAX_PARENTS, Derived, register_model
from chain.errors import ContractRevert
from chain.types import Recipient
from core.blockstore import ContentStore
from core.types import PPM, Ppm, WorkId

DEFAULT_SET_PPM = Ppm(500_000)
"""Share of what the model keeps (after its parents' upstream share) routed to its training set's pot."""


@dataclass(frozen=True)
class Registered:
    training_set: int
    """Works the model learned from (content CIDs), registered or not."""
    members: int
    """Of those, the registered works: the set anchored on chain."""
    derived: Derived | None
    """None when no work of the set is registered: nothing to credit, nothing sent."""
    anchored: ts.TrainingSetView | None
    sent: bool
    """Whether this call sent any transaction."""


def register_trained(chain: Chain, store: ContentStore, *, model_file: Path, architecture: str, training_set: Sequence[str],
                     operator: str, parameters: Mapping[str, Any] | None = None, seed: int | None = None,
                     metrics: Mapping[str, float] | None = None, upstream_ppm: int = DEFAULT_UPSTREAM_PPM,
                     set_ppm: int = DEFAULT_SET_PPM) -> Registered:
    """Register `model_file` and anchor its training set (module doc). InputError (nothing sent)
    when a registered member's protocol forbids it."""
    members = [c for c in dict.fromkeys(training_set) if gw.work_by_content(chain, c) is not None]
    if not members:
        return Registered(len(training_set), 0, None, None, False)
    plan = ts.plan_training_set(chain, members)
    parents = [str(plan.sample(c).cid) for c, _ in plan.counts][:MAX_PARENTS]
    params = {**(parameters or {}), "training_set_root": "0x" + plan.tree.root.hex(), "training_set_works": len(members)}
    derived = register_model(chain, store, model_file=model_file, architecture=architecture, learned_from=parents,
                             operator=operator, parameters=params, seed=seed, metrics=metrics, upstream_ppm=upstream_ppm)
    sent = not derived.existing
    model = derived.model_work
    if model is None or derived.pending:
        return Registered(len(training_set), len(members), derived, None, sent)
    anchored = _anchored(chain, model)
    if anchored is None:
        anchored = ts.anchor(chain, store, model, plan, sender=operator)
        sent = True
    split = (Recipient(operator, Ppm(PPM - set_ppm)), Recipient(ts.pot_of(chain, model), Ppm(set_ppm)))
    wanted = tuple(r for r in split if r.ppm)
    if _key(gw.split_of(chain, model)) != _key(wanted):
        gw.set_split(chain, model, wanted, sender=operator)
        sent = True
    return Registered(len(training_set), len(members), derived, anchored, sent)


def _key(split: Sequence[Recipient]) -> list[tuple[str, int]]:
    return sorted((r.account.lower(), int(r.ppm)) for r in split)


def _anchored(chain: Chain, model: WorkId) -> ts.TrainingSetView | None:
    try:
        return ts.training_set(chain, model)
    except ContractRevert as err:
        if err.name == "TrainingSetsNotAnchored":
            return None
        raise
