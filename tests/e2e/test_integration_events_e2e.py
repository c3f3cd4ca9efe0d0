"""The README's "Service integration events" section works as printed against the launcher: a queue subscribed to
the bus in the launcher's moto receives the event of a target created over HTTP (the host and moto's port are
substituted, and the project's python runs the boto3 snippets)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
SECTION = "## Service integration events"


def _blocks() -> list[str]:
    text = (PROJECT_DIR / "README.md").read_text()
    start = text.index(SECTION)
    end = re.compile(r"^## ", re.M).search(text, start + 1)
    return re.findall(r"```sh\n(.*?)```", text[start:end.start() if end else len(text)], flags=re.S)


@pytest.fixture
def quiet_feed(stack):
    """Changes of earlier tests delivered first (sie.enabled off), and the tenant, the rule and the target put
    back afterwards."""
    stack.running.run_changes()
    yield
    assert stack.admin.delete(f"{stack.url}/rest/v1/system/configs/sie.enabled").ok
    stack.admin.delete(f"{stack.url}/rest/v1/targets/sie-demo")
    events = boto3.client("events", endpoint_url=stack.moto_url, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    events.remove_targets(Rule="my-events", EventBusName="skyhawk-events", Ids=["queue"])
    events.delete_rule(Name="my-events", EventBusName="skyhawk-events")


def test_the_readme_subscription_receives_the_target_created(stack, quiet_feed):
    [block] = _blocks()
    script = "set -euo pipefail\n" + (block.replace("http://127.0.0.1:8080", stack.url)
                                      .replace("http://127.0.0.1:4566", stack.moto_url)
                                      .replace(".venv/bin/python", sys.executable))
    with stack.running.draining():  # as on `make run`, whose worker reads the change feed
        done = subprocess.run(["bash", "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    assert done.stdout.splitlines() == ["TargetCreatedEvent sie-demo"]
