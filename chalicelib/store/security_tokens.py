"""Security-token guards: which target of a tenant holds a token.

A target's token is unique within its tenant because a guard item `(tenant, token#<sha256 of the token>)`
naming the target is put, on condition that it does not exist, in the same transaction that writes the
target, and deleted in the one that removes the target or replaces its token. That condition decides
uniqueness; no index read does (a secondary index is eventually consistent: check-then-write let
concurrent creates share one token).

The guard is also how the Device Configuration / Deployment Workflow APIs, whose paths name no device,
find the device of a token: one strongly consistent GetItem, so a replaced or deleted token stops
working at once.

The key holds a hash, not the token: keys show up where attribute values do not (CloudTrail's
DynamoDB data events log them), and a guard only has to match a token, never to reveal it. Guards live
in the tenants table next to the tenant's configuration, counters and users: every read of them names
the tenant, and the tenant's other queries read their own key prefixes only.
"""

from __future__ import annotations

import hashlib

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.tables import SecurityTokenGuard
from chalicelib.store.tx import ErrorFactory, Tx

PREFIX = "token#"


def _key(token: str) -> str:
    return PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def claim(tx: Tx, tenant: str, token: str, controller_id: str, on_taken: ErrorFactory | None = None) -> Tx:
    """Add to `tx`: the token becomes the target's, unless another target of the tenant holds it
    (then the transaction fails with `on_taken`)."""
    guard = SecurityTokenGuard(tenant, _key(token), controller_id=controller_id)
    return tx.put(guard, condition=SecurityTokenGuard.key.does_not_exist(), on_fail=on_taken)


def release(tx: Tx, tenant: str, token: str, controller_id: str) -> Tx:
    """Add to `tx`: the target gives its token up. A guard held by another target is never removed
    (that would let a third target take the token and its device's identity): the transaction fails."""
    owned_or_absent = (
        SecurityTokenGuard.controller_id == controller_id
    ) | SecurityTokenGuard.controller_id.does_not_exist()
    return tx.delete(SecurityTokenGuard(tenant, _key(token)), condition=owned_or_absent)


def holder(tenant: str, token: str) -> str | None:
    """The controllerId of the tenant's target holding `token` (one strongly consistent GetItem)."""
    try:
        return SecurityTokenGuard.get(tenant, _key(token), consistent_read=True).controller_id
    except DoesNotExist:
        return None


def taken(tenant: str, tokens: list[str]) -> bool:
    """Whether any of `tokens` is held in the tenant (BatchGetItem, strongly consistent). Only a shortcut
    before a create that takes several transactions; the guards' conditions decide."""
    keys = [(tenant, _key(token)) for token in dict.fromkeys(tokens)]
    return bool(keys) and any(True for _ in SecurityTokenGuard.batch_get(keys, consistent_read=True))
