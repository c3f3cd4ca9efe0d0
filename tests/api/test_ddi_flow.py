"""The single-device update of seeds/update-a-single-device.txt, step by step through the DDI API."""
import hashlib
import json

import requests

from tests.api import steps
from tests.api.steps import ddi_path, device
from tests.conftest import ADMIN

DATA = b"This is a test update file.\n"


def _ready(client, cid="device03", token="tok-device03"):
    steps.enable_target_tokens(client)
    steps.create_target(client, cid, token)
    ds_id, sm_id = steps.release(client, data=DATA)
    return cid, token, ds_id, sm_id


def test_full_update_registered_pending_in_sync(client):
    cid, token, ds_id, sm_id = _ready(client)
    assert steps.target(client, cid)["updateStatus"] == "unknown"

    base = steps.poll(client, cid, token)
    assert base["config"]["polling"]["sleep"] == "12:00:00"
    assert "deploymentBase" not in base["_links"]
    assert base["_links"]["configData"]["href"].endswith(f"/DEFAULT/controller/v1/{cid}/configData")
    assert steps.target(client, cid)["updateStatus"] == "registered"

    result = steps.assign(client, ds_id, cid)
    assert (result["assigned"], result["alreadyAssigned"], result["total"]) == (1, 0, 1)
    action_id = result["assignedActions"][0]["id"]
    assert isinstance(action_id, int)
    assert steps.target(client, cid)["updateStatus"] == "pending"

    base = steps.poll(client, cid, token)
    href = base["_links"]["deploymentBase"]["href"]
    assert f"/deploymentBase/{action_id}?c=" in href

    resp = client.http.get(ddi_path(href), headers=device(token))
    assert resp.status_code == 200
    deployment = json.loads(resp.body)
    assert deployment["id"] == str(action_id)
    assert deployment["deployment"]["download"] == "forced"
    assert deployment["deployment"]["update"] == "forced"
    chunk = deployment["deployment"]["chunks"][0]
    assert (chunk["part"], chunk["name"], chunk["version"]) == ("os", "myOs", "1.0")
    artifact = chunk["artifacts"][0]
    assert artifact["filename"] == "example.file" and artifact["size"] == len(DATA)
    assert artifact["hashes"] == {"md5": hashlib.md5(DATA).hexdigest(), "sha1": hashlib.sha1(DATA).hexdigest(),
                                  "sha256": hashlib.sha256(DATA).hexdigest()}
    assert set(artifact["_links"]) == {"download", "download-http", "md5sum", "md5sum-http"}

    resp = client.http.get(ddi_path(artifact["_links"]["download-http"]["href"]), headers=device(token))
    assert resp.status_code == 302
    assert requests.get(resp.headers["Location"]).content == DATA  # moto answers the signed URL

    md5 = client.http.get(ddi_path(artifact["_links"]["md5sum-http"]["href"]), headers=device(token))
    assert md5.status_code == 200
    assert md5.body.decode() == f"{hashlib.md5(DATA).hexdigest()}  example.file\n"

    steps.feedback(client, cid, token, action_id, "proceeding", "none", details=["Installing"])
    assert steps.target(client, cid)["updateStatus"] == "pending"
    steps.feedback(client, cid, token, action_id, "closed", "success", details=[])

    after = steps.target(client, cid)
    assert after["updateStatus"] == "in_sync"
    assert isinstance(after["installedAt"], int)
    action = steps.action(client, cid, action_id)
    assert (action["status"], action["detailStatus"], action["active"]) == ("finished", "finished", False)
    types = [entry["type"] for entry in steps.history(client, cid, action_id)]
    assert types[0] == "finished" and types[-1] == "running"
    assert "retrieved" in types and "download" in types

    base = steps.poll(client, cid, token)
    assert "deploymentBase" not in base["_links"]
    assert base["_links"]["installedBase"]["href"].endswith(f"/installedBase/{action_id}")
    installed = client.http.get(f"/rest/v1/targets/{cid}/installedDS", headers=ADMIN)
    assert json.loads(installed.body)["id"] == ds_id


def test_feedback_on_closed_action_is_gone(client):
    cid, token, ds_id, _ = _ready(client)
    action_id = steps.assign(client, ds_id, cid)["assignedActions"][0]["id"]
    steps.feedback(client, cid, token, action_id, "closed", "success")
    steps.feedback(client, cid, token, action_id, "proceeding", "none", status=410)


def test_failure_sets_error_and_clears_assigned(client):
    cid, token, ds_id, _ = _ready(client)
    action_id = steps.assign(client, ds_id, cid)["assignedActions"][0]["id"]
    steps.feedback(client, cid, token, action_id, "closed", "failure", details=["disk full"])
    assert steps.target(client, cid)["updateStatus"] == "error"
    assert client.http.get(f"/rest/v1/targets/{cid}/assignedDS", headers=ADMIN).status_code == 204
    assert steps.action(client, cid, action_id)["detailStatus"] == "error"


def test_feedback_tolerates_number_id_empty_progress_and_blank_details(client):
    cid, token, ds_id, _ = _ready(client)
    action_id = steps.assign(client, ds_id, cid)["assignedActions"][0]["id"]
    body = {"id": action_id, "time": "20260101T120000",
            "status": {"execution": "proceeding", "result": {"finished": "none", "progress": {}}, "details": [""]}}
    resp = client.http.post(f"/DEFAULT/controller/v1/{cid}/deploymentBase/{action_id}/feedback",
                            headers={**device(token), "Content-Type": "application/json"}, body=json.dumps(body))
    assert resp.status_code == 200
    body["status"].pop("details")
    body["status"]["result"]["progress"] = {"cnt": 2, "of": 5}
    resp = client.http.post(f"/DEFAULT/controller/v1/{cid}/deploymentBase/{action_id}/feedback",
                            headers={**device(token), "Content-Type": "application/json"}, body=json.dumps(body))
    assert resp.status_code == 200


def test_bad_feedback_bodies_are_400(client):
    cid, token, ds_id, _ = _ready(client)
    action_id = steps.assign(client, ds_id, cid)["assignedActions"][0]["id"]
    url = f"/DEFAULT/controller/v1/{cid}/deploymentBase/{action_id}/feedback"
    hdrs = {**device(token), "Content-Type": "application/json"}
    for body in ("{", json.dumps({}), json.dumps({"status": {"execution": "flying", "result": {"finished": "none"}}}),
                 json.dumps({"status": {"execution": "closed", "result": {}}})):
        resp = client.http.post(url, headers=hdrs, body=body)
        assert resp.status_code == 400, body
        assert json.loads(resp.body)["errorCode"].startswith("hawkbit.server.error.")
    assert steps.action(client, cid, action_id)["detailStatus"] == "running"


def test_unknown_action_and_foreign_action_are_404(client):
    cid, token, ds_id, _ = _ready(client)
    steps.create_target(client, "other", "tok-other")
    other_action = steps.assign(client, ds_id, "other")["assignedActions"][0]["id"]
    resp = client.http.get(f"/DEFAULT/controller/v1/{cid}/deploymentBase/{other_action}", headers=device(token))
    assert resp.status_code == 404
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.repo.entityNotFound"
    resp = client.http.get(f"/DEFAULT/controller/v1/{cid}/deploymentBase/999999", headers=device(token))
    assert resp.status_code == 404


def test_wrong_or_missing_token_is_bare_401(client):
    cid, token, _, _ = _ready(client)
    resp = client.http.get(f"/DEFAULT/controller/v1/{cid}", headers=device("wrong"))
    assert resp.status_code == 401 and resp.body in (b"", "")
    assert client.http.get(f"/DEFAULT/controller/v1/{cid}").status_code == 401


def test_target_token_refused_while_mode_disabled(client):
    steps.create_target(client, "dev1", "tok1")
    assert client.http.get("/DEFAULT/controller/v1/dev1", headers=device("tok1")).status_code == 401
    steps.enable_target_tokens(client)
    assert client.http.get("/DEFAULT/controller/v1/dev1", headers=device("tok1")).status_code == 200


def test_gateway_token_registers_plug_and_play(client):
    steps.enable_gateway_token(client, "gw-secret")
    resp = client.http.get("/DEFAULT/controller/v1/new-device", headers={"Authorization": "GatewayToken gw-secret"})
    assert resp.status_code == 200
    created = steps.target(client, "new-device")
    assert created["updateStatus"] == "registered"
    assert created["description"] == "Plug and Play target: new-device"
    quota = json.loads(client.http.get("/rest/v1/system/quota/TARGET", headers=ADMIN).body)
    assert quota["used"] == 1
    assert client.http.get("/DEFAULT/controller/v1/x2", headers={"Authorization": "GatewayToken bad"}
                           ).status_code == 401


def test_polling_time_key_sets_sleep(client):
    cid, token, _, _ = _ready(client)
    steps.put_config(client, "pollingTime", "00:05:00")
    assert steps.poll(client, cid, token)["config"]["polling"]["sleep"] == "00:05:00"


def test_poll_etag_gives_304(client):
    cid, token, _, _ = _ready(client)
    resp = client.http.get(f"/DEFAULT/controller/v1/{cid}", headers=device(token))
    again = client.http.get(f"/DEFAULT/controller/v1/{cid}", headers={**device(token),
                                                                      "If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


def test_config_data_merge_replace_remove(client):
    cid, token, _, _ = _ready(client)
    url = f"/DEFAULT/controller/v1/{cid}/configData"
    hdrs = {**device(token), "Content-Type": "application/json"}

    def put(body, status=200):
        resp = client.http.put(url, headers=hdrs, body=json.dumps(body))
        assert resp.status_code == status, resp.body

    def attributes():
        return json.loads(client.http.get(f"/rest/v1/targets/{cid}/attributes", headers=ADMIN).body)

    put({"data": {"VIN": "JH4TB2H26CC000000", "hwRevision": "2"}})
    assert attributes() == {"VIN": "JH4TB2H26CC000000", "hwRevision": "2"}
    assert "configData" not in steps.poll(client, cid, token)["_links"]
    put({"mode": "merge", "data": {"hwRevision": "3"}})
    assert attributes() == {"VIN": "JH4TB2H26CC000000", "hwRevision": "3"}
    put({"mode": "remove", "data": {"VIN": ""}})
    assert attributes() == {"hwRevision": "3"}
    put({"mode": "replace", "data": {"a": "1"}})
    assert attributes() == {"a": "1"}
    put({"data": {"bad\u0001key": "x"}}, status=400)
    put({"data": {}}, status=400)
    put({"mode": "sideways", "data": {"a": "1"}}, status=400)
    put({"id": "", "time": "20260101T000000", "status": {"result": {"finished": "success"}, "execution": "closed",
                                                          "details": [""]}, "data": {"b": "2"}})
    assert attributes() == {"a": "1", "b": "2"}


def test_config_data_attribute_quota(client):
    cid, token, _, _ = _ready(client)
    url = f"/DEFAULT/controller/v1/{cid}/configData"
    hdrs = {**device(token), "Content-Type": "application/json"}
    resp = client.http.put(url, headers=hdrs, body=json.dumps({"data": {f"k{i}": "v" for i in range(101)}}))
    assert resp.status_code == 403
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.quota.tooManyEntries"
    assert json.loads(client.http.get(f"/rest/v1/targets/{cid}/attributes", headers=ADMIN).body) == {}


def test_download_of_module_not_assigned_is_404(client):
    cid, token, ds_id, sm_id = _ready(client)
    resp = client.http.get(f"/DEFAULT/controller/v1/{cid}/softwaremodules/{sm_id}/artifacts/example.file",
                           headers=device(token))
    assert resp.status_code == 404
    steps.assign(client, ds_id, cid)
    resp = client.http.get(f"/DEFAULT/controller/v1/{cid}/softwaremodules/{sm_id}/artifacts/nope.bin",
                           headers=device(token))
    assert resp.status_code == 404
    listed = client.http.get(f"/DEFAULT/controller/v1/{cid}/softwaremodules/{sm_id}/artifacts",
                             headers=device(token))
    assert [a["filename"] for a in json.loads(listed.body)] == ["example.file"]


def test_anonymous_download_key(client):
    cid, token, ds_id, sm_id = _ready(client)
    steps.assign(client, ds_id, cid)
    url = f"/DEFAULT/controller/v1/{cid}/softwaremodules/{sm_id}/artifacts/example.file"
    assert client.http.get(url).status_code == 401
    steps.put_config(client, "anonymous.download.enabled", True)
    assert client.http.get(url).status_code == 302


def test_download_url_lifetime_follows_cdn_validity_days(client):
    from urllib.parse import parse_qs, urlparse
    cid, token, ds_id, sm_id = _ready(client)
    steps.assign(client, ds_id, cid)
    url = f"/DEFAULT/controller/v1/{cid}/softwaremodules/{sm_id}/artifacts/example.file"

    def expires():
        location = client.http.get(url, headers={**device(token), "Range": "bytes=0-1"}).headers["Location"]
        return int(parse_qs(urlparse(location).query)["X-Amz-Expires"][0])

    steps.put_config(client, "cdn.validity.days", 2)
    assert expires() == 2 * 86400
    steps.put_config(client, "cdn.validity.days", 30)
    assert expires() == 7 * 86400  # SigV4 ceiling


def test_if_match_on_download(client):
    cid, token, ds_id, sm_id = _ready(client)
    steps.assign(client, ds_id, cid)
    url = f"/DEFAULT/controller/v1/{cid}/softwaremodules/{sm_id}/artifacts/example.file"
    assert client.http.get(url, headers={**device(token), "If-Match": '"nope"'}).status_code == 412
    sha1 = hashlib.sha1(DATA).hexdigest()
    assert client.http.get(url, headers={**device(token), "If-Match": f'"{sha1}"'}).status_code == 302


def test_unauthenticated_requests_learn_nothing_but_401(client):
    cid, token, ds_id, _ = _ready(client)
    action_id = steps.assign(client, ds_id, cid)["assignedActions"][0]["id"]
    for method, path, body in (("POST", f"/deploymentBase/{action_id}/feedback", '"x"'),
                               ("PUT", "/configData", "{}"),
                               ("GET", "/deploymentBase/abc", None),
                               ("POST", f"/deploymentBase/{action_id}/feedback", "[" * 100000)):
        resp = getattr(client.http, method.lower())(f"/DEFAULT/controller/v1/{cid}{path}", body=body,
                                                     headers={"Content-Type": "application/json"})
        assert resp.status_code == 401, path


def test_malformed_device_input_is_400_not_500(client):
    cid, token, ds_id, _ = _ready(client)
    action_id = steps.assign(client, ds_id, cid)["assignedActions"][0]["id"]
    hdrs = {**device(token), "Content-Type": "application/json"}
    base = f"/DEFAULT/controller/v1/{cid}"
    cases = [("put", "/configData", json.dumps({"mode": 1, "data": {"a": "b"}})),
             ("post", f"/deploymentBase/{action_id}/feedback", "[" * 100000),
             ("post", f"/deploymentBase/{action_id}/feedback",
              '{"status": {"execution": "closed", "result": {"finished": "success"}, "code": NaN}}'),
             ("post", f"/deploymentBase/{action_id}/feedback",
              json.dumps({"status": {"execution": "proceeding", "result": {"finished": "none"}, "code": 10 ** 40}})),
             ("get", "/deploymentBase/" + "9" * 41, None)]
    for method, path, body in cases:
        resp = getattr(client.http, method)(base + path, headers=hdrs, body=body)
        assert resp.status_code == 400, (path, body and body[:40], resp.body[:200])
    too_long = "x" * 300
    assert client.http.get(f"/DEFAULT/controller/v1/{too_long}", headers=device(token)).status_code == 401
    assert client.http.get(f"/bad!tenant/controller/v1/{cid}", headers=device(token)).status_code == 401


def test_action_history_negative_means_the_maximum(client):
    cid, token, ds_id, _ = _ready(client)
    action_id = steps.assign(client, ds_id, cid)["assignedActions"][0]["id"]
    for i in range(3):
        steps.feedback(client, cid, token, action_id, "proceeding", "none", details=[f"step {i}"])
    resp = client.http.get(f"/DEFAULT/controller/v1/{cid}/deploymentBase/{action_id}?actionHistory=-1",
                           headers=device(token))
    history = json.loads(resp.body)["actionHistory"]
    assert history["messages"] == ["step 2", "step 1", "step 0", "Assignment initiated by user 'admin'"]
    resp = client.http.get(f"/DEFAULT/controller/v1/{cid}/deploymentBase/{action_id}?actionHistory=2",
                           headers=device(token))
    assert json.loads(resp.body)["actionHistory"]["messages"] == ["step 2", "step 1"]


def test_repeated_downloads_do_not_use_up_the_device_status_quota(client, monkeypatch):
    from chalicelib.domain import quotas
    monkeypatch.setattr(quotas, "MAX_STATUS_ENTRIES_PER_ACTION", 3)
    cid, token, ds_id, sm_id = _ready(client)
    action_id = steps.assign(client, ds_id, cid)["assignedActions"][0]["id"]
    url = f"/DEFAULT/controller/v1/{cid}/softwaremodules/{sm_id}/artifacts/example.file"
    for _ in range(5):
        assert client.http.get(url, headers=device(token)).status_code == 302
    steps.feedback(client, cid, token, action_id, "proceeding", "none")
    steps.feedback(client, cid, token, action_id, "proceeding", "none")
    steps.feedback(client, cid, token, action_id, "proceeding", "none", status=403)


def test_artifact_names_with_spaces_download_through_their_link(client):
    steps.enable_target_tokens(client)
    steps.create_target(client, "sp1", "tok-sp1")
    ds_id, sm_id = steps.release(client, filename="fw image.bin", data=b"spaced")
    steps.assign(client, ds_id, "sp1")
    href = steps.poll(client, "sp1", "tok-sp1")["_links"]["deploymentBase"]["href"]
    artifact = json.loads(client.http.get(ddi_path(href), headers=device("tok-sp1")).body)[
        "deployment"]["chunks"][0]["artifacts"][0]
    link = artifact["_links"]["download-http"]["href"]
    assert link.endswith("/fw%20image.bin")
    resp = client.http.get(ddi_path(link), headers=device("tok-sp1"))
    assert resp.status_code == 302
    assert requests.get(resp.headers["Location"]).content == b"spaced"
    md5 = client.http.get(ddi_path(artifact["_links"]["md5sum-http"]["href"]), headers=device("tok-sp1"))
    assert md5.status_code == 200 and md5.body.decode().endswith("  fw image.bin\n")


def test_head_on_an_artifact_answers_its_size_without_body_or_redirect(client):
    cid, token, ds_id, sm_id = _ready(client)
    action_id = steps.assign(client, ds_id, cid)["assignedActions"][0]["id"]
    url = f"/DEFAULT/controller/v1/{cid}/softwaremodules/{sm_id}/artifacts/example.file"
    before = steps.history(client, cid, action_id)
    resp = client.http.request("HEAD", url, headers=device(token))
    assert resp.status_code == 200 and resp.body == b"", resp.body
    assert resp.headers["Content-Length"] == str(len(DATA)) and "Location" not in resp.headers
    assert resp.headers["ETag"] == f'"{hashlib.sha1(DATA).hexdigest()}"'
    assert resp.headers["Accept-Ranges"] == "bytes"
    curl_like = client.http.request("HEAD", url, headers={**device(token), "Accept": "*/*"})
    assert curl_like.status_code == 200 and curl_like.headers["Content-Type"] == "application/octet-stream"
    md5 = client.http.request("HEAD", url + ".MD5SUM", headers=device(token))
    text = f"{hashlib.md5(DATA).hexdigest()}  example.file\n"
    assert md5.status_code == 200 and md5.headers["Content-Length"] == str(len(text)) and md5.body == b""
    # a HEAD downloads nothing: the history is unchanged
    assert steps.history(client, cid, action_id) == before
    # the same checks as a GET: credentials, the module of one of its actions, the file, If-Match
    assert client.http.request("HEAD", url).status_code == 401
    assert client.http.request("HEAD", url.replace("example.file", "nope.bin"), headers=device(token)).status_code == 404
    assert client.http.request("HEAD", url, headers={**device(token), "If-Match": '"x"'}).status_code == 412


def test_download_history_names_the_requested_path(client):
    cid, token, ds_id, sm_id = _ready(client)
    action_id = steps.assign(client, ds_id, cid)["assignedActions"][0]["id"]
    path = f"/DEFAULT/controller/v1/{cid}/softwaremodules/{sm_id}/artifacts/example.file"
    assert client.http.get(path, headers=device(token)).status_code == 302
    downloads = [e["messages"] for e in steps.history(client, cid, action_id) if e["type"] == "download"]
    assert downloads == [[f"Update Server: Target downloads {path}"]]
