"""The schema registry, from the driver: the writer schemas of the CDC topic by id, and the
dead-letter topic's schema registered. Spoken to through the Confluent-compatible API
(`/apis/ccompat/v7`), so any Confluent-compatible registry would do.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from .transforms import UNKNOWN_SCHEMA_ID_RE, AvroWriters

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class RegistryError(RuntimeError):
    """The registry did not answer, or answered something unexpected."""


class Registry:
    """A client of the registry's Confluent-compatible API."""

    def __init__(self, url: str, timeout_s: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE}
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as err:
            text = err.read()
            try:
                return err.code, json.loads(text or b"null")
            except ValueError:
                return err.code, text.decode(errors="replace")
        except (OSError, ValueError) as err:
            raise RegistryError(f"the schema registry at {self.url} did not answer {method} {path}: {err}") from err

    @staticmethod
    def _subject(subject: str) -> str:
        return urllib.parse.quote(subject, safe="")

    def versions(self, subject: str) -> list[int]:
        """The subject's versions; none when the subject does not exist yet."""
        status, body = self._call("GET", f"/subjects/{self._subject(subject)}/versions")
        if status == 404:
            return []
        if status != 200 or not isinstance(body, list):
            raise RegistryError(f"listing the versions of {subject}: HTTP {status} {body!r}")
        return [int(v) for v in body]

    def version(self, subject: str, version: int) -> tuple[int, str]:
        """(schema id, schema) of one version of a subject."""
        status, body = self._call("GET", f"/subjects/{self._subject(subject)}/versions/{version}")
        if status != 200 or not isinstance(body, dict):
            raise RegistryError(f"reading {subject} version {version}: HTTP {status} {body!r}")
        return int(body["id"]), str(body["schema"])

    def schema(self, schema_id: int) -> str | None:
        """The schema with this id; None when the registry has none."""
        status, body = self._call("GET", f"/schemas/ids/{schema_id}")
        if status == 404:
            return None
        if status != 200 or not isinstance(body, dict):
            raise RegistryError(f"reading schema id {schema_id}: HTTP {status} {body!r}")
        return str(body["schema"])

    def register(self, subject: str, schema: str) -> int:
        """Registers `schema` under `subject` (the same schema twice is one version) and
        returns its id."""
        status, body = self._call("POST", f"/subjects/{self._subject(subject)}/versions", {"schema": schema})
        if status != 200 or not isinstance(body, dict):
            raise RegistryError(f"registering a schema under {subject}: HTTP {status} {body!r}")
        return int(body["id"])


def unknown_schema_id(err: BaseException | str | None) -> int | None:
    """The schema id a plan stopped on (transforms.UNKNOWN_SCHEMA_ID), if that is why it failed."""
    if err is None:
        return None
    found = UNKNOWN_SCHEMA_ID_RE.search(str(err))
    return int(found.group(1)) if found else None


class WriterSchemas:
    """The writer schemas of one subject (the CDC topic's values) by id, as the plans need them:
    every version of the subject at start, then each id a plan stopped on. An id the registry
    does not have is remembered as absent, so that its messages are dead-lettered."""

    def __init__(self, registry: Registry, subject: str):
        self.registry = registry
        self.subject = subject
        self._by_id: dict[int, str] = {}
        self._absent: set[int] = set()
        self._lock = threading.Lock()

    def load_subject(self) -> None:
        found = {}
        for v in self.registry.versions(self.subject):
            sid, schema = self.registry.version(self.subject, v)
            found[sid] = schema
        with self._lock:
            self._by_id.update(found)

    def resolve(self, schema_id: int) -> bool:
        """Asks the registry for one id; True if it is a schema (from now on decoded), False if
        the registry has none (from now on dead-lettered)."""
        schema = self.registry.schema(schema_id) if schema_id >= 0 else None
        with self._lock:
            if schema is None:
                self._absent.add(schema_id)
            else:
                self._by_id[schema_id] = schema
                self._absent.discard(schema_id)
        return schema is not None

    def writers(self) -> AvroWriters:
        with self._lock:
            return AvroWriters(dict(self._by_id), frozenset(self._absent))


# The longest wait between two asks while the registry does not answer. It starts beside the job
# and answers about 20 s later: with waits doubling up to 15 s, the job asked at 0, 1, 3, 7, 15
# and 30 s, and sat idle for up to 15 s after the registry was up. One request every 2 s costs
# the registry nothing.
REGISTRY_WAIT_MAX_S = 2.0


def wait_for_registry(action: Callable[[], Any], what: str, stop: threading.Event, log: Callable[[str], None]) -> bool:
    """Runs `action` until the registry answers it (a job started with the stack may come up
    before the registry); False if `stop` was set first."""
    delay = 1.0
    while not stop.is_set():
        try:
            action()
            return True
        except RegistryError as err:
            log(f"waiting for the schema registry ({what}): {err}")
            stop.wait(delay)
            delay = min(delay * 2, REGISTRY_WAIT_MAX_S)
    return False
