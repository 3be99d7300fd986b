"""The Studio's ML jobs (issue 23): recognition, classification, transcription and generation, run
on the service's one job worker (api/jobs.py) with the functions the CLI calls (`ml.studio`,
`ml.generation.piece`).

Everything that can be refused is refused before a job is queued, with a named problem: the input
(a registered work, or content uploaded with POST /content) must exist, fit `api_job_max_bytes`,
be of the kind the job reads (audio, a score, an image) and, for a recording, last at most
`api_job_max_seconds`; a work whose protocol forbids machine-learning use (or is restricted) is
refused, also when its content is sent by CID instead of by id; the model file must exist
(`ml.defaults.default_model`). A job stores each output by CID, with a manifest (inputs' CIDs, the
model's CID, parameters, seed, metrics, outputs), and its result names them. Drafts of a result's
registration as a machine-made derivative are `api/studio_drafts.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.jobs import Job
from api.problems import Problem
from api.state import ApiState
from chain import gateway as gw
from chain.derive import conditioning_cids
from core.cid import from_text
from core.errors import InputError
from core.types import Cid, Progress
from ml import defaults
from ml import studio as ml_studio

CLASSIFIERS = tuple(k for k in defaults.FILES if k.startswith("classification/"))
MEDIA = {".json": "application/json", ".mid": "audio/midi", ".wav": "audio/wav",
         ".musicxml": "application/vnd.recordare.musicxml+xml"}
MANIFEST_KIND = "heritage-studio-job"


@dataclass(frozen=True)
class JobInput:
    """One input of a job, checked: its content, the work it is (None: unregistered content), its kind."""

    cid: Cid
    work_id: int | None
    data: bytes
    kind: str

    def to_json(self) -> dict[str, Any]:
        return {"cid": self.cid, "work_id": self.work_id, "kind": self.kind, "size": len(self.data)}


# ---------------------------------------------------------------------- checks before a job is queued
def job_input(state: ApiState, *, work_id: int | None, content_cid: str | None, accepts: Sequence[str]) -> JobInput:
    """The checked input named by a work id or a content CID (exactly one)."""
    if (work_id is None) == (content_cid is None):
        raise Problem(400, "input-missing", "name the input with either work_id (a registered work) or content_cid "
                      "(a file uploaded with POST /content), not both")
    if work_id is not None:
        row = state.catalogue().work(work_id)
        if row.content_cid is None:
            raise Problem(409, "work-restricted", f"work {work_id} is restricted (secret/sacred): its content is never read")
        cid = Cid(row.content_cid)
    else:
        assert content_cid is not None
        try:
            raw = from_text(content_cid)
        except (InputError, ValueError) as err:
            raise Problem(400, "invalid-cid", f"{content_cid!r} is not a CIDv1 in base32 ({err})") from err
        cid = Cid(content_cid)
        work_id = gw.work_by_content(state.chain, raw)  # registered content keeps its protocol, however it is named
    if not state.store.has(cid):
        raise Problem(404, "unknown-content", f"no content {cid} here: upload the file with POST /content first")
    if work_id is not None:
        allowed_works(state, [work_id])
    data = _read(state, cid)
    kind = ml_studio.input_kind(data)
    if kind not in accepts:
        what = "not a file this platform reads" if kind == "unknown" else f"a {kind}"
        raise Problem(415, "unsupported-input", f"the input {cid} is {what}; this job reads " +
                      " or ".join(ACCEPTS[k] for k in accepts))
    if kind == "audio":
        seconds = (ml_studio.recording(data) or (0.0, ""))[0]
        limit = state.settings.api_job_max_seconds
        if seconds > limit:
            raise Problem(422, "input-too-long", f"the recording lasts {seconds:.0f} s; jobs read at most {limit:.0f} s "
                          "(settings: api_job_max_seconds): cut it into shorter parts")
    return JobInput(cid, work_id, data, kind)


ACCEPTS = {"audio": "a recording (WAV, FLAC, OGG, MP3, AIFF)", "score": "a score (MIDI, MusicXML, ABC, kern)",
           "image": "a score image (PNG, JPEG, TIFF)"}


def _read(state: ApiState, cid: Cid) -> bytes:
    limit, size, chunks = state.settings.api_job_max_bytes, 0, []
    for block in state.store.cat(cid):  # every block verified against its CID
        size += len(block)
        if size > limit:
            raise Problem(413, "input-too-large", f"the input {cid} is larger than {limit} bytes, the most a job reads "
                          "(settings: api_job_max_bytes): send a shorter or smaller file")
        chunks.append(block)
    return b"".join(chunks)


def allowed_works(state: ApiState, works: Sequence[int]) -> dict[int, Cid]:
    """The content CIDs of `works`, each checked to allow machine-learning use (chain/derive.py's
    check, the one `heritage generate` makes); 404 for an unknown work, 409 for a refused one."""
    cat = state.catalogue()
    for w in works:
        cat.work(w)
    try:
        return conditioning_cids(state.chain, works)
    except InputError as err:
        raise Problem(409, "protocol-forbids-ml", str(err)) from err


def model_file(kind: str) -> Path:
    """The model a job loads (ml/defaults.py: the user's trained one, else the shipped one)."""
    try:
        return defaults.default_model(kind)
    except defaults.NoModel as err:
        raise Problem(409, "no-model", f"{err}. An operator sets HERITAGE_MODELS_DIR to a folder of models, or restores "
                      "the shipped models/ folder; GET /studio/models lists what this service has") from err


def models_available() -> dict[str, dict[str, Any]]:
    """Each model kind: whether a file is there, which, and whether it is a shipped default."""
    out: dict[str, dict[str, Any]] = {}
    for kind in defaults.FILES:
        try:
            path = defaults.default_model(kind)
        except defaults.NoModel:
            out[kind] = {"available": False, "file": None, "shipped": False}
            continue
        out[kind] = {"available": True, "file": path.name, "shipped": defaults.is_shipped(path),
                     "size": path.stat().st_size}
    return out


# ---------------------------------------------------------------------- running and storing
@dataclass
class Outputs:
    """What a job's work writes: files by name (with their media type), its metrics and parameters."""

    files: dict[str, Path]
    result: dict[str, Any]
    parameters: dict[str, Any]
    metrics: dict[str, float]
    seed: int | None = None
    title: str = ""
    architecture: str = ""


Run = Callable[[Path, Progress], Outputs]


def submit(state: ApiState, kind: str, params: dict[str, Any], inputs: Sequence[JobInput], models: Mapping[str, Path],
           run: Run, *, content: str, renditions: Sequence[str] = ()) -> Job:
    """Queue `run` (given the job's folder and a progress callback); its outputs are stored by CID
    with a manifest. `content` names the output a derivative registers; `renditions` its other formats."""
    def work(folder: Path, progress: Progress) -> dict[str, Any]:
        out = run(folder, progress)
        progress("storing the results by CID", 9, 10)
        stored = {name: {"cid": state.store.put_file(path), "media_type": MEDIA.get(path.suffix, "application/octet-stream"),
                         "size": path.stat().st_size} for name, path in sorted(out.files.items())}
        model = {k: {"kind": k, "file": p.name, "cid": state.store.put_file(p), "shipped": defaults.is_shipped(p)}
                 for k, p in models.items()}
        manifest = {"kind": MANIFEST_KIND, "schema_version": 1, "job": kind, "inputs": [i.to_json() for i in inputs],
                    "models": list(model.values()), "parameters": out.parameters, "seed": out.seed, "metrics": out.metrics,
                    "outputs": {k: v["cid"] for k, v in stored.items()}}
        manifest_cid = state.store.put_bytes(json.dumps(manifest, sort_keys=True, indent=1).encode())
        progress("done", 10, 10)
        return {**out.result, "outputs": stored, "manifest_cid": manifest_cid, "models": list(model.values()),
                "inputs": [i.to_json() for i in inputs], "metrics": out.metrics, "parameters": out.parameters, "seed": out.seed,
                "registration": {"content": content, "renditions": list(renditions), "title": out.title,
                                 "architecture": out.architecture,
                                 "parents": sorted({i.work_id for i in inputs if i.work_id is not None})}}

    return state.jobs.submit(kind, params, work)


def input_file(folder: Path, inp: JobInput, stem: str = "input") -> Path:
    """The input written into the job's folder, with the suffix its readers go by."""
    path = folder / f"{stem}{ml_studio.suffix_of(inp.data)}"
    path.write_bytes(inp.data)
    return path


def report(folder: Path, name: str, doc: Any) -> Path:
    path = folder / "out" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1))
    return path
