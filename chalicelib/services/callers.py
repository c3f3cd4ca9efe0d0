"""Who calls the Device Configuration / Deployment Workflow APIs: an operator or a device.

Operators authenticate with HTTP Basic (chalicelib.auth) and take BACKEND transitions; devices
authenticate with their target security token (`Bearer <token>` or `TargetToken <token>`), found in
one Query on the targets' security-token index, and take DEVICE transitions. The DDI switch
`authentication.targettoken.enabled` does not apply here: these APIs have no anonymous or
header-authenticated mode, the token is their only device credential (as the agent token is in
Insights Hub).
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib import errors
from chalicelib.domain import dcs_ids
from chalicelib.domain.workflow import Actor
from chalicelib.store import targets as target_store


@dataclass(frozen=True)
class Caller:
    tenant: str
    actor: Actor
    name: str  # the operator's user name or the device's controllerId

    @classmethod
    def operator(cls, tenant: str, username: str) -> "Caller":
        return cls(tenant, Actor.BACKEND, username)

    @classmethod
    def device(cls, tenant: str, device_id: str) -> "Caller":
        return cls(tenant, Actor.DEVICE, device_id)

    @property
    def is_device(self) -> bool:
        return self.actor is Actor.DEVICE


def device_by_token(token: str) -> Caller:
    """The device whose target security token this is, else 401."""
    found = target_store.by_security_token(token) if dcs_ids.is_token(token) else []
    if len(found) != 1:
        raise errors.Unauthorized("The device credentials are not valid.")
    tenant, controller_id = found[0]
    return Caller.device(tenant, controller_id)
