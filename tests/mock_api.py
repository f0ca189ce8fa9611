"""A `streamflow mock-api` of the test's own (its own port, its own faults), for the tests that
need faults the stack's mock does not inject or requests nobody else makes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request

from conftest import free_ports, streamflow_bin, wait_for


class MockApi:
    """A `streamflow mock-api` of its own, with faults; stopped by pid."""

    def __init__(self, *flags: str, port: int | None = None):
        self.port = port or free_ports(1)[0]
        self.proc = subprocess.Popen(
            [str(streamflow_bin()), "mock-api", "--port", str(self.port), "--fault-seed", "42", *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "STREAMFLOW_CONFIG": "/dev/null"},
        )
        try:
            wait_for(self._healthy, 15, f"mock-api on {self.port}")
        except AssertionError as e:
            self.proc.kill()
            raise AssertionError(f"mock-api did not start: {self.proc.communicate()[0]}") from e

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=5) as r:
            stats: dict[str, int] = json.load(r)
            return stats

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=15)
