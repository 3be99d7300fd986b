"""The dashboard's tests run against a real API: `heritage demo` makes a data dir, `heritage api`
serves it on a free port (a real anvil underneath), one tiny simulation runs to completion
through the API, and two works with real media (a WAV recording and a machine-made MIDI
derivative) are registered through the signed write paths, since the demo stores only scores."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.python.dashboard.services import (
    BIN,
    TINY_SCENARIO,
    heritage_api,
    register_audio_heritage,
    register_midi_derivative,
    run_simulation,
)

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Service:
    """The running API and what the fixture put in it."""

    url: str
    data_dir: Path
    job_id: str
    audio_work: int
    midi_work: int


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("dashboard")
    data = root / "data"
    demo = subprocess.run([str(BIN / "heritage"), "demo", "--data-dir", str(data)], capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    with heritage_api(root, "--demo") as url:
        with httpx.Client(base_url=url, timeout=60) as http:
            job_id = run_simulation(http, TINY_SCENARIO)
            audio = register_audio_heritage(http)
            derivative = http.get("/works", params={"kind": "derivative", "limit": 1}).json()["items"][0]["work_id"]
            # 250,000 × the arrangement's 200,000: 50,000 ppm to the Shaanxi root, its floor (v2: per root)
            midi = register_midi_derivative(http, [(audio, 150_000), (derivative, 250_000)])
        yield Service(url, data, job_id, audio, midi)


@pytest.fixture(scope="session")
def api_url(service: Service) -> str:
    """The base URL of the running API."""
    return service.url


@pytest.fixture()
def http(api_url: str) -> Iterator[httpx.Client]:
    """A plain HTTP client of the API, to compare what the dashboard shows with what the API says."""
    with httpx.Client(base_url=api_url, timeout=30) as client:
        yield client
