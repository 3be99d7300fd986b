"""Simulations as jobs: start a scenario, poll its progress, read its tables and plots.

Each simulation runs on its own embedded anvil under the job's folder, so the synthetic
communities and streams never enter the live catalogue; the results folder is the one
`heritage simulate` writes, and it survives a restart of the service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import State
from api.models import JobOut
from api.problems import Problem
from core.config import Settings
from core.errors import InputError
from core.types import Progress
from economy.scenario import Scenario

router = APIRouter(tags=["simulations"])
MEDIA = {".png": "image/png", ".csv": "text/csv", ".json": "application/json", ".parquet": "application/vnd.apache.parquet"}


class SimulationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: Scenario = Field(default_factory=Scenario, description="Every field and its range: economy/scenario.py.")


def _simulate(scenario: Scenario, settings: Settings) -> Any:
    def work(folder: Path, progress: Progress) -> dict[str, Any]:
        from chain.client import connect
        from core.blockstore import open_store
        from economy.simulate import run

        own = Settings(data_dir=folder / "chain", deployments_dir=folder / "chain" / "deployments",
                       artifacts_dir=settings.artifacts_dir)
        chain = connect(own)
        try:
            summary: dict[str, Any] = run(scenario, chain, open_store(own), folder / "out", progress)
            return summary
        finally:
            chain.close()

    return work


@router.post("/simulations", status_code=202, response_model=JobOut, summary="Start a simulation; poll GET /jobs/{id}")
def start(state: State, body: SimulationIn) -> JobOut:
    job = state.jobs.submit("simulation", body.scenario.model_dump(mode="json"), _simulate(body.scenario, state.settings))
    return JobOut(**job.to_json())


@router.post("/audits", status_code=202, response_model=JobOut,
             summary="Audit the whole catalogue as a job; its result has provenance traceability and each work's checks")
def audit_all(state: State) -> JobOut:
    def work(folder: Path, progress: Progress) -> dict[str, Any]:
        from chain.audit import audit_catalogue

        summary, results = audit_catalogue(state.chain, state.store, progress)
        return {"summary": summary, "failed": [r.to_json() for r in results if not r.ok]}

    return JobOut(**state.jobs.submit("audit", {}, work).to_json())


@router.get("/tuning/economy", summary="The recommender's Pareto front: the latest `heritage tune economy` study")
def tuning_front(state: State) -> dict[str, Any]:
    """Every trial's settings and figures (tuning and held-out listeners), the unconditioned arm,
    the rule and the point it chose: this data directory's latest study, else the one shipped in
    reports/."""
    from economy.tuning_report import latest

    found = latest(state.settings.data_dir)
    if found is None:
        raise Problem(404, "no-tuning-study", "no study yet: run `heritage tune economy` (see --help), then ask again")
    return found


@router.get("/jobs", response_model=list[JobOut], summary="Jobs, newest first")
def jobs(state: State, kind: str | None = None) -> list[JobOut]:
    return [JobOut(**j.to_json()) for j in state.jobs.list(kind)]


@router.get("/jobs/{job_id}", response_model=JobOut, summary="A job's status, progress and result")
def job(state: State, job_id: str) -> JobOut:
    return JobOut(**_job(state, job_id).to_json())


def _job(state: State, job_id: str) -> Any:
    try:
        return state.jobs.get(job_id)
    except InputError as err:
        raise Problem(404, "unknown-job", str(err)) from err


def _file(state: State, job_id: str, name: str) -> Path:
    job = _job(state, job_id)
    if job.kind != "simulation":
        raise Problem(404, "not-a-simulation", f"job {job_id} is a {job.kind} job; its result is in GET /jobs/{job_id}")
    if job.status != "done":
        raise Problem(409, "job-not-done", f"job {job_id} is {job.status}; poll GET /jobs/{job_id} until it is done")
    out = (state.jobs.folder(job_id) / "out").resolve()
    path = (out / name).resolve()
    if path.parent != out or not path.is_file():
        names = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
        raise Problem(404, "unknown-file", f"no file {name!r} in the results; there are: {', '.join(names)}")
    return path


@router.get("/simulations/{job_id}/files", summary="The result files of a finished simulation")
def files(state: State, job_id: str) -> list[str]:
    _file(state, job_id, "summary.json")
    return sorted(p.name for p in (state.jobs.folder(job_id) / "out").iterdir())


@router.get("/simulations/{job_id}/files/{name}", response_class=FileResponse, summary="One result file (plot, table, summary)")
def file(state: State, job_id: str, name: str) -> FileResponse:
    path = _file(state, job_id, name)
    return FileResponse(path, media_type=MEDIA.get(path.suffix, "application/octet-stream"))


@router.get("/simulations/{job_id}/tables/{name}", summary="A result table as JSON records (CSV or parquet)")
def table(state: State, job_id: str, name: str, limit: int = 10_000) -> list[dict[str, Any]]:
    path = _file(state, job_id, name)
    if path.suffix not in (".csv", ".parquet"):
        raise Problem(400, "not-a-table", f"{name} is not a table; tables are the .csv and .parquet files")
    frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    if len(frame.columns) and str(frame.columns[0]).startswith("Unnamed"):  # a CSV written with its index (table2.csv)
        frame = frame.rename(columns={frame.columns[0]: "measure"})
    return [{str(k): v for k, v in row.items()} for row in frame.head(limit).to_dict(orient="records")]
