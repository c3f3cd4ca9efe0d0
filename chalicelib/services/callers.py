"""Who calls the Device Configuration / Deployment Workflow APIs: an operator or a device.

Operators authenticate with HTTP Basic (chalicelib.auth) and take BACKEND transitions; devices
authenticate with their target security token and take DEVICE transitions. The DDI switch
`authentication.targettoken.enabled` does not apply here: these APIs have no anonymous or
header-authenticated mode, the token is their only device credential (as the agent token is in
Insights Hub).

Their paths name no tenant, and a token is unique only within its tenant, so the credential names it:
`Bearer TENANT\\<token>`, or `Bearer <token>` for the default tenant, as a management login is
`TENANT\\user` or `user` (`TargetToken` works alike). One strongly consistent GetItem of the tenant's
token guard finds the device. Why the tenant is in the credential rather than tokens being unique
across tenants: a global guard would have to refuse a token some other tenant holds, and that refusal
would tell the caller that another tenant holds it (README, "Device authentication").
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import auth, errors
from chalicelib.domain import dcs_ids
from chalicelib.domain.workflow import Actor
from chalicelib.store import security_tokens


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


def device_by_token(credential: str) -> Caller:
    """The device holding this tenant-qualified (or default-tenant) security token, else 401."""
    tenant, token = auth.tenant_and_token(credential)
    controller_id = security_tokens.holder(tenant, token) if dcs_ids.is_token(token) else None
    if controller_id is None:
        raise errors.Unauthorized("The device credentials are not valid.")
    return Caller.device(tenant, controller_id)
