"""Crash-point sweeps (issue 6, "no orphans"): every AWS call of target delete, module delete, artifact
delete and upload, bulk creates, assignment and feedback is made the one where the Lambda dies.

Each crash must leave the old state, the new state, or a partial state that a retry of the request or one
reaper run turns into the old or new state; and a target re-created after a crashed delete inherits nothing.
The figures (tried / left old or new / partial / repaired) are printed with `-s` and summed in
`test_crash_point_totals`.
"""
from __future__ import annotations

import json

import pytest

from tests.api import crash_sweep, dcs_steps, steps
from tests.conftest import ADMIN, TENANT

JSON = {**ADMIN, "Content-Type": "application/json"}
REPORTS: dict[str, crash_sweep.Report] = {}


def _record(report: crash_sweep.Report) -> crash_sweep.Report:
    REPORTS[report.name] = report
    print("\n" + report.summary())
    for outcome in report.partial:
        print(f"  at {outcome.point} ({outcome.call}): retry -> {outcome.by_retry}, reaper -> {outcome.by_reaper}")
    return report


def _warm_up(client):
    """Fill the process caches every request of the sweeps reads (verified login, tenant configuration)."""
    from chalicelib.services import tenant_config

    def warm():
        assert client.http.get("/rest/v1/userinfo", headers=ADMIN).status_code == 200
        tenant_config.values(TENANT)
    return warm


def _assert_safe(report: crash_sweep.Report) -> None:
    assert not report.unrepaired, [(o.point, o.call, o.detail) for o in report.unrepaired]


# --- what the sweeps observe ---------------------------------------------------------------------------
def _usage(quota: str) -> int:
    from chalicelib.store import counters
    return counters.usage(TENANT, quota)


def _status(client, path: str) -> int:
    return client.http.get(path, headers=ADMIN).status_code


def _target_item(controller_id: str):
    from chalicelib.store.tables import Target
    try:
        return Target.get(TENANT, controller_id, consistent_read=True)
    except Target.DoesNotExist:
        return None


def _actions_of(controller_id: str) -> list:
    from chalicelib.store.tables import Action
    return list(Action.query(f"{TENANT}#{controller_id}", consistent_read=True))


def _history_count(action_ids) -> int:
    from chalicelib.store.tables import ActionStatusEntry
    return sum(1 for a in action_ids for _ in ActionStatusEntry.query(f"{TENANT}#{a}", consistent_read=True))


def _device_items(controller_id: str) -> tuple[int, int]:
    from chalicelib.store.workflow_tables import DeviceConfigurationEntry, WorkflowInstance
    instances = sum(1 for _ in WorkflowInstance.by_device.query(f"{TENANT}#{controller_id}"))
    configuration = sum(1 for _ in DeviceConfigurationEntry.query(f"{TENANT}#{controller_id}"))
    return instances, configuration


# --- target delete ----------------------------------------------------------------------------------
def _device_with_history(client, controller_id: str, token: str) -> list[int]:
    """Two actions (one installed, one open) with history, two configuration tasks (one CONFIGURED)."""
    steps.create_target(client, controller_id, token)
    ds1, _ = steps.release(client, name="one", version="1")
    ds2, _ = steps.release(client, name="two", version="2")
    first = steps.assign(client, ds1, controller_id)["assignedActions"][0]["id"]
    steps.feedback(client, controller_id, token, first, "proceeding", "none")
    steps.feedback(client, controller_id, token, first, "closed", "success")
    second = steps.assign(client, ds2, controller_id)["assignedActions"][0]["id"]
    steps.feedback(client, controller_id, token, second, "proceeding", "none")
    file = dcs_steps.file_with_head(client, "/app.json", b'{"a": 1}')
    files = [{"name": "app.json", "uri": dcs_steps.content_uri(file["id"], file["head"])}]
    done = dcs_steps.create_task(client, controller_id, files)
    dcs_steps.release(client, controller_id, done["id"])
    for state in ("CONFIGURING", "CONFIGURED"):
        resp = dcs_steps.patch_task(client, controller_id, done["id"], {"state": state, "progress": 1},
                                    headers=dcs_steps.bearer(token))
        assert resp.status_code == 200, resp.body
    dcs_steps.create_task(client, controller_id, files)
    return [first, second]


def _inherits_nothing(client, controller_id: str) -> list[str]:
    """What a target of this id sees of any earlier one (empty when it sees nothing)."""
    seen = []
    actions = json.loads(client.http.get(f"/rest/v1/targets/{controller_id}/actions", headers=ADMIN).body)
    if actions["total"]:
        seen.append(f"{actions['total']} action(s)")
    target = steps.target(client, controller_id)
    if target.get("updateStatus") != "unknown":
        seen.append(f"update status {target.get('updateStatus')}")
    for path in ("configurationTasks", "configuration"):
        listed = json.loads(client.http.get(f"{dcs_steps.DCS}/devices/{controller_id}/{path}", headers=ADMIN).body)
        if listed["content"]:
            seen.append(f"{len(listed['content'])} {path}")
    return seen


def test_target_delete(client):
    steps.enable_target_tokens(client)
    action_ids = _device_with_history(client, "t1", "tok-t1")
    inherited: list[tuple[int, list[str]]] = []
    crashes = iter(range(1, 10_000))

    def operation():
        return client.http.delete("/rest/v1/targets/t1", headers=ADMIN)

    def observe():
        item = _target_item("t1")
        return (_status(client, "/rest/v1/targets/t1"), item is not None, len(_actions_of("t1")),
                _history_count(action_ids), _device_items("t1"), _usage("TARGET"))

    def recreate():
        point = next(crashes)
        resp = client.http.post("/rest/v1/targets", headers=JSON,
                                body=json.dumps([{"controllerId": "t1", "securityToken": "tok-new"}]))
        if resp.status_code != 201:
            return  # the old target is still there: nothing can be inherited by a target that does not exist
        seen = _inherits_nothing(client, "t1")
        crash_sweep.run_reaper()  # finishing the old target's cleanup leaves the new one alone
        if _target_item("t1") is None:
            seen.append("the reaper deleted the new target")
        else:
            seen += _inherits_nothing(client, "t1")
        if seen:
            inherited.append((point, seen))

    report = _record(crash_sweep.sweep("target delete", operation, observe, _warm_up(client), after_crash=recreate))
    print(f"  re-created after a crash: {len(inherited)} of {report.tried} inherited something {inherited}")
    _assert_safe(report)
    assert inherited == []


# --- software module delete, artifact delete and upload ----------------------------------------------
def _module_view(client, sm_id: int) -> tuple:
    from chalicelib.store import catalog
    from chalicelib.domain.catalog_entities import SoftwareModule
    item = catalog.get(SoftwareModule, TENANT, sm_id)
    os_type = catalog.find_sm_type_by_key(TENANT, "os")
    return (_status(client, f"/rest/v1/softwaremodules/{sm_id}"),
            None if item is None else (bool(item.deleted), int(item.artifact_count or 0)),
            len(catalog.artifacts_of(TENANT, sm_id)), len(crash_sweep.object_keys(f"artifacts/{TENANT}/{sm_id}/")),
            catalog.unique_owner(TENANT, "sm", "os", "mod", "1"), int(os_type.used_by or 0),
            _usage("SOFTWARE_MODULE"), _usage("ARTIFACT_STORAGE"))


def test_software_module_delete(client):
    sm_id = steps.create_module(client, "mod", "1")
    steps.upload_artifact(client, sm_id, "a.bin", b"a" * 100)
    steps.upload_artifact(client, sm_id, "b.bin", b"b" * 50)
    report = _record(crash_sweep.sweep(
        "software module delete",
        lambda: client.http.delete(f"/rest/v1/softwaremodules/{sm_id}", headers=ADMIN),
        lambda: _module_view(client, sm_id), _warm_up(client)))
    _assert_safe(report)


def test_artifact_delete(client):
    sm_id = steps.create_module(client, "mod", "1")
    artifact = steps.upload_artifact(client, sm_id, "a.bin", b"a" * 100)
    report = _record(crash_sweep.sweep(
        "artifact delete",
        lambda: client.http.delete(f"/rest/v1/softwaremodules/{sm_id}/artifacts/{artifact['id']}", headers=ADMIN),
        lambda: _module_view(client, sm_id), _warm_up(client)))
    _assert_safe(report)


def test_artifact_upload(client):
    sm_id = steps.create_module(client, "mod", "1")
    payload, content_type = steps.multipart({}, "a.bin", b"a" * 100)

    def operation():
        return client.http.post(f"/rest/v1/softwaremodules/{sm_id}/artifacts",
                                headers={**ADMIN, "Content-Type": content_type}, body=payload)

    report = _record(crash_sweep.sweep("artifact upload", operation, lambda: _module_view(client, sm_id),
                                       _warm_up(client)))
    _assert_safe(report)


# --- bulk creates ---------------------------------------------------------------------------------------
def _catalog_names(model, prefix: str) -> list[str]:
    from chalicelib.store import catalog
    return sorted(item.name for item in catalog.all_visible(model, TENANT) if item.name.startswith(prefix))


def _guards(kind: str) -> int:
    from chalicelib.store.tables import UniqueKey
    return sum(1 for _ in UniqueKey.query(TENANT, UniqueKey.sk.startswith(f"{UniqueKey.PREFIX}{kind}#"),
                                          consistent_read=True))


def test_bulk_create_targets(client, monkeypatch):
    from chalicelib.services import targets
    from chalicelib.store.tables import Target
    # four transactions, as 150 targets would take at full size, at a fraction of the crash points
    monkeypatch.setattr(targets, "TARGETS_PER_TRANSACTION", 10)
    body = json.dumps([{"controllerId": f"bulk-{i:03d}"} for i in range(35)])

    def observe():
        stored = sum(1 for _ in Target.query(TENANT, Target.controller_id.startswith("bulk-"), consistent_read=True))
        listed = json.loads(client.http.get("/rest/v1/targets?limit=1", headers=ADMIN).body)["total"]
        return stored, listed, _usage("TARGET")

    report = _record(crash_sweep.sweep(
        "bulk create: 35 targets in 4 transactions", lambda: client.http.post("/rest/v1/targets", headers=JSON, body=body), observe,
        _warm_up(client)))
    _assert_safe(report)


def test_bulk_create_software_modules(client):
    from chalicelib.store import catalog
    from chalicelib.domain.catalog_entities import SoftwareModule
    body = json.dumps([{"name": f"bulk-{i:02d}", "version": "1", "type": "os"} for i in range(41)])

    def observe():
        return (_catalog_names(SoftwareModule, "bulk-"), _guards("sm"), _usage("SOFTWARE_MODULE"),
                int(catalog.find_sm_type_by_key(TENANT, "os").used_by or 0))

    report = _record(crash_sweep.sweep(
        "bulk create: 41 software modules",
        lambda: client.http.post("/rest/v1/softwaremodules", headers=JSON, body=body), observe, _warm_up(client)))
    _assert_safe(report)


def test_bulk_create_distribution_sets(client):
    from chalicelib.store import catalog
    from chalicelib.domain.catalog_entities import DistributionSet
    sm_id = steps.create_module(client, "in-sets", "1")
    body = json.dumps([{"name": f"bulk-{i:02d}", "version": "1", "type": "os", "modules": [{"id": sm_id}]}
                       for i in range(31)])

    def observe():
        from chalicelib.domain.catalog_entities import SoftwareModule
        sm = catalog.get(SoftwareModule, TENANT, sm_id)
        return (_catalog_names(DistributionSet, "bulk-"), _guards("ds"), _usage("DISTRIBUTION_SET"),
                int(catalog.find_ds_type_by_key(TENANT, "os").used_by or 0), int(sm.in_sets or 0))

    report = _record(crash_sweep.sweep(
        "bulk create: 31 distribution sets",
        lambda: client.http.post("/rest/v1/distributionsets", headers=JSON, body=body), observe, _warm_up(client)))
    _assert_safe(report)


def test_bulk_create_types(client):
    from chalicelib.domain.catalog_entities import SoftwareModuleType
    body = json.dumps([{"key": f"bulk-{i:02d}", "name": f"bulk-{i:02d}"} for i in range(34)])

    def observe():
        return (_catalog_names(SoftwareModuleType, "bulk-"), _guards("smtype-key"), _guards("smtype-name"),
                _usage("SOFTWARE_MODULE_TYPE"))

    report = _record(crash_sweep.sweep(
        "bulk create: 34 software module types",
        lambda: client.http.post("/rest/v1/softwaremoduletypes", headers=JSON, body=body), observe, _warm_up(client)))
    _assert_safe(report)


# --- assignment and feedback --------------------------------------------------------------------------
def test_assignment(client):
    from chalicelib.store import catalog
    from chalicelib.domain.catalog_entities import DistributionSet
    devices = [f"as-{i:02d}" for i in range(40)]
    ds1, _ = steps.release(client, name="one", version="1")
    ds2, sm2 = steps.release(client, name="two", version="2")
    client.http.post("/rest/v1/targets", headers=JSON, body=json.dumps([{"controllerId": c} for c in devices]))
    steps.assign(client, ds1, *devices)  # each target has an open action the new one supersedes

    def observe():
        per_target = []
        for cid in devices:
            target = _target_item(cid)
            actions = _actions_of(cid)
            per_target.append((target.assigned_ds, target.update_status, len(actions),
                               sorted((int(a.ds_id), a.status) for a in actions)))
        return per_target, bool(catalog.get(DistributionSet, TENANT, ds2).locked)

    def operation():
        return steps.assign(client, ds2, *devices)

    report = _record(crash_sweep.sweep("assignment of 40 targets", operation, observe, _warm_up(client)))
    _assert_safe(report)


def test_feedback(client):
    steps.enable_target_tokens(client)
    steps.create_target(client, "fb", "tok-fb")
    ds_id, _ = steps.release(client)
    action_id = steps.assign(client, ds_id, "fb")["assignedActions"][0]["id"]

    def observe():
        target = _target_item("fb")
        action = _actions_of("fb")[0]
        return (target.update_status, target.installed_ds, action.status, bool(action.active),
                _history_count([action_id]))

    def operation():
        return client.http.post(f"/{TENANT}/controller/v1/fb/deploymentBase/{action_id}/feedback",
                                headers={**steps.device("tok-fb"), "Content-Type": "application/json"},
                                body=json.dumps({"id": str(action_id), "status": {
                                    "execution": "closed", "result": {"finished": "success"}}}))

    report = _record(crash_sweep.sweep("feedback", operation, observe, _warm_up(client)))
    _assert_safe(report)


def test_crash_point_totals():
    """Prints the sum over the sweeps that ran in this process (with -s)."""
    if not REPORTS:
        pytest.skip("no sweep ran in this process")
    tried = sum(r.tried for r in REPORTS.values())
    partial = sum(len(r.partial) for r in REPORTS.values())
    unrepaired = sum(len(r.unrepaired) for r in REPORTS.values())
    print(f"\ncrash points: {tried} tried, {tried - partial} left old/new, {partial} partial, "
          f"{partial - unrepaired} of those repaired by a retry or one reaper run, {unrepaired} left partial")
    assert unrepaired == 0
