"""Every response of the `client` fixture passes hawkBit's OpenAPI contract (tests/contract); a rendering
that drifts fails the test that receives it, whatever that test asserts."""
import pytest

from chalicelib.api import targets as targets_api
from tests.api import steps
from tests.conftest import ADMIN
from tests.contract.openapi_contract import ContractViolation


def _drifting_renderer(monkeypatch):
    """A target rendering that lost its required `name`: the kind of drift the contract exists to catch."""
    render = targets_api.targets_json

    def drifted(*args, **kwargs):
        return [{k: v for k, v in body.items() if k != "name"} for body in render(*args, **kwargs)]
    monkeypatch.setattr(targets_api, "targets_json", drifted)


def test_the_client_refuses_a_response_that_breaks_the_contract(client, monkeypatch):
    steps.create_target(client, "drift-1")
    assert client.http.get("/rest/v1/targets/drift-1", headers=ADMIN).status_code == 200
    _drifting_renderer(monkeypatch)
    with pytest.raises(ContractViolation, match="'name' is a required property"):
        client.http.get("/rest/v1/targets/drift-1", headers=ADMIN)


@pytest.mark.no_contract
def test_a_test_can_opt_out_to_look_at_a_malformed_response(client, monkeypatch):
    steps.create_target(client, "drift-2")
    _drifting_renderer(monkeypatch)
    resp = client.http.get("/rest/v1/targets/drift-2", headers=ADMIN)
    assert resp.status_code == 200 and "name" not in resp.json_body
