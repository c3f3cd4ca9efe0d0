"""DCS/DWS bodies with NaN or Infinity (not JSON, though Python's json module reads them) are refused with 400.

Where such a number would be stored (data, details, custom data, transition details) the workflow engine
refuses it itself; elsewhere in a body it is common.json_body that must refuse it.
"""
from __future__ import annotations

import pytest

from tests.api.dcs_steps import (
    CONFIG_MODEL,
    DCS,
    DWS,
    bearer,
    create_task,
    error_code,
    make_device,
    release,
)
from tests.conftest import ADMIN

CONSTANTS = ["NaN", "Infinity", "-Infinity"]
HEADERS = {**ADMIN, "Content-Type": "application/json"}
MODEL = ('{"key": "m", "states": [{"name": "A", "initial": true}, {"name": "B"}], '
         '"transitions": [{"from": "A", "to": "B", "type": "BACKEND_TRIGGER", "details": {"n": %s}}]}')


def _refused(resp, service):
    assert resp.status_code == 400, resp.body[:300]
    assert error_code(resp) == f"mdsp.core.{service}.invalidRequest"


@pytest.mark.parametrize("constant", CONSTANTS)
def test_stored_numbers_must_be_finite(client, constant):
    token = make_device("dev-1")
    # a model whose transition details hold the constant
    _refused(client.http.post(f"{DWS}/models", headers=HEADERS, body=MODEL % constant), "deploymentworkflow")
    assert client.http.get(f"{DWS}/models/m", headers=ADMIN).status_code == 404
    # instance data, custom transition details, task custom data and target
    for payload in (f'{{"deviceId": "dev-1", "model": {{"key": "{CONFIG_MODEL}"}}, '
                    f'"data": {{"files": [], "customData": {{"n": {constant}}}}}}}',
                    f'{{"deviceId": "dev-1", "model": {{"key": "{CONFIG_MODEL}", "customTransitions": '
                    f'[{{"from": "CREATED", "to": "CONFIGURE", "type": "INSTANTANEOUS", "details": [{constant}]}}]}}, '
                    f'"data": {{"files": []}}}}'):
        _refused(client.http.post(f"{DWS}/instances", headers=HEADERS, body=payload), "deploymentworkflow")
    for payload in (f'{{"files": [], "customData": {{"n": {constant}}}}}', f'{{"files": [], "target": [{constant}]}}'):
        _refused(client.http.post(f"{DCS}/devices/dev-1/configurationTasks", headers=HEADERS, body=payload),
                 "deviceconfiguration")
    assert client.http.get(f"{DWS}/instances", headers=ADMIN).body.count(b'"id"') == 0
    # progress and details of a state update, by the device and by the operator
    task = create_task(client, "dev-1", [])
    release(client, "dev-1", task["id"])
    device = {**bearer(token), "Content-Type": "application/json"}
    for payload in (f'{{"state": "CONFIGURING", "progress": {constant}}}',
                    f'{{"state": "CONFIGURING", "progress": 0.5, "details": {{"n": {constant}}}}}'):
        _refused(client.http.patch(f"{DCS}/devices/dev-1/configurationTasks/{task['id']}", headers=device,
                                   body=payload), "deviceconfiguration")
        _refused(client.http.patch(f"{DWS}/instances/{task['id']}", headers=device, body=payload),
                 "deploymentworkflow")
    got = client.http.get(f"{DWS}/instances/{task['id']}?history=true", headers=ADMIN)
    assert got.status_code == 200 and b"NaN" not in got.body and b"Infinity" not in got.body


@pytest.mark.parametrize("constant", CONSTANTS)
def test_bodies_with_nan_anywhere_are_refused(client, constant):
    # in fields the service ignores, only the JSON parser (common.json_body) can refuse them
    make_device("dev-1")
    _refused(client.http.post(f"{DCS}/files", headers=HEADERS, body=f'{{"path": "/p", "extra": {constant}}}'),
             "deviceconfiguration")
    _refused(client.http.post(f"{DWS}/instances", headers=HEADERS,
                              body=f'{{"deviceId": "dev-1", "model": {{"key": "{CONFIG_MODEL}"}}, "data": '
                                   f'{{"files": []}}, "extra": {constant}}}'), "deploymentworkflow")
