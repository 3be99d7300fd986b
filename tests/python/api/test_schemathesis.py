"""Schemathesis over every operation of the API (served by uvicorn on 127.0.0.1 and a free port,
over a real embedded anvil) with all its checks: no 5xx, no status or content type the OpenAPI
document does not list, responses that match their schemas. Bounded: a fixed seed, a few
examples per operation and a wall-clock budget for the whole run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from api.app import create_app
from chain.anvil import free_port
from core.config import Settings
from tests.python.api.conftest import make_settings
from tests.python.services import answers_health

EXAMPLES = 8
BUDGET_S = 90.0
_started: list[float] = []


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(make_settings(tmp_path_factory.mktemp("schemathesis"), api_max_queued_jobs=2))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    assert answers_health(url, timeout=120), "the API did not start"
    app.state.heritage.jobs.stop()  # jobs stay queued: a generated simulation must not take the machine's two cores
    yield url
    server.should_exit = True
    thread.join(timeout=30)


# Every check runs. A schema-valid request may still be refused for what JSON Schema cannot say
# (a signature by the wrong key, a CID with a bad checksum, an unknown content): 400 and 422 are
# accepted answers to schema-valid data, next to the defaults (2xx, 3xx, 401, 403, 404, 409, 429).
CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "413", "415", "422", "429"]}}})


def _operations() -> list[schemathesis.APIOperation]:
    """Every operation, read from the app's OpenAPI document (no server needed to list them)."""
    doc = create_app(Settings()).openapi()
    return [result.ok() for result in schemathesis.openapi.from_dict(doc, config=CONFIG).get_all_operations()]


OPERATIONS = _operations()


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_every_operation_answers_as_documented(operation: schemathesis.APIOperation, mode: schemathesis.GenerationMode,
                                               served: str) -> None:
    if not _started:
        _started.append(time.monotonic())
    if time.monotonic() - _started[0] > BUDGET_S:
        pytest.skip(f"schemathesis budget of {BUDGET_S:.0f} s spent")

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])
    def answers(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=served)

    try:
        answers()
    except Unsatisfiable:
        assert mode is schemathesis.GenerationMode.NEGATIVE  # the operation takes no input that can be invalid
