"""A Studio result's registration, for the creator's wallet to sign: a machine-made derivative whose
manifest names the model (its CID, architecture, parameters, seed, metrics, the inputs' CIDs) and
whose parents are the works the job read or was conditioned on, and the model itself when the model
is a registered work (so its training set is credited through it). The upstream share is divided
equally among the parents; the contract checks every root's protocol and floor in the dry run.

As POST /derivatives/drafts: the manifest is stored here, the service commits the registration for
the creator (commit–reveal), and the creator's wallet signs the registration; POST /transactions
relays it.
"""

from __future__ import annotations

from typing import Any

from web3 import Web3

from api.problems import Problem
from api.relay import wallet_transaction
from api.state import ApiState
from chain import calls
from chain import gateway as gw
from chain.types import DerivativeParams, everything_to, parameters_hash
from core.cid import from_text
from core.errors import InputError
from core.manifest import DerivativeManifest, ModelMaker, Parent, make, to_bytes
from core.types import Ppm, WorkId


def parents_of(state: ApiState, result: dict[str, Any]) -> list[int]:
    """The works a result credits: what the job read, then each of its models that is a registered work."""
    works = list(result["registration"]["parents"])
    for m in result["models"]:
        work = gw.work_by_content(state.chain, from_text(m["cid"]))
        if work is not None and work not in works:
            works.append(int(work))
    return works


def shares(total: int, n: int) -> list[int]:
    """`total` ppm in n equal parts, the remainder to the first."""
    part = total // n
    return [total - part * (n - 1)] + [part] * (n - 1)


def draft(state: ApiState, job_id: str, *, creator: str, upstream_ppm: int, commercial: bool, title: str | None) -> dict[str, Any]:
    try:
        job = state.jobs.get(job_id)
    except InputError as err:
        raise Problem(404, "unknown-job", f"no job {job_id!r}: GET /jobs lists the jobs this service knows") from err
    if job.kind not in ("recognition", "classification", "transcription", "generation"):
        raise Problem(409, "not-a-studio-job", f"job {job_id} is a {job.kind} job: only the Studio's results register")
    if job.status != "done" or job.result is None:
        raise Problem(409, "job-not-done", f"job {job_id} is {job.status}; poll GET /jobs/{job_id} until it is done")
    result, creator = job.result, Web3.to_checksum_address(creator)
    reg = result["registration"]
    parents = parents_of(state, result)
    if not parents:
        raise Problem(409, "no-lineage", "the job read no registered work, so no community would be credited: run it on a "
                      "registered work (work_id), or register its input first")
    if len(parents) > 8:
        raise Problem(409, "too-many-parents", f"{len(parents)} parents; a derivative names at most 8")
    if upstream_ppm < len(parents):
        raise Problem(400, "share-too-small", f"{upstream_ppm} ppm cannot be shared among {len(parents)} parents")
    content = result["outputs"][reg["content"]]["cid"]
    if (existing := gw.work_by_content(state.chain, from_text(content))) is not None:
        raise Problem(409, "already-registered", f"this result is work {existing} already; GET /works/{existing}",
                      work_id=int(existing))
    model = result["models"][0]
    ppms = shares(upstream_ppm, len(parents))
    maker = ModelMaker(model_cid=model["cid"], architecture=reg["architecture"] or job.kind, parameters=result["parameters"],
                       seed=result["seed"], inputs=tuple(sorted({i["cid"] for i in result["inputs"]})),
                       metrics=result["metrics"], operator=creator)
    manifest = make(DerivativeManifest, title=(title or reg["title"])[:300], content_cid=content, maker=maker,
                    parents=tuple(Parent(work_id=w, ppm=p) for w, p in zip(parents, ppms, strict=True)),
                    renditions={result["outputs"][r]["media_type"]: result["outputs"][r]["cid"] for r in reg["renditions"]}
                    or None,
                    description=f"Made in the Studio by job {job_id} ({job.kind}); the job's manifest is {result['manifest_cid']}.")
    manifest_cid = state.store.put_bytes(to_bytes(manifest))
    params = DerivativeParams(from_text(content), from_text(manifest_cid), tuple(WorkId(w) for w in parents),
                              tuple(Ppm(p) for p in ppms), everything_to(creator), from_text(model["cid"]),
                              parameters_hash(result["parameters"], result["seed"]), commercial)
    gw.commit_registration(state.chain, creator, params.content, params.salt, sender=state.relayer)
    call = calls.register_derivative(state.chain, params)
    return {"transaction": wallet_transaction(state, call, creator), "manifest_cid": manifest_cid,
            "parents": [{"work_id": w, "ppm": p} for w, p in zip(parents, ppms, strict=True)]}
