"""The operator CLI (`python -m skyhawk_cli`, what `.venv/bin/skyhawk` runs) as a subprocess against the launcher:
login, a module and a set, a direct-to-S3 upload whose progress bar reaches the file's size, an assignment, and
`actions watch` following the action while a device (plain DDI HTTP) downloads and reports, until the target
is in_sync; an action ending in error makes the watch exit 1; configuration files and tasks; a rollout watched
with a bar per group; the README's "Operator CLI" block as printed."""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import time

import pytest
import requests

from tests.e2e.conftest import PROJECT_DIR

README = PROJECT_DIR / "README.md"
SIZE = 4 * 1024 * 1024 + 123  # several chunks of the CLI's 1 MiB reads, the last one short


def _image() -> bytes:
    block = hashlib.sha256(b"cli image").digest() * 32  # 1 KiB, not one repeated byte
    return (block * (SIZE // len(block) + 1))[:SIZE]


class Cli:
    def __init__(self, config_dir) -> None:
        self.env = {k: v for k, v in os.environ.items() if k not in ("SKYHAWK_PASSWORD", "SKYHAWK_PROFILE")}
        self.env.update({"SKYHAWK_CONFIG_DIR": str(config_dir), "COLUMNS": "120"})

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "skyhawk_cli", *args]

    def run(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
        done = subprocess.run(self.command(*args), cwd=PROJECT_DIR, env=self.env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == expect, f"skyhawk {' '.join(args)}: {done.returncode}\n{done.stderr}{done.stdout}"
        return done

    def json(self, *args: str) -> dict | list:
        return json.loads(self.run(*args, "--json").stdout)

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(*args), cwd=PROJECT_DIR, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


class Device:
    """A device as a DDI client runs it: its target token, plain HTTP."""

    def __init__(self, url: str, controller_id: str, token: str) -> None:
        self.base = f"{url}/DEFAULT/controller/v1/{controller_id}"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"TargetToken {token}"

    def poll(self) -> str | None:
        resp = self.session.get(self.base)
        assert resp.status_code == 200, resp.text
        return resp.json().get("_links", {}).get("deploymentBase", {}).get("href")

    def deployment(self) -> dict:
        href = self.poll()
        assert href, "no deployment for the device"
        return self.session.get(href).json()

    def feedback(self, action_id: str, execution: str, finished: str, *details: str) -> None:
        body = {"id": action_id, "status": {"execution": execution, "result": {"finished": finished},
                                            "details": list(details)}}
        resp = self.session.post(f"{self.base}/deploymentBase/{action_id}/feedback", json=body)
        assert resp.status_code == 200, resp.text


@pytest.fixture(scope="module")
def cli(stack, tmp_path_factory):
    config_dir = tmp_path_factory.mktemp("skyhawk-config")
    cli = Cli(config_dir)
    cli.run("login", "--url", stack.url, "--tenant", "DEFAULT", "--user", "admin", "--password", "admin")
    profiles = config_dir / "profiles.json"
    assert stat.S_IMODE(profiles.stat().st_mode) == 0o600
    assert json.loads(profiles.read_text())["profiles"]["default"]["url"] == stack.url
    resp = stack.admin.put(f"{stack.url}/rest/v1/system/configs/authentication.targettoken.enabled",
                           json={"value": True})
    assert resp.status_code == 200
    return cli


def _admin_set(stack, name: str) -> int:
    """A set of one module without artifacts, made over plain HTTP (the CLI's own are tested once, above all)."""
    admin, url = stack.admin, stack.url
    module = admin.post(f"{url}/rest/v1/softwaremodules", json=[{"name": name, "version": "1.0", "type": "os"}])
    ds = admin.post(f"{url}/rest/v1/distributionsets", json=[{"name": f"{name}-ds", "version": "1.0", "type": "os",
                                                               "modules": [{"id": module.json()[0]["id"]}]}])
    assert ds.status_code == 201, ds.text
    return ds.json()[0]["id"]


def _admin_targets(stack, *controller_ids: str) -> list[Device]:
    body = [{"controllerId": c, "securityToken": f"tok-{c}"} for c in controller_ids]
    assert stack.admin.post(f"{stack.url}/rest/v1/targets", json=body).status_code == 201
    return [Device(stack.url, c, f"tok-{c}") for c in controller_ids]


def test_upload_assign_and_watch_until_in_sync(stack, cli, tmp_path):
    image = _image()
    cli.run("targets", "create", "cli-dev", "--token", "tok-cli-dev")
    device = Device(stack.url, "cli-dev", "tok-cli-dev")
    assert device.poll() is None
    stack.s3.clear()

    module = cli.json("modules", "create", "--name", "cli-fw", "--version", "1.0", "--type", "os")
    (tmp_path / "cli-fw.img").write_bytes(image)
    uploaded = cli.run("upload", str(module["id"]), str(tmp_path / "cli-fw.img"))
    ds_id = cli.json("sets", "create", "--name", "cli-fw-ds", "--version", "1.0", "--module", str(module["id"]))["id"]
    # The bytes went to S3 in one PUT (through the strict S3 proxy), and the bar counted every one of them
    assert [s.status for s in stack.s3.seen() if s.method == "PUT"] == [200]
    mb = f"{SIZE / 1e6:.1f}"
    assert "100%" in uploaded.stderr and f"{mb}/{mb} MB" in uploaded.stderr, uploaded.stderr
    for algorithm in ("md5", "sha1", "sha256"):
        assert getattr(hashlib, algorithm)(image).hexdigest() in uploaded.stdout, uploaded.stdout

    assigned = cli.json("assign", str(ds_id), "cli-dev", "--type", "forced")
    assert assigned["assigned"] == 1
    action_id = assigned["assignedActions"][0]["id"]
    assert cli.json("targets", "show", "cli-dev")["updateStatus"] == "pending"

    watch = cli.start("actions", "watch", str(action_id), "--interval", "0.2", "--timeout", "25")
    try:
        deployment = device.deployment()
        assert deployment["id"] == str(action_id)
        artifact = deployment["deployment"]["chunks"][0]["artifacts"][0]
        got = device.session.get(artifact["_links"]["download-http"]["href"])
        assert got.status_code == 200 and got.content == image
        device.feedback(deployment["id"], "proceeding", "none", "installing from the CLI test")
        time.sleep(0.5)  # a poll of the watch sees the running action with its new history entry
        device.feedback(deployment["id"], "closed", "success")
        out, err = watch.communicate(timeout=30)
    finally:
        watch.kill()
    assert watch.returncode == 0, err + out
    assert f"action {action_id} on cli-dev: finished" in out
    assert "installing from the CLI test" in err and "Target reported CLOSED with OK" in err

    target = cli.json("targets", "show", "cli-dev")
    assert target["updateStatus"] == "in_sync"
    assert target["installedDS"]["id"] == ds_id
    assert [(a["id"], a["status"]) for a in target["actions"]] == [(action_id, "finished")]
    assert "in_sync" in cli.run("targets", "show", "cli-dev").stdout
    listed = cli.json("targets", "list", "--query", "controllerId==cli-dev")
    assert [t["updateStatus"] for t in listed["content"]] == ["in_sync"]


def test_watch_exits_non_zero_when_the_action_fails(stack, cli):
    [device] = _admin_targets(stack, "cli-bad")
    [action] = cli.json("assign", str(_admin_set(stack, "cli-bad-fw")), "cli-bad", "--type", "soft")["assignedActions"]
    watch = cli.start("actions", "watch", str(action["id"]), "--interval", "0.2", "--timeout", "25")
    try:
        device.feedback(device.deployment()["id"], "closed", "failure", "disk full")
        out, err = watch.communicate(timeout=30)
    finally:
        watch.kill()
    assert watch.returncode == 1, err + out
    assert f"action {action['id']} on cli-bad: error" in out and "disk full" in err
    # and a watch that runs out of time says so with its own exit code
    [again] = cli.json("assign", str(_admin_set(stack, "cli-bad-fw2")), "cli-bad")["assignedActions"]
    timed_out = cli.run("actions", "watch", str(again["id"]), "--interval", "0.1", "--timeout", "0.3", expect=4)
    assert "still running" in timed_out.stderr


def test_configuration_files_and_tasks(stack, cli, tmp_path):
    local = tmp_path / "app.json"
    local.write_bytes(b'{"sampleRate": 100}')
    first = cli.json("config", "files", "push", "cli-dev/app.json", str(local), "--description", "sampling")
    assert first["created"] is True and first["head"] == hashlib.sha256(local.read_bytes()).hexdigest()
    local.write_bytes(b'{"sampleRate": 250}')
    second = cli.json("config", "files", "push", "cli-dev/app.json", str(local), "--if-match", first["head"])
    assert second["created"] is False and second["id"] == first["id"]
    stale = cli.run("config", "files", "push", "cli-dev/app.json", str(local), "--if-match", first["head"], expect=1)
    assert "412" in stale.stderr
    assert cli.run("config", "files", "pull", "cli-dev/app.json").stdout == '{"sampleRate": 250}'
    cli.run("config", "files", "pull", "cli-dev/app.json", "--revision", first["head"], "-o", str(tmp_path / "old"))
    assert (tmp_path / "old").read_bytes() == b'{"sampleRate": 100}'
    pulled = cli.json("config", "files", "pull", "cli-dev/app.json")
    assert (pulled["content"], pulled["sha256"]) == ('{"sampleRate": 250}', second["head"])
    assert [f["path"] for f in cli.json("config", "files", "list", "--prefix", "cli-dev/")] == ["cli-dev/app.json"]

    task = cli.json("config", "tasks", "create", "cli-dev", "--file", "cli-dev/app.json")
    assert task["currentState"]["state"] == "CREATED"
    assert task["files"][0]["checksum"] == f"sha256:{second['head']}"
    assert cli.json("config", "tasks", "release", "cli-dev", task["id"])["currentState"]["state"] == "CONFIGURE"
    shown = cli.json("config", "tasks", "show", "cli-dev", task["id"])
    assert [h["state"] for h in shown["history"]] == ["CREATED", "CONFIGURE"]
    assert [t["id"] for t in cli.json("config", "tasks", "list", "cli-dev")] == [task["id"]]
    missing = cli.run("config", "tasks", "create", "cli-dev", "--file", "cli-dev/none.json", expect=1)
    assert "no configuration file with path 'cli-dev/none.json'" in missing.stderr


def test_rollout_watch_shows_each_group_to_the_end(stack, cli):
    devices = _admin_targets(stack, *(f"cli-ro-{i}" for i in range(4)))
    ds_id = _admin_set(stack, "cli-ro-fw")
    admin, url = stack.admin, stack.url
    with stack.running.draining():
        rollout = admin.post(f"{url}/rest/v1/rollouts", json={
            "name": "cli wave", "distributionSetId": ds_id, "targetFilterQuery": "controllerId==cli-ro-*",
            "amountGroups": 2, "successCondition": {"condition": "THRESHOLD", "expression": "100"}}).json()
        deadline = time.monotonic() + 15
        while admin.get(f"{url}/rest/v1/rollouts/{rollout['id']}").json()["status"] != "ready":
            assert time.monotonic() < deadline, "the rollout never got ready"
            time.sleep(0.1)
        assert admin.post(f"{url}/rest/v1/rollouts/{rollout['id']}/start").status_code == 200
        watch = cli.start("rollouts", "watch", str(rollout["id"]), "--interval", "0.2", "--timeout", "25")
        try:
            pending = list(devices)
            while pending and time.monotonic() < deadline + 10:
                for device in list(pending):
                    if device.poll():
                        device.feedback(device.deployment()["id"], "closed", "success")
                        pending.remove(device)
                time.sleep(0.2)
            assert not pending, "some devices never got their deployment"
            out, err = watch.communicate(timeout=30)
        finally:
            watch.kill()
    assert watch.returncode == 0, err + out
    assert f"rollout {rollout['id']} cli wave: finished" in out
    assert "group-1" in err and "group-2" in err and err.count("2/2") >= 2, err
    shown = cli.json("rollouts", "show", str(rollout["id"]))
    assert [(g["name"], g["totalTargetsPerStatus"]["finished"]) for g in shown["deployGroups"]] == \
        [("group-1", 2), ("group-2", 2)]


def _operator_cli_blocks() -> list[str]:
    text = README.read_text()
    start = text.index("\n## Operator CLI\n")
    end = re.compile(r"^## ", re.M).search(text, start + 2)
    return re.findall(r"```sh\n(.*?)```", text[start:end.start() if end else len(text)], flags=re.S)


def test_readme_operator_cli_runs_as_printed(stack, tmp_path):
    """Run from a directory whose .venv/bin/skyhawk runs this checkout's CLI; only the host is substituted."""
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "skyhawk").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m skyhawk_cli "$@"\n')
    (bin_dir / "skyhawk").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("SKYHAWK_PASSWORD", "SKYHAWK_PROFILE")}
    env.update({"PYTHONPATH": str(PROJECT_DIR), "SKYHAWK_CONFIG_DIR": str(tmp_path / "config")})
    [block] = _operator_cli_blocks()
    script = "set -euo pipefail\n" + block.replace("http://127.0.0.1:8080", stack.url)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    out = done.stdout
    head = hashlib.sha256(b'{"sampleRate": 100}').hexdigest()
    expected = [f"Logged in to {stack.url} as admin (tenant DEFAULT)", "target cli01 created\n",
                "firmware.img (8000000 bytes) added to software module", "on cli01: finished\n", "in_sync\n",
                "cli01/app.json (created, id", f"head {head}\n",
                '{"sampleRate": 100}', "for cli01: CONFIGURE 0%\n"]
    at = 0
    for fragment in expected:
        found = out.find(fragment, at)
        assert found >= 0, f"{fragment!r} missing after position {at} in:\n{out}"
        at = found + len(fragment)
    assert "100% 8.0/8.0 MB" in done.stderr and "Target reported CLOSED with OK" in done.stderr
