"""serve's REST API fuzzed from its own OpenAPI document with schemathesis: every documented
operation (the control room's included) is called with generated parameters, valid and
invalid, and no answer may be a 5xx, carry an undocumented status or content type, or differ
from its documented schema. The actions are called without the token (each must be a
documented 401, and nothing is done). The event stream is read event by event and each checked too.

Issue: "Control room: what Control Center gives its users, in StreamFlow's dashboard". Uses the
session's `streaming_stack`.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import LocalStack, wait_for

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def served_schema(streaming_stack: LocalStack) -> Any:
    import urllib.request

    def answers() -> bool:
        try:
            with urllib.request.urlopen(streaming_stack.serve_url + "/healthz", timeout=5) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    wait_for(answers, 60, "serve")
    schema = schemathesis.openapi.from_url(streaming_stack.serve_url + "/api/v1/openapi.json")
    # The event stream sends a snapshot about every second and never ends: schemathesis reads 20
    # events of it per example by default (60 s of the module's 73); 3 still check each one's shape.
    schema.config.max_stream_events = 3
    return schema


schema = schemathesis.pytest.from_fixture("served_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_answer_matches_its_documented_schema(case: Any) -> None:
    case.call_and_validate(
        timeout=30,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
