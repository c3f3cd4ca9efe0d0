"""Targets (hawkBit TargetManagement): create, read, update, delete (lists: services/target_lists.py); counters
kept in the same transaction."""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, NamedTuple

from chalicelib import auth, clock, errors
from chalicelib.domain import changes
from chalicelib.domain.actions import UpdateStatus
from chalicelib.domain.targets import MAX_CONTROLLER_ID, Target, valid_controller_id
from chalicelib.lazy import lazy_import
from chalicelib.services import bulk_creates, quotas
from chalicelib.store import actions as action_store
from chalicelib.store import all_or_nothing, pending, security_tokens, target_metadata
from chalicelib.store import targets as store
from chalicelib.store.tags import TARGET_TAG_MEMBERS
from chalicelib.store.tx import ATTEMPTS, MAX_ITEMS, Tx, retrying

MAX_TOKEN = 128
MAX_ADDRESS = 512
# A target writes its item and its token guard; a transaction also holds the usage counter and the journal's room.
TARGETS_PER_TRANSACTION = (MAX_ITEMS - 1 - all_or_nothing.ROOM) // 2

device_configuration = lazy_import("chalicelib.services.device_configuration")
target_types = lazy_import("chalicelib.services.target_types")  # only targets naming a type read types
auto_assignment = lazy_import("chalicelib.services.auto_assignment")

# RSQL / sort fields (hawkBit TargetFields), mapped to the entity dict used for matching and sorting.
SEARCH_FIELDS = {
    "id",
    "controllerid",
    "name",
    "description",
    "createdat",
    "createdby",
    "lastmodifiedat",
    "lastmodifiedby",
    "updatestatus",
    "ipaddress",
    "attribute.*",
    "assignedds.*",
    "installedds.*",
    "lastcontrollerrequestat",
    "address",
    "metadata.*",
    "tag",
    "targettype.*",
}
SORT_FIELDS = {
    "id": "controllerId",
    "controllerid": "controllerId",
    "name": "name",
    "description": "description",
    "createdat": "createdAt",
    "createdby": "createdBy",
    "lastmodifiedat": "lastModifiedAt",
    "lastmodifiedby": "lastModifiedBy",
    "updatestatus": "updateStatus",
    "ipaddress": "ipAddress",
    "lastcontrollerrequestat": "lastControllerRequestAt",
    "address": "address",
}


class NewTarget(NamedTuple):
    controller_id: str
    name: str
    description: str | None = None
    address: str | None = None
    security_token: str | None = None
    request_attributes: bool = True
    target_type: int | None = None


def parse_new(body: dict) -> NewTarget:
    controller_id = body.get("controllerId")
    if not isinstance(controller_id, str) or not controller_id.strip():
        raise errors.ConstraintViolation("controllerId is required.", ["controllerId"])
    if not valid_controller_id(controller_id):
        raise errors.ConstraintViolation(
            f"controllerId '{controller_id}' is invalid (at most {MAX_CONTROLLER_ID} "
            "characters, no whitespace, '/', '\\', '?', '#', '%').",
            ["controllerId"],
        )
    name = body.get("name")
    if name is None:
        name = controller_id
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        raise errors.ConstraintViolation("name must be a non-empty string of at most 128 characters.", ["name"])
    token = body.get("securityToken")
    if token is not None and (not isinstance(token, str) or not token or len(token) > MAX_TOKEN):
        raise errors.ConstraintViolation(f"securityToken must be 1..{MAX_TOKEN} characters.", ["securityToken"])
    address = body.get("address")
    if address is not None and (not isinstance(address, str) or len(address) > MAX_ADDRESS):
        raise errors.ConstraintViolation("address is invalid.", ["address"])
    _check_optional_str(body, "description", 512)
    request_attributes = body.get("requestAttributes", True)
    if not isinstance(request_attributes, bool):
        raise errors.ConstraintViolation("requestAttributes must be a Boolean.", ["requestAttributes"])
    return NewTarget(
        controller_id, name, body.get("description"), address, token, request_attributes, _target_type(body)
    )


def _target_type(body: dict) -> int | None:
    """The `targetType` id given (None when absent or null)."""
    value = body.get("targetType")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise errors.ConstraintViolation("targetType must be the id of a target type.", ["targetType"])
    return value


def _check_optional_str(body: dict, key: str, limit: int) -> None:
    value = body.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > limit):
        raise errors.ConstraintViolation(f"{key} must be a string of at most {limit} characters.", [key])


def new_item(
    tenant: str,
    spec: NewTarget,
    user: str,
    now: int,
    status: UpdateStatus = UpdateStatus.UNKNOWN,
    description: str | None = None,
) -> Target:
    return Target(
        tenant,
        spec.controller_id,
        name=spec.name,
        description=spec.description or description,
        address=spec.address,
        security_token=spec.security_token or auth.generate_token(),
        update_status=status.value,
        request_attributes=spec.request_attributes,
        target_type=spec.target_type,
        attributes={},
        active_actions=[],
        action_count=0,
        created_at=now,
        created_by=user,
        last_modified_at=now,
        last_modified_by=user,
    )


def create(tenant: str, specs: list[NewTarget], user: str) -> list[Target]:
    """Create all or none: duplicates (in the request or stored) are 409, a full TARGET quota is 403."""
    if not specs:
        return []
    ids = [s.controller_id for s in specs]
    duplicates = sorted({cid for cid in ids if ids.count(cid) > 1})
    if duplicates:
        raise errors.EntityAlreadyExists(f"Target with controllerId {duplicates[0]} given twice.", duplicates)
    existing = store.find_many_any(tenant, ids)
    live = sorted(cid for cid, target in existing.items() if not target.deletion)
    if live:
        raise errors.EntityAlreadyExists(f"Target with controllerId '{live[0]}' already exists.", [live[0]])
    for target in existing.values():
        _purge(target)  # a deletion that crashed half-way: its target must be gone before a new one exists
    _check_tokens_free(tenant, [s.security_token for s in specs if s.security_token])
    target_types.check_exists(tenant, [s.target_type for s in specs if s.target_type is not None])
    now = clock.now_ms()
    items = [new_item(tenant, spec, user, now) for spec in specs]
    chunk = TARGETS_PER_TRANSACTION
    with all_or_nothing.AllOrNothing(tenant, bulk_creates.TARGETS, {"createdAt": now}) as steps:
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            tx, undo = Tx(), Tx()
            for item in part:
                tx.put(item, on_fail=partial(_already_exists, item.controller_id))
                security_tokens.claim(tx, tenant, item.security_token, item.controller_id, _token_in_use)
                undo.delete(store.key_only(tenant, item.controller_id), add_version_condition=False)
                security_tokens.release(undo, tenant, item.security_token, item.controller_id)
            spread = part[0].controller_id
            quotas.charge(tx, tenant, "TARGET", len(part), spread_by=spread)
            quotas.release(undo, tenant, "TARGET", len(part), spread_by=spread)
            steps.commit(tx, undo, created=[item.controller_id for item in part])
    auto_assignment.created(tenant, items)
    return items


def _already_exists(controller_id: str) -> errors.SkyhawkError:
    return errors.EntityAlreadyExists(f"Target with controllerId '{controller_id}' already exists.", [controller_id])


def _token_in_use() -> errors.SkyhawkError:
    return errors.EntityAlreadyExists("The given securityToken is already in use.", ["securityToken"])


def _check_tokens_free(tenant: str, tokens: list[str]) -> None:
    """An operator-chosen token must not be held by another target of the tenant: 409. The guards in the
    create's transactions decide; this read spares a create of several transactions its undo."""
    if len(set(tokens)) != len(tokens):
        raise errors.EntityAlreadyExists("The same securityToken is given to two targets.", ["securityToken"])
    if security_tokens.taken(tenant, tokens):
        raise _token_in_use()


def register_plug_and_play(
    tenant: str,
    controller_id: str,
    ip_address: str | None,
    name: str | None = None,
    address: str | None = None,
    target_type: int | None = None,
) -> Target:
    """First poll of an unknown controller under a gateway token, or a DMF THING_CREATED (with its name, its
    reply address and its type): REGISTERED, as hawkBit does."""
    if not valid_controller_id(controller_id):
        raise errors.ConstraintViolation(f"controllerId '{controller_id}' is invalid.", ["controllerId"])

    def attempt() -> Target:
        spec = NewTarget(controller_id, name or controller_id, address=address, target_type=target_type)
        item = new_item(
            tenant,
            spec,
            "CONTROLLER_PLUG_AND_PLAY",
            clock.now_ms(),
            UpdateStatus.REGISTERED,
            f"Plug and Play target: {controller_id}",
        )
        item.ip_address = ip_address
        tx = Tx().put(item)
        security_tokens.claim(tx, tenant, item.security_token, controller_id)
        quotas.charge(tx, tenant, "TARGET", 1, spread_by=controller_id)
        try:
            tx.commit()
        except errors.ConcurrentModification:
            found = store.find_any(tenant, controller_id)  # registered by a concurrent first poll ...
            if found is not None and not found.deletion:
                return found
            if found is not None:
                _purge(found)  # ... or an earlier target of this id whose deletion crashed half-way
            raise  # ... or another device's first poll met on the same usage counter shard: try again
        item.version = 1
        return item

    return auto_assignment.registered(tenant, retrying(ATTEMPTS, attempt))


def refresh_plug_and_play(
    tenant: str,
    controller_id: str,
    name: str | None,
    address: str | None,
    target_type: int | None,
    remove_type: bool = False,
    user: str = "CONTROLLER_PLUG_AND_PLAY",
) -> Target:
    """A known thing announced again (DMF THING_CREATED, hawkBit's findOrRegisterTargetIfItDoesNotExist): its
    address, name and type when given and different (None: unchanged; `remove_type`: the type goes), and an
    UNKNOWN target becomes REGISTERED. Nothing written when nothing changes."""

    def attempt() -> Target:
        target = get(tenant, controller_id)
        change: dict[str, Any] = {}
        if name is not None and name != target.name:
            change["name"] = name
        if address is not None and address != target.address:
            change["address"] = address
        if remove_type and target.target_type is not None:
            change["target_type"] = changes.REMOVE
        elif target_type is not None and target_type != target.target_type:
            change["target_type"] = int(target_type)
        if target.update_status == UpdateStatus.UNKNOWN.value:
            change["update_status"] = UpdateStatus.REGISTERED.value
        if not change:
            return target
        Tx().update(
            target,
            {**change, "last_modified_at": clock.now_ms(), "last_modified_by": user},
            condition=store.live_condition(),
        ).commit()
        return get(tenant, controller_id)

    target = retrying(ATTEMPTS, attempt)
    auto_assignment.changed(tenant, [controller_id])
    return target


def get(tenant: str, controller_id: str) -> Target:
    target = store.find(tenant, controller_id)
    if target is None:
        raise errors.EntityNotFound.of("Target", controller_id)
    return target


def update(tenant: str, controller_id: str, body: dict, user: str) -> Target:
    target = get(tenant, controller_id)
    change: dict[str, Any] = {}
    for key, attr, limit in (
        ("name", "name", 128),
        ("description", "description", 512),
        ("address", "address", MAX_ADDRESS),
        ("securityToken", "security_token", MAX_TOKEN),
    ):
        if key in body and body[key] is not None:
            value = body[key]
            if not isinstance(value, str) or len(value) > limit or (key in ("name", "securityToken") and not value):
                raise errors.ConstraintViolation(f"{key} is invalid.", [key])
            change[attr] = value
    if "requestAttributes" in body and body["requestAttributes"] is not None:
        if body["requestAttributes"] is not True:
            raise errors.ConstraintViolation("requestAttributes can only be set to true.", ["requestAttributes"])
        change["request_attributes"] = True
    target_type = _target_type(body)
    if target_type is not None:
        target_types.check_exists(tenant, [target_type])
        change["target_type"] = target_type
    tx = Tx()
    token = body.get("securityToken")
    if isinstance(token, str) and token != target.security_token:
        security_tokens.release(tx, tenant, target.security_token, controller_id)
        security_tokens.claim(tx, tenant, token, controller_id, _token_in_use)
    if change:
        now = clock.now_ms()
        tx.update(target, {**change, "last_modified_at": now, "last_modified_by": user}).commit()
        auto_assignment.changed(tenant, [controller_id])
    return get(tenant, controller_id)


# --- delete: tombstone, then what the target owns, then the target ------------------------------------
DELETION = "target-delete"  # work kind (store.pending)
PURGE_CHUNK = 25  # actions deleted between two progress notes on the work item


def delete(tenant: str, controller_id: str) -> None:
    """Delete the target and everything it owns, in an order whose every prefix is safe.

    1. One transaction: the target's tombstone (`deletion`; from then on every read treats it as gone and
       no action, history entry or configuration task can be added to it), the TARGET usage, and a work
       item naming the action ids to delete (the reaper's, should this request die).
    2. The actions and their history, the device's configuration tasks, grants and actual configuration.
    3. One transaction: the target item and the work item.
    A retry of the request, a create of the same controllerId, a plug-and-play poll or the reaper each
    continue at step 2, so a new target of the same id never sees anything of this one.
    """
    target = store.find_any(tenant, controller_id)
    if target is None:
        raise errors.EntityNotFound.of("Target", controller_id)
    if not target.deletion:
        target = retrying(ATTEMPTS, lambda: _tombstone(tenant, controller_id))
    _purge(target)


def _tombstone(tenant: str, controller_id: str) -> Target:
    target = store.find_any(tenant, controller_id)
    if target is None:
        raise errors.EntityNotFound.of("Target", controller_id)
    if target.deletion:
        return target
    action_ids = action_store.ids_of_target(tenant, controller_id)
    work = pending.new(tenant, DELETION, controller_id, clock.now_ms(), detail={"actions": action_ids})
    # The target's version condition: an assignment committed after the Query above fails this (retried).
    tx = Tx().update(target, {"deletion": work.key})
    security_tokens.release(tx, tenant, target.security_token, controller_id)  # its device is gone at once
    pending.add(tx, work)
    quotas.release(tx, tenant, "TARGET", 1, spread_by=controller_id)
    tx.commit()
    target.deletion = work.key
    return target


def delete_if_created_at(tenant: str, controller_id: str, created_at: int) -> None:
    """Delete the target if it is the one created at `created_at` (a bulk create taken back by the reaper)."""
    target = store.find_any(tenant, controller_id)
    if target is not None and target.deletion:
        _purge(target)
    elif target is not None and int(target.created_at) == int(created_at):
        delete(tenant, controller_id)


def finish_deletion(tenant: str, controller_id: str, has_time: Callable[[], bool] = lambda: True) -> bool:
    """The reaper's entry: continue a deletion a crash interrupted (nothing to do when none is pending).
    False when `has_time` ran out first (the progress is noted: the next call goes on from there)."""
    target = store.find_any(tenant, controller_id)
    return _purge(target, has_time) if target is not None and target.deletion else True


def _purge(target: Target, has_time: Callable[[], bool] = lambda: True) -> bool:
    """Steps 2 and 3 of `delete`; idempotent, and it notes its progress for a retry."""
    tenant, controller_id, key = target.tenant, target.controller_id, target.deletion
    assert key is not None  # only a tombstoned target is purged
    work = pending.get(tenant, key)
    remaining = (
        [int(i) for i in (work.detail or {}).get("actions", [])]
        if work is not None
        else action_store.ids_of_target(tenant, controller_id)
    )
    while remaining:
        chunk, remaining = remaining[:PURGE_CHUNK], remaining[PURGE_CHUNK:]
        action_store.delete_many(tenant, controller_id, chunk)
        if remaining and work is not None:
            pending.note_progress(work, {"actions": remaining})
            if not has_time():
                return False
    # The device's data is keyed by controllerId alone: if a concurrent finisher removed the tombstone and a
    # new target of this id exists already, its tasks are not this deletion's to take.
    current = store.find_any(tenant, controller_id)
    if current is None or current.deletion != key:
        return True
    device_configuration.forget_device(tenant, controller_id)
    tx = Tx().delete(
        store.key_only(tenant, controller_id), condition=changes.eq("deletion", key), add_version_condition=False
    )
    tx.delete(target_metadata.key_only(tenant, controller_id), add_version_condition=False)  # with its target
    TARGET_TAG_MEMBERS.forget_target(tx, tenant, controller_id, current.tags or [])  # ≤ MAX_TAGS_PER_TARGET
    pending.remove(tx, tenant, key)
    try:
        tx.commit()
    except errors.ConcurrentModification:
        if store.find_any(tenant, controller_id) is not None:
            raise  # not finished by a concurrent request either: let the caller (or the reaper) try again
    return True


def search_view(
    target: Target,
    metadata: dict[str, dict] | None = None,
    tag_names: dict[int, str] | None = None,
    sets: dict[int, tuple[str, str]] | None = None,
    types: dict[int, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The fields RSQL and sort see (hawkBit TargetFields); `metadata` (its map) only when a query names it;
    `tag` is the names of its tags (`tag_names`: id -> name, given when the query filters on tags);
    `sets` (id -> (name, version)) answers assignedDS / installedDS name and version, `types`
    (id -> (key, name)) targetType key and name, when given."""

    def ds(ds_id: int | None) -> dict[str, Any]:
        name, version = (sets or {}).get(int(ds_id), (None, None)) if ds_id is not None else (None, None)
        return {"id": ds_id, "name": name, "version": version}

    type_id = target.target_type
    type_key, type_name = (types or {}).get(int(type_id), (None, None)) if type_id is not None else (None, None)
    return {
        "tag": [tag_names[int(i)] for i in target.tags or [] if int(i) in tag_names] if tag_names else [],
        "id": target.controller_id,
        "controllerid": target.controller_id,
        "controllerId": target.controller_id,
        "name": target.name,
        "description": target.description,
        "createdat": target.created_at,
        "createdAt": target.created_at,
        "createdby": target.created_by,
        "createdBy": target.created_by,
        "lastmodifiedat": target.last_modified_at,
        "lastModifiedAt": target.last_modified_at,
        "lastmodifiedby": target.last_modified_by,
        "lastModifiedBy": target.last_modified_by,
        "updatestatus": (target.update_status or "").lower(),
        "updateStatus": (target.update_status or "").lower(),
        "ipaddress": target.ip_address,
        "ipAddress": target.ip_address,
        "address": target.address,
        "lastcontrollerrequestat": target.last_request_at,
        "lastControllerRequestAt": target.last_request_at,
        "attribute": dict(target.attributes or {}),
        "assignedds": ds(target.assigned_ds),
        "installedds": ds(target.installed_ds),
        "targettype": {"id": type_id, "key": type_key, "name": type_name},
        "metadata": {key: entry.get("value") for key, entry in (metadata or {}).items()},
    }
