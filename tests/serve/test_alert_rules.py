"""The Prometheus alerting rules shipped in deploy/prometheus/ are what `streamflow alerts
--rules` writes with the default settings, and Prometheus's own checker accepts them (no server:
`make check` runs this)."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import REPO, streamflow_bin

pytestmark = [pytest.mark.unit]

SHIPPED = REPO / "deploy/prometheus/streamflow-alerts.yml"


def test_the_shipped_rules_are_what_streamflow_alerts_rules_writes() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMFLOW_")}
    rendered = subprocess.run(
        [str(streamflow_bin()), "alerts", "--rules"], capture_output=True, text=True, check=True, env=env
    )
    assert rendered.stdout == SHIPPED.read_text(), f"regenerate: streamflow alerts --rules > {SHIPPED}"


def test_promtool_accepts_the_rules_and_a_threshold_lands_in_them() -> None:
    check = subprocess.run(["promtool", "check", "rules", str(SHIPPED)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 10 rules found" in check.stdout, check.stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMFLOW_")}
    env["STREAMFLOW_ALERTS_CONSUMER_LAG_MESSAGES"] = "777"
    rendered = subprocess.run(
        [str(streamflow_bin()), "alerts", "--rules"], capture_output=True, text=True, check=True, env=env
    )
    assert "expr: streamflow_consumer_lag_messages > 777\n" in rendered.stdout
