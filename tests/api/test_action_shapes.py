"""The stored shape of deployments at fleet scale: a set's snapshot stored once in pages, bounded history
written by the server, action indexes spread over shards."""
import json

from chalicelib.domain import actions as action_rules
from chalicelib.services import snapshots
from chalicelib.store import snapshots as snapshot_store
from chalicelib.store.tables import Action, DeploymentSnapshotPage, pad
from tests.api import steps
from tests.conftest import ADMIN, TENANT


def _device_with_action(client, cid="s1"):
    steps.enable_target_tokens(client)
    steps.create_target(client, cid, f"tok-{cid}")
    ds_id, _ = steps.release(client)
    action_id = steps.assign(client, ds_id, cid)["assignedActions"][0]["id"]
    return ds_id, action_id


def _download_path(client, cid, action_id):
    base = steps.body_of(steps.ddi_get(client, cid, f"tok-{cid}", f"/deploymentBase/{action_id}"))
    href = base["deployment"]["chunks"][0]["artifacts"][0]["_links"]["download-http"]["href"]
    return steps.ddi_path(href)


def test_a_large_snapshot_is_stored_in_pages_and_read_back_whole(client, monkeypatch):
    monkeypatch.setattr(snapshot_store, "PAGE_CHARACTERS", 300)
    steps.enable_target_tokens(client)
    steps.create_target(client, "big", "tok-big")
    modules = []
    for i in range(3):
        sm_id = steps.create_module(client, name=f"part{i}", version="1", type_key="os" if i == 0 else "application")
        for j in range(2):
            steps.upload_artifact(client, sm_id, filename=f"file-{i}-{j}.bin", data=f"{i}{j}".encode() * 50)
        modules.append(sm_id)
    ds_id = steps.create_ds(client, modules, name="big", version="1", type_key="os_app")
    action_id = steps.assign(client, ds_id, "big")["assignedActions"][0]["id"]

    pages = list(DeploymentSnapshotPage.query(TENANT, DeploymentSnapshotPage.sk.startswith(
        f"{DeploymentSnapshotPage.PREFIX}{pad(ds_id)}#")))
    assert len(pages) > 2 and {int(p.pages) for p in pages} == {len(pages)}
    assert all(len(p.body) <= 300 for p in pages)
    stored_action = Action.get(action_rules.target_key(TENANT, "big"), action_id)
    assert "snapshot" not in stored_action.attribute_values  # an action keeps the set's id, not its contents

    snapshots.forget()  # a fresh container reads the pages
    base = steps.body_of(steps.ddi_get(client, "big", "tok-big", f"/deploymentBase/{action_id}"))
    files = sorted(a["filename"] for chunk in base["deployment"]["chunks"] for a in chunk["artifacts"])
    assert files == sorted(f"file-{i}-{j}.bin" for i in range(3) for j in range(2))


def test_an_incomplete_snapshot_is_not_served(client, monkeypatch):
    """A first writer that stopped half-way leaves pages the reader does not trust: the next assignment
    writes the rest (the pages are the same text, the set is locked)."""
    monkeypatch.setattr(snapshot_store, "PAGE_CHARACTERS", 200)
    ds_id, action_id = _device_with_action(client)
    first = DeploymentSnapshotPage.get(TENANT, f"{DeploymentSnapshotPage.PREFIX}{pad(ds_id)}#0001")
    first.delete()
    assert snapshot_store.load(TENANT, ds_id) is None
    snapshots.forget()
    steps.create_target(client, "s2", "tok-s2")
    second = steps.assign(client, ds_id, "s2")["assignedActions"][0]["id"]
    assert snapshot_store.load(TENANT, ds_id) is not None
    for cid, aid in (("s1", action_id), ("s2", second)):
        base = steps.body_of(steps.ddi_get(client, cid, f"tok-{cid}", f"/deploymentBase/{aid}"))
        assert base["deployment"]["chunks"][0]["artifacts"][0]["filename"] == "example.file"


def test_server_history_is_bounded_and_downloads_keep_working(client, monkeypatch, dynamo_calls):
    monkeypatch.setattr(action_rules, "MAX_SERVER_ENTRIES", 3)
    _, action_id = _device_with_action(client)
    path = _download_path(client, "s1", action_id)  # deploymentBase noted RETRIEVED: 1 server entry
    for _ in range(2):
        assert client.http.get(path, headers=steps.device("tok-s1")).status_code == 302
    dynamo_calls.reset()
    for _ in range(5):
        assert client.http.get(path, headers=steps.device("tok-s1")).status_code == 302
    assert dynamo_calls.writes == 0  # past the bound nothing is noted
    history = steps.history(client, "s1", action_id)
    server_written = [h for h in history if h["type"] in ("retrieved", "download")]
    assert len(server_written) == 3
    # the device still reports progress and closes its action
    steps.feedback(client, "s1", "tok-s1", action_id, "closed", "success")
    assert steps.action(client, "s1", action_id)["detailStatus"] == "finished"


def test_history_ids_stay_distinct_and_ordered(client):
    _, action_id = _device_with_action(client)
    for step in ("download", "downloaded", "proceeding"):
        steps.feedback(client, "s1", "tok-s1", action_id, step, "none")
    steps.feedback(client, "s1", "tok-s1", action_id, "closed", "success")
    resp = client.http.get(f"/rest/v1/targets/s1/actions/{action_id}/status?sort=id:ASC", headers=ADMIN)
    ids = [h["id"] for h in json.loads(resp.body)["content"]]
    assert ids == sorted(set(ids)) and len(ids) == 5
    assert all(i >> action_rules.SEQUENCE_BITS == action_id for i in ids)


def test_tenant_actions_spread_over_index_shards_and_list_in_order(client):
    steps.enable_target_tokens(client)
    ds_id, _ = steps.release(client)
    for i in range(20):
        steps.create_target(client, f"t{i:02d}")
    ids = [a["id"] for a in steps.assign(client, ds_id, *[f"t{i:02d}" for i in range(20)])["assignedActions"]]
    shards = {Action.get(action_rules.target_key(TENANT, f"t{i:02d}"), aid).tenant_shard
              for i, aid in enumerate(ids)}
    assert len(shards) == action_rules.INDEX_SHARDS
    listed = []
    offset = 0
    while True:
        page = json.loads(client.http.get(f"/rest/v1/actions?limit=7&offset={offset}&sort=id:ASC",
                                          headers=ADMIN).body)
        listed += [a["id"] for a in page["content"]]
        offset += 7
        if offset >= page["total"]:
            break
    assert listed == sorted(ids) and page["total"] == 20


def test_target_usage_counts_in_shards_and_still_refuses_past_the_quota(client, monkeypatch):
    """Registrations spread their usage over counter shards (concurrent first polls do not meet on one item);
    the usage is their sum and the quota still holds."""
    from chalicelib.store import counters
    from chalicelib.store.tables import Counter
    for i in range(12):
        steps.create_target(client, f"u{i:02d}")
    shards = {c.key: int(c.value) for c in Counter.query(TENANT, Counter.key.startswith("usage#TARGET#"))}
    assert len(shards) > 4 and sum(shards.values()) == 12
    used = json.loads(client.http.get("/rest/v1/system/quota/TARGET", headers=ADMIN).body)["used"]
    assert used == 12 == counters.usage(TENANT, "TARGET")
    monkeypatch.setenv("SKYHAWK_QUOTA_TARGET", "13")
    steps.create_target(client, "u12")
    resp = client.http.post("/rest/v1/targets", headers={**ADMIN, "Content-Type": "application/json"},
                            body=json.dumps([{"controllerId": "u13"}]))
    assert resp.status_code == 403 and "quota" in json.loads(resp.body)["errorCode"]
    client.http.delete("/rest/v1/targets/u03", headers=ADMIN)
    assert counters.usage(TENANT, "TARGET") == 12


def test_target_visible_module_metadata_reaches_the_device_in_its_chunk_and_nothing_else_does(client):
    steps.enable_target_tokens(client)
    steps.create_target(client, "meta", "tok-meta")
    os_id = steps.create_module(client, name="os", version="1")
    app_id = steps.create_module(client, name="app", version="1", type_key="application")
    for sm_id in (os_id, app_id):
        steps.upload_artifact(client, sm_id)
    resp = client.http.post(f"/rest/v1/softwaremodules/{os_id}/metadata",
                            headers={**ADMIN, "Content-Type": "application/json"},
                            body=json.dumps([{"key": "install.mode", "value": "A/B", "targetVisible": True},
                                             {"key": "internal.note", "value": "ops only"}]))
    assert resp.status_code == 201, resp.body
    ds_id = steps.create_ds(client, [os_id, app_id], name="meta", version="1", type_key="os_app")
    action_id = steps.assign(client, ds_id, "meta")["assignedActions"][0]["id"]

    base = steps.body_of(steps.ddi_get(client, "meta", "tok-meta", f"/deploymentBase/{action_id}"))
    chunks = {chunk["name"]: chunk for chunk in base["deployment"]["chunks"]}
    assert chunks["os"]["metadata"] == [{"key": "install.mode", "value": "A/B"}]
    assert "metadata" not in chunks["app"]  # hawkBit leaves the field out when a module has none to show
