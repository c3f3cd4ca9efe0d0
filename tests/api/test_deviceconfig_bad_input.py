"""Input the DCS/DWS routes cannot use is a 400 in the DCS error shape, with nothing written (never a 500):
empty sort terms, lone UTF-16 surrogates in JSON strings, model keys no URL could address."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.api.dcs_steps import (
    CONFIG_MODEL,
    DCS,
    DWS,
    JSON_HEADERS,
    body,
    create_file,
    create_task,
    error_code,
    file_with_head,
    make_device,
    release,
)
from tests.conftest import ADMIN

SURROGATE = '"x\\ud800"'  # a JSON escape of a lone high surrogate: valid JSON syntax, not Unicode text


def _refused(resp, service="deviceconfiguration"):
    assert resp.status_code == 400, resp.body[:300]
    assert error_code(resp) == f"mdsp.core.{service}.invalidRequest"


@pytest.mark.parametrize("sort", [",", ",desc", "path,,desc", "path,desc,", " , "])
def test_empty_sort_terms_are_400_on_every_list(client, sort):
    make_device("dev-1")
    f = file_with_head(client, "/a", b"x")
    lists = [f"{DCS}/files?pathPrefix=/", f"{DCS}/files/{f['id']}/revisions", f"{DCS}/devices/dev-1/configurationTasks",
             f"{DCS}/devices/dev-1/configuration"]
    for url in lists:
        _refused(client.http.get(f"{url}{'&' if '?' in url else '?'}sort={sort}", headers=ADMIN))
    _refused(client.http.get(f"{DWS}/instances?sort={sort}", headers=ADMIN), "deploymentworkflow")
    # a well-formed sort still works, with blanks around its terms
    assert client.http.get(f"{DCS}/files?sort=path%2C%20desc", headers=ADMIN).status_code == 200


def test_lone_surrogates_in_dcs_bodies_are_400_and_nothing_is_written(client):
    make_device("dev-1")
    f = file_with_head(client, "/a", b"x")
    task = create_task(client, "dev-1", [{"name": "a", "uri": "https://x.example/a"}])
    release(client, "dev-1", task["id"])
    creations = [
        (f"{DCS}/files", '{"path": %s}' % SURROGATE),
        (f"{DCS}/files", '{"path": "/ok", "description": %s}' % SURROGATE),
        (f"{DCS}/devices/dev-1/configurationTasks", '{"files": [{"name": %s, "uri": "https://x"}]}' % SURROGATE),
        (f"{DCS}/devices/dev-1/configurationTasks", '{"files": [], "customData": {%s: 1}}' % SURROGATE),
    ]
    for url, payload in creations:
        _refused(client.http.post(url, headers=JSON_HEADERS, body=payload))
    patch = client.http.patch(f"{DCS}/devices/dev-1/configurationTasks/{task['id']}", headers=JSON_HEADERS,
                              body='{"state": "CANCELED", "progress": 0, "message": %s}' % SURROGATE)
    _refused(patch)
    # nothing was written: one file, one task, still in CONFIGURE
    files = body(client.http.get(f"{DCS}/files?pathPrefix=", headers=ADMIN))
    assert [x["path"] for x in files["content"]] == [f["path"]]
    tasks = body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks", headers=ADMIN))
    assert [(t["id"], t["currentState"]["state"]) for t in tasks["content"]] == [(task["id"], "CONFIGURE")]
    # a surrogate pair is a character like any other
    pair = create_file(client, '/emoji-\U0001F600')
    assert pair["path"] == '/emoji-\U0001F600'


def test_lone_surrogates_in_dws_bodies_are_400_and_nothing_is_written(client):
    make_device("dev-1")
    task = create_task(client, "dev-1", [])
    for url, payload in (
        (f"{DWS}/models", '{"key": "m", "states": [{"name": "A", "initial": true, "description": %s}]}' % SURROGATE),
        (f"{DWS}/instances", '{"deviceId": "dev-1", "model": {"key": "%s"}, "data": {"k": %s}}'
         % (CONFIG_MODEL, SURROGATE)),
        (f"{DWS}/instances/{task['id']}", '{"state": "CANCELED", "progress": 0, "details": {"t": %s}}' % SURROGATE),
    ):
        method = client.http.patch if "/instances/" in url else client.http.post
        _refused(method(url, headers=JSON_HEADERS, body=payload), "deploymentworkflow")
    assert client.http.get(f"{DWS}/models/m", headers=ADMIN).status_code == 404
    listed = body(client.http.get(f"{DWS}/instances?deviceId=dev-1", headers=ADMIN))["content"]
    assert [(i["id"], i["currentState"]["state"]) for i in listed] == [(task["id"], "CREATED")]


@pytest.mark.parametrize("key", ["a/b", "a#b", "100%", "tab\tkey", "nul\x00", "del\x7f", "c1\x85", ".", ".."])
def test_model_keys_no_url_could_address_are_400(client, key):
    model = {"key": key, "states": [{"name": "A", "initial": True}]}
    resp = client.http.post(f"{DWS}/models", headers=JSON_HEADERS, body=json.dumps(model))
    _refused(resp, "deploymentworkflow")
    assert "'key'" in body(resp)["errors"][0]["message"]
    # and a filter naming such a key is refused too, as no model can have it
    _refused(client.http.get(f"{DWS}/instances?modelKey={quote(key, safe='')}", headers=ADMIN), "deploymentworkflow")


def test_model_keys_with_url_safe_punctuation_work_end_to_end(client):
    key = "acme.fw-update_v2:beta (1)"
    model = {"key": key, "states": [{"name": "A", "initial": True}]}
    assert client.http.post(f"{DWS}/models", headers=JSON_HEADERS, body=json.dumps(model)).status_code == 201
    path = f"{DWS}/models/acme.fw-update_v2:beta%20(1)"
    assert body(client.http.get(path, headers=ADMIN))["key"] == key
    assert client.http.delete(path, headers=ADMIN).status_code == 204


def test_device_ids_in_paths_are_percent_decoded(client):
    # a controllerId outside ASCII reaches the route percent-encoded, as clients send it
    make_device("gerät-1")
    task = create_task(client, "ger%C3%A4t-1", [])
    assert task["deviceId"] == "gerät-1"
    listed = body(client.http.get(f"{DCS}/devices/ger%C3%A4t-1/configurationTasks", headers=ADMIN))
    assert [t["id"] for t in listed["content"]] == [task["id"]]
