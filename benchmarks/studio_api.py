"""The Studio's jobs through the API, end to end, beside the same functions called in-process.

    .venv/bin/python -m benchmarks.studio_api [--repeats 5] [--models DIR]

The service runs as its own process (`heritage api`, uvicorn, its one job worker) on a fresh data
dir and embedded anvil. Each job's input is registered first (a 30-s recording, a one-page score
image, a Han song in ABC); then, per job, `--repeats` times: POST /jobs/<kind> → poll GET /jobs/{id}
every 20 ms until done (end to end: the checks, the queue, the run, storing the outputs and the
manifest by CID, the HTTP); and the same function the job runs, called in this process
(`ml.studio.recognise`, `classify`, `transcribe`; `make_piece_from_works` + `pitch_on_grid`). One
unmeasured run of each warms both sides (models loaded once and kept on both). Medians; the ratio
is the API's overhead. While each job runs, a second client asks GET /health every 0.1 s: the
longest answer is how long the service kept everyone else waiting, measured apart for the first
(cold: models loaded, numba compiled) job of each kind (`--service-tree` runs the
service from an older tree, e.g. the commit before its model runs moved to a child process).

Models: `--models DIR` (a folder named as ml/defaults.py names them: the shipped models/ or the
user's cache/models); without it, tiny models trained here in seconds (tests/python/api/studio_models.py),
so the ML time is small and the ratio shows the overhead at its largest. Writes
benchmarks/results/studio_api.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import soundfile as sf  # type: ignore[import-untyped]
from PIL import Image
from rich.console import Console
from rich.table import Table

from chain.sender import dev_account
from chain.signatures import sign
from core.types import Cid

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent  # the service runs this tree's code, whichever checkout the venv names
HERITAGE = str(Path(sys.executable).parent / "heritage")
HAN = "chinese_pentatonic"
console = Console()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _send(http: httpx.Client, key: Any, draft: dict[str, Any]) -> dict[str, Any]:
    raw = key.sign_transaction(draft["transaction"]).raw_transaction.to_0x_hex()
    r = http.post("/transactions", json={"raw": raw})
    r.raise_for_status()
    out: dict[str, Any] = r.json()
    return out


def _register(http: httpx.Client, community: int, steward: Any, data: bytes, media: str) -> int:
    cid = http.post("/content", files={"file": ("input", data, media)}).json()["cid"]
    draft = http.post("/works/drafts", json={"community_id": community, "steward": steward.address, "content_cid": cid,
                                             "title": "benchmark input", "protocol": {"floor_ppm": 10_000}}).json()
    r = http.post("/works", json={"typed_data": draft["typed_data"], "signer": steward.address,
                                  "signature": "0x" + sign(draft["typed_data"], steward.key).hex()})
    r.raise_for_status()
    return int(r.json()["work_id"])


def _inputs(songs: list[str]) -> dict[str, tuple[bytes, str]]:
    """A 30-s recording (synthetic reed), a one-page score image (an Essen song's lines engraved and
    stacked), and a Han song in ABC."""
    from ml.omr.data import render_lines
    from tests.python.ml.synthetic import SR, melody

    buf = io.BytesIO()
    sf.write(buf, melody("reed", seconds=30.0, seed=1), SR, format="WAV", subtype="PCM_16")
    lines = [line.image for song in songs for line in render_lines(song, width_px=1024)][:8]
    width = max(x.shape[1] for x in lines) + 160
    page = np.full((sum(x.shape[0] + 12 for x in lines) + 120, width), 240, dtype=np.uint8)
    y = 60
    for x in lines:
        page[y: y + x.shape[0], 80: 80 + x.shape[1]] = np.minimum(x, 240)
        y += x.shape[0] + 12
    png = io.BytesIO()
    Image.fromarray(page).save(png, format="PNG")
    return {"audio": (buf.getvalue(), "audio/wav"), "image": (png.getvalue(), "image/png"),
            "song": (songs[0].encode(), "text/vnd.abc")}


def _through_api(http: httpx.Client, kind: str, body: dict[str, Any], probes: list[float] | None = None,
                 failed: list[float] | None = None) -> float:
    """One job end to end; meanwhile (when `probes` is given) another client asks GET /health every
    0.1 s and records how long each answer took: what any other user of the service waits."""
    stop = threading.Event()
    failed = failed if failed is not None else []

    def probe() -> None:
        with httpx.Client(base_url=http.base_url, timeout=120) as other:
            while not stop.is_set():
                t = time.perf_counter()
                try:
                    other.get("/health").raise_for_status()
                except httpx.HTTPError:  # a refused or reset answer counts as an error, timed all the same
                    failed.append(time.perf_counter() - t)
                assert probes is not None
                probes.append(time.perf_counter() - t)
                stop.wait(0.1)

    prober = threading.Thread(target=probe, daemon=True)
    if probes is not None:
        prober.start()
    t0 = time.perf_counter()
    try:
        r = http.post(f"/jobs/{kind}", json=body)
        r.raise_for_status()
        job_id = r.json()["job_id"]
        while (job := http.get(f"/jobs/{job_id}").json())["status"] in ("queued", "running"):
            time.sleep(0.02)
    finally:
        stop.set()
        if probes is not None:
            prober.join(130)
    if job["status"] != "done":
        raise RuntimeError(f"{kind} job {job['status']}: {job['error']}")
    return time.perf_counter() - t0


def _in_process(kind: str, files: dict[str, Path], models: Path, out: Path, song_cid: str) -> Callable[[int], None]:
    from ml import defaults
    from ml.studio import classify, pitch_on_grid, recognise, transcribe

    def run(seed: int) -> None:
        if kind == "recognition":
            recognise(files["audio"], model=defaults.default_model("recognition"))
        elif kind == "classification":
            classify(files["audio"], models=sorted((models / "classification").glob("*.pt")))
        elif kind == "transcription":
            transcribe(files["image"], model=defaults.default_model("omr"), out=out)
        else:
            from ml.generation.piece import PieceSettings, make_piece_from_works
            from ml.generation.train import load
            from ml.saved import cached
            from ml.tradition import load_tradition

            saved = cached(defaults.default_model("generation"), load)
            piece = make_piece_from_works(saved, load_tradition(HAN), {1: files["song"].read_bytes()}, {1: Cid(song_cid)},
                                          settings=PieceSettings(seconds=30.0, seed=seed), out=out,
                                          multimodal_path=defaults.candidates("multimodal")[0])
            pitch_on_grid(Path(piece["wav"]), tradition=HAN)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", type=Path, default=None, help="A folder of models (default: tiny ones trained here).")
    parser.add_argument("--service-tree", type=Path, default=None,
                        help="Run the service from this source tree (e.g. an older commit extracted with `git archive`), "
                             "to compare; the in-process side always runs this tree.")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    from ml.runtime import reproducible

    reproducible(threads=1)  # the service's worker and this process each use one of the two cores
    from ml.data.corpora import essen
    from tests.python.api.studio_models import tiny_models

    models = args.models
    if models is None:
        models = tmp / "models"
        songs = tiny_models(models)
        which = "tiny models trained here (tests/python/api/studio_models.py): the shipped models were not available"
    else:
        songs = [p.abc for p in sorted(essen(("Chinese Han",)), key=lambda p: p.cid)[:3]]
        which = f"models from {models}"
    os.environ["HERITAGE_MODELS_DIR"] = str(models)
    inputs = _inputs(songs)
    files = {name: tmp / f"input-{name}{'.wav' if name == 'audio' else '.png' if name == 'image' else '.abc'}"
             for name in inputs}
    for name, (data, _) in inputs.items():
        files[name].write_bytes(data)

    port = _free_port()
    log = (tmp / "api.log").open("w")
    proc = subprocess.Popen([HERITAGE, "api", "--port", str(port), "--data-dir", str(tmp / "data")], stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1",
                                                           "PYTHONPATH": str((args.service_tree or ROOT).resolve())})
    rows: list[dict[str, Any]] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the API did not start: {tmp / 'api.log'}")
                time.sleep(0.3)
            steward = dev_account(1)
            _send(http, steward, http.post("/communities/drafts", json={
                "sender": steward.address, "name": "bench", "stewards": [steward.address], "threshold": 1,
                "treasury": dev_account(2).address}).json())
            community = int(http.get("/communities").json()["total"])
            work = {name: _register(http, community, steward, data, media) for name, (data, media) in inputs.items()}
            song_cid = http.get(f"/works/{work['song']}").json()["content_cid"]
            jobs: dict[str, tuple[str, Callable[[int], dict[str, Any]]]] = {
                "recognition": ("30-s recording", lambda s: {"work_id": work["audio"]}),
                    "classification": ("30-s clip", lambda s: {"work_id": work["audio"]}),
                    "transcription": ("one-page score image", lambda s: {"work_id": work["image"]}),
                    "generation": ("30-s piece", lambda s: {"tradition": HAN, "works": [work["song"]], "seed": s,
                                                            "seconds": 30.0})}
            for kind, (what, body) in jobs.items():
                local = _in_process(kind, files, models, tmp / "out", song_cid)
                first: list[float] = []
                errors: list[float] = []
                _through_api(http, kind, body(100), first, errors)  # warm: models loaded and kept on both sides
                local(100)
                probes: list[float] = []
                api_s = [_through_api(http, kind, body(i), probes, errors) for i in range(args.repeats)]
                local_s = []
                for i in range(args.repeats):
                    t0 = time.perf_counter()
                    local(i)
                    local_s.append(time.perf_counter() - t0)
                a, b = statistics.median(api_s), statistics.median(local_s)
                rows.append({"job": kind, "input": what, "api_median_s": round(a, 3), "in_process_median_s": round(b, 3),
                             "ratio": round(a / b, 2), "api_s": [round(x, 3) for x in api_s],
                             "in_process_s": [round(x, 3) for x in local_s], "health_probes": len(probes),
                             "health_median_s": round(statistics.median(probes), 4) if probes else None,
                             "health_max_s": round(max(probes), 3) if probes else None,
                             "first_job_s": None, "health_max_first_s": round(max(first), 3) if first else None,
                             "health_errors": len(errors)})
                console.print(f"{kind}: API {a:.3f} s, in-process {b:.3f} s, ×{a / b:.2f}; GET /health meanwhile: "
                              f"max {rows[-1]['health_max_s']} s over {len(probes)} asks; during the first (cold) job "
                              f"max {rows[-1]['health_max_first_s']} s; {len(errors)} failed")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    model_files = sorted(p for p in models.rglob("*.pt"))
    out = {"service_tree": str(args.service_tree or "this tree"), "load_average": os.getloadavg(),
           "models": which, "model_files": {str(p.relative_to(models)): p.stat().st_size for p in model_files},
           "repeats": args.repeats, "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    name = "studio_api.json" if args.service_tree is None else "studio_api_baseline.json"
    (RESULTS / name).write_text(json.dumps(out, indent=1))
    t = Table(title=f"Studio jobs through the API vs in-process ({which}); medians of {args.repeats}")
    for col in ("job", "input", "API (s)", "in-process (s)", "ratio", "GET /health meanwhile: median / max (s)",
                "max during the first job (s)", "failed"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["job"], r["input"], f"{r['api_median_s']:.3f}", f"{r['in_process_median_s']:.3f}", f"{r['ratio']:.2f}",
                  f"{r['health_median_s']} / {r['health_max_s']}", f"{r['health_max_first_s']}", str(r["health_errors"]))
    console.print(t)


if __name__ == "__main__":
    main()
