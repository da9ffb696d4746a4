"""Property-based fuzzing of the HTTP API from its own OpenAPI document: no request gets a 5xx.

In:  the real server (`python -m server` on 127.0.0.1) and its /openapi.json; schemathesis
     generates valid and invalid requests for every operation (uploads included).
Out: every response is below 500; at least 200 requests were sent in all.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from conftest_server import ServerProcess  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

EXAMPLES_PER_OPERATION = 25
MIN_REQUESTS = 200
_sent: list[tuple[str, str, int]] = []


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory):
    proc = ServerProcess(tmp_path_factory.mktemp("fuzz") / "data", max_upload_mb=2).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def api_schema(fuzz_server: ServerProcess):
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")


def _fuzz(schema, mode, sent: list[tuple[str, str, int]]) -> None:
    """Run hypothesis over every operation in one generation mode, recording each response."""
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case) -> None:
            response = case.call(timeout=30)
            sent.append((case.method, case.path, response.status_code))
            assert response.status_code < 500, (
                case.method,
                case.formatted_path,
                case.query,
                response.text[:500],
            )

        try:
            check()
        except Unsatisfiable:  # nothing to make invalid (an operation without inputs)
            assert mode == GenerationMode.NEGATIVE, operation.label


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api_never_answers_5xx(api_schema, mode: str, fuzz_server: ServerProcess) -> None:
    sent: list[tuple[str, str, int]] = []
    _fuzz(api_schema, GenerationMode(mode), sent)
    _sent.extend(sent)
    assert fuzz_server.process is not None and fuzz_server.process.poll() is None
    operations = {(method, path) for method, path, _ in sent}
    assert ("POST", "/api/analyses") in operations, sorted(operations)


@pytest.mark.slow
def test_enough_requests_were_sent() -> None:
    if not _sent:
        pytest.skip("the fuzz tests did not run in this session")
    assert len(_sent) >= MIN_REQUESTS, len(_sent)
    print(f"fuzz: {len(_sent)} requests, statuses {sorted({code for *_, code in _sent})}")
