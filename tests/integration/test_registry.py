"""The schema registry as a service of the stack: up, held to a compatibility level, durable.

Issue: "Schema Registry and Avro on the CDC path".
"""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from conftest import LocalStack, wait_for

pytestmark = pytest.mark.integration

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


def call(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """(HTTP status, decoded JSON body) of one request to the registry."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": CONTENT_TYPE})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def record_schema(name: str, fields: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "it", "fields": fields})


def register(stack: LocalStack, subject: str, schema: str) -> tuple[int, Any]:
    return call("POST", f"{stack.registry_url}/subjects/{subject}/versions", {"schema": schema})


def test_registry_is_up_on_loopback_with_the_configured_compatibility(stack: LocalStack) -> None:
    st = stack.status()["registry"]
    assert st["state"] == "healthy", st
    assert st["port"] == stack.ports["registry_port"]
    assert st["facts"]["compatibility"] == "BACKWARD_TRANSITIVE"
    status, body = call("GET", f"{stack.registry_url}/config")
    assert status == 200 and body["compatibilityLevel"] == "BACKWARD_TRANSITIVE", body


def test_compatible_versions_are_kept_and_an_incompatible_one_is_refused(stack: LocalStack) -> None:
    subject = f"it-{uuid.uuid4().hex[:8]}-value"
    v1 = record_schema("User", [{"name": "uuid", "type": "string"}])
    # A new nullable field with a default: a reader of v2 reads v1's records.
    v2 = record_schema(
        "User", [{"name": "uuid", "type": "string"}, {"name": "nick", "type": ["null", "string"], "default": None}]
    )
    # uuid as a long: v1's records cannot be read with it.
    bad = record_schema("User", [{"name": "uuid", "type": "long"}])

    s1, id1 = register(stack, subject, v1)
    s2, id2 = register(stack, subject, v2)
    assert (s1, s2) == (200, 200), (id1, id2)
    assert id1["id"] != id2["id"]
    status, body = register(stack, subject, bad)
    assert status == 409, body
    assert "incompatible" in json.dumps(body).lower(), body
    assert call("GET", f"{stack.registry_url}/subjects/{subject}/versions") == (200, [1, 2])
    # status lists the subject with its latest version and schema id.
    fact = stack.status()["registry"]["facts"][f"subject {subject}"]
    assert fact == f"version 2 (schema id {id2['id']})"


def test_schemas_survive_a_sigkill_of_the_registry(stack: LocalStack) -> None:
    subject = f"it-{uuid.uuid4().hex[:8]}-value"
    schema = record_schema("Durable", [{"name": "uuid", "type": "string"}])
    status, created = register(stack, subject, schema)
    assert status == 200, created

    pid = stack.status()["registry"]["pid"]
    os.kill(pid, signal.SIGKILL)
    # The supervisor restarts it; `up` finds it healthy (or starts it) and changes nothing.
    wait_for(lambda: stack.status()["registry"]["pid"] not in (None, pid), 60, "the registry restarted")
    stack.up()
    st = stack.status()["registry"]
    assert st["state"] == "healthy" and st["pid"] != pid, st

    status, found = call("GET", f"{stack.registry_url}/schemas/ids/{created['id']}")
    assert status == 200 and json.loads(found["schema"]) == json.loads(schema), found
    assert call("GET", f"{stack.registry_url}/subjects/{subject}/versions") == (200, [1])
    status, config = call("GET", f"{stack.registry_url}/config")
    assert config["compatibilityLevel"] == "BACKWARD_TRANSITIVE", config
