"""The Studio's ML jobs (issue 23): recognition, classification, transcription and generation, each
started here and polled with GET /jobs/{id}; a result's registration drafted for the creator's
wallet. The checks and the runs are api/studio.py, api/studio_jobs.py and api/studio_drafts.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api import studio, studio_drafts, studio_jobs
from api.deps import State
from api.limits import UINT64_MAX, UINT256_MAX
from api.models import Address, JobOut
from api.routes.transactions import TxDraft

router = APIRouter(tags=["studio"])

WorkIdField = Field(default=None, ge=1, le=UINT256_MAX, description="A registered work to read (or content_cid).")
CidField = Field(default=None, min_length=10, max_length=200, description="A file uploaded with POST /content (or work_id).")


class InputIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_id: int | None = WorkIdField
    content_cid: str | None = CidField


class RecognitionIn(InputIn):
    top: int = Field(default=3, ge=1, le=20, description="Instruments named per segment.")


class GenerationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tradition: str = Field(min_length=1, max_length=64, description="A tradition id (GET /visual/traditions).")
    works: list[int] = Field(min_length=1, max_length=8, description="Registered works to condition on (their protocols "
                             "must allow machine-learning use).")
    seed: int = Field(default=0, ge=0, le=UINT64_MAX, description="The same seed, model and works give the same piece.")
    seconds: float = Field(default=30.0, ge=1.0, le=120.0)
    bpm: float = Field(default=80.0, ge=20.0, le=300.0)
    temperature: float = Field(default=1.0, ge=0.05, le=5.0)
    prompt_bars: int = Field(default=2, ge=0, le=8)
    instrument: str = Field(default="flute", min_length=1, max_length=40, description="GM instrument of the WAV.")
    mode: str | None = Field(default=None, max_length=64)
    cycle: str | None = Field(default=None, max_length=64)
    audio_metrics: bool = Field(default=True, description="Also measure the WAV's pitch against the mode (a few seconds).")


class JobDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    creator: str = Address
    upstream_ppm: int = Field(default=200_000, ge=1, le=1_000_000, description="Share of each payment routed to the parents.")
    commercial: bool = False
    title: str | None = Field(default=None, min_length=1, max_length=300)


class JobDraft(TxDraft):
    parents: list[dict[str, int]] = Field(description="The works credited and each one's share, ppm.")


def _out(job: Any) -> JobOut:
    return JobOut(**job.to_json())


@router.get("/studio/models", summary="The models the Studio's jobs can load (trained by the user, or shipped)")
def models() -> dict[str, dict[str, Any]]:
    return studio.models_available()


@router.post("/jobs/recognition", status_code=202, response_model=JobOut,
             summary="Instruments per segment of a recording; poll GET /jobs/{id}")
def recognition(state: State, body: RecognitionIn) -> JobOut:
    return _out(studio_jobs.recognition(state, work_id=body.work_id, content_cid=body.content_cid, top=body.top))


@router.post("/jobs/classification", status_code=202, response_model=JobOut,
             summary="Tradition, region and genre distributions of a recording or score; poll GET /jobs/{id}")
def classification(state: State, body: InputIn) -> JobOut:
    return _out(studio_jobs.classification(state, work_id=body.work_id, content_cid=body.content_cid))


@router.post("/jobs/transcription", status_code=202, response_model=JobOut,
             summary="A score image read into MusicXML and MIDI; poll GET /jobs/{id}")
def transcription(state: State, body: InputIn) -> JobOut:
    return _out(studio_jobs.transcription(state, work_id=body.work_id, content_cid=body.content_cid))


@router.post("/jobs/generation", status_code=202, response_model=JobOut,
             summary="A piece in a tradition conditioned on registered works (MIDI, WAV, metrics); poll GET /jobs/{id}")
def generation(state: State, body: GenerationIn) -> JobOut:
    ask = studio_jobs.PieceAsk(body.tradition, tuple(dict.fromkeys(body.works)), body.seed, body.seconds, body.bpm,
                               body.temperature, body.prompt_bars, body.instrument, body.mode, body.cycle, body.audio_metrics)
    return _out(studio_jobs.generation(state, ask))


@router.post("/jobs/{job_id}/drafts", response_model=JobDraft,
             summary="A Studio result's registration as a machine-made derivative, for the creator's wallet to sign")
def draft(state: State, job_id: str, body: JobDraftIn) -> JobDraft:
    return JobDraft(**studio_drafts.draft(state, job_id, creator=body.creator, upstream_ppm=body.upstream_ppm,
                                          commercial=body.commercial, title=body.title))
