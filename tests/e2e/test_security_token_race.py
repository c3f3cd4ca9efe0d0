"""50 operators create targets with one security token at the same moment, over real HTTP against the
launcher: exactly one wins, the others get 409, and no two targets share the token.

moto's threaded server does not make TransactWriteItems atomic between threads; DynamoDB does. The
launcher's moto runs in this process, so the test serialises moto's transactions (as DynamoDB isolates
them) and leaves everything else concurrent: the HTTP requests, the app's reads and its decisions.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

WRITERS = 50
TOKEN_CONFLICT = {"exceptionClass": "org.eclipse.hawkbit.repository.exception.EntityAlreadyExistsException",
                  "errorCode": "hawkbit.server.error.repo.entityAlreadyExists",
                  "message": "The given securityToken is already in use.", "parameters": ["securityToken"]}


def test_concurrent_creates_of_one_token_leave_one_holder(stack, serialised_transactions):
    token = "e2e-raced-token"
    start = threading.Barrier(WRITERS)

    def create(n: int) -> requests.Response:
        with requests.Session() as session:
            session.auth = ("admin", "admin")
            session.get(f"{stack.url}/rest/v1/userinfo")  # connected and logged in before the start
            start.wait()
            return session.post(f"{stack.url}/rest/v1/targets",
                                json=[{"controllerId": f"race-{n:02d}", "securityToken": token}])

    with ThreadPoolExecutor(WRITERS) as pool:
        answers = list(pool.map(create, range(WRITERS)))

    assert sorted(a.status_code for a in answers) == [201] + [409] * (WRITERS - 1)
    assert all(a.json() == TOKEN_CONFLICT for a in answers if a.status_code == 409)
    [winner] = [a.json()[0]["controllerId"] for a in answers if a.status_code == 201]
    listed = stack.admin.get(f"{stack.url}/rest/v1/targets", params={"q": "controllerId==race-*", "limit": 500})
    assert [(t["controllerId"], t["securityToken"]) for t in listed.json()["content"]] == [(winner, token)]
    resp = requests.get(f"{stack.url}/api/deploymentworkflow/v3/instances", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.json()["content"] == []
