"""Outbound DMF messages (docs/dmf-hawkbit.md §8, §12): what a DMF thing is sent when its actions or its target
change, read from the change feed (chalicelib/store/change_feed.py), so a committed assignment, cancel, confirmation
or deletion always produces its message, at least once, and a request that failed produces none.

`deliver` is the change feed's consumer: for each change of a tenant with `dmf.enabled`, the trigger
(domain/dmf_dispatch.py), the thing's target as it is now (one read per thing and batch), the command, the message
(domain/dmf.py) and the send to the thing's reply queue. With `batch.assignments.enabled`, the assignments of one
feed batch that tell their things to install the same set the same way go as BATCH_DOWNLOAD(_AND_INSTALL) messages
to each reply queue instead of one message per thing. `send_current` answers a THING_CREATED with the thing's
current command (hawkBit's plug and play).

Reply queues: FIFO ones get MessageGroupId = the thingId (the tenant for a batch) and a deduplication id derived
from the feed record and the message, so a retried batch is not delivered twice within SQS's 5-minute window;
standard ones keep no order. An unreachable reply queue (deleted, access denied) is logged and skipped: a gateway
that went away must not stop everyone's feed; SQS being unavailable stops the batch there (retried).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from chalicelib import clock, errors
from chalicelib.domain import dmf, maintenance
from chalicelib.domain import dmf_dispatch as dispatch
from chalicelib.domain.targets import Target
from chalicelib.services import downloads, snapshots, tenant_config
from chalicelib.store import dmf_queues
from chalicelib.store import targets as target_store
from chalicelib.store.change_feed import Change, Kind

log = logging.getLogger("skyhawk.dmf")

BATCH_TARGETS = 500  # things per BATCH message: ~100 bytes each keeps a message far below SQS's 256 KiB


@dataclass
class _Outgoing:
    index: int  # the change it answers (where the feed resumes if sending fails)
    queue_url: str
    message: dmf.Message
    group: str
    deduplication: str


def wants(tenant: str) -> bool:
    """Only tenants with `dmf.enabled` have DMF things (the change feed decodes nothing for the others)."""
    return bool(tenant_config.value(tenant, "dmf.enabled"))


def deliver(changes: Sequence[Change | None]) -> int | None:
    """Send what the changes call for, in their order; the index of the first change not delivered, or None."""
    plan = _Plan()
    for index, change in enumerate(changes):
        if change is not None:
            plan.add(index, change)
    return plan.send()


def send_current(tenant: str, thing_id: str, message_key: str) -> int:
    """A thing (re)connected: send it its current command, if it has an open action; answers the messages sent."""
    target = _current_target(tenant, thing_id)
    if target is None or not dispatch.is_reply_queue(target.address):
        return 0
    plan = _Plan()
    plan.targets[(tenant, thing_id)] = target
    plan.plan_trigger(0, dispatch.Trigger(tenant, thing_id, dispatch.Reason.CONNECTED), f"connect-{message_key}")
    if plan.send() is not None:
        raise errors.ServiceUnavailable("SQS refused a DMF message")
    return len(plan.outgoing)


def _current_target(tenant: str, thing_id: str) -> Target | None:
    """The target as it is now, read consistently: an eventually consistent read right after the change could
    miss the very action the change opened, and its command would never be sent. A target being deleted is gone."""
    target = target_store.find_any(tenant, thing_id, consistent=True)
    return None if target is None or target.deletion else target


class _Plan:
    """One batch's messages, built in the feed's order, sent by `send`."""

    def __init__(self) -> None:
        self.targets: dict[tuple[str, str], Target | None] = {}
        self.modules: dict[tuple[str, int], tuple[dmf.SoftwareModule, ...]] = {}
        self.outgoing: list[_Outgoing] = []
        self.sent_bodies: set[tuple[str, str, str]] = set()
        # (tenant, reply queue, dsId, topic) -> the assignments that go as one BATCH message
        self.batches: dict[tuple[str, str, int, str], list[tuple[int, Target, Mapping[str, Any]]]] = {}
        self.now = clock.now_ms()

    # --- triggers -> messages ---------------------------------------------------------------------------------
    def add(self, index: int, change: Change) -> None:
        if change.kind is Kind.ACTION:
            trigger = dispatch.action_trigger(change.tenant, change.old, change.new)
        elif change.kind is Kind.TARGET:
            trigger = dispatch.target_trigger(change.tenant, change.old, change.new)
            if trigger is not None:
                # the image is the target as the change left it (a deleted one has no other)
                self.targets.setdefault((change.tenant, trigger.thing_id), change.new or change.old)
        else:
            return
        if trigger is None or not wants(change.tenant):
            return
        self.plan_trigger(index, trigger, change.sequence)

    def plan_trigger(self, index: int, trigger: dispatch.Trigger, cause: str) -> None:
        target = self._target(trigger.tenant, trigger.thing_id)
        if target is None or not dispatch.is_reply_queue(target.address):
            return
        assert target.address is not None
        summaries = list(target.active_actions or [])
        multi = bool(tenant_config.value(trigger.tenant, "multi.assignments.enabled"))
        for command in dispatch.commands_for(trigger, summaries, multi, bool(target.request_attributes)):
            if (
                trigger.reason is dispatch.Reason.ASSIGNED
                and isinstance(command, dispatch.Install)
                and not command.summary.get("waiting")
                and tenant_config.value(trigger.tenant, "batch.assignments.enabled")
            ):
                topic = dmf.batch_topic(str(command.summary.get("type")), self._window(command.summary))
                key = (trigger.tenant, target.address, int(command.summary["dsId"]), topic.value)
                self.batches.setdefault(key, []).append((index, target, command.summary))
                continue
            message = self._message(trigger.tenant, target, command)
            self._queue(index, target.address, message, trigger.thing_id, cause)

    def _message(self, tenant: str, target: Target, command: dispatch.Command) -> dmf.Message:
        thing = target.controller_id
        if isinstance(command, dispatch.Deleted):
            return dmf.thing_deleted(tenant, thing)
        if isinstance(command, dispatch.RequestAttributes):
            return dmf.request_attributes_update(tenant, thing)
        if isinstance(command, dispatch.Cancel):
            return dmf.cancel_download(tenant, thing, command.action_id)
        if isinstance(command, dispatch.Multi):
            return dmf.multi_action(tenant, thing, [self._deployment(tenant, target, s) for s in command.summaries])
        return dmf.download_request(tenant, thing, self._deployment(tenant, target, command.summary))

    def _deployment(self, tenant: str, target: Target, summary: Mapping[str, Any]) -> dmf.Deployment:
        canceling = bool(summary.get("canceling"))
        return dmf.Deployment(
            action_id=int(summary["id"]),
            action_type=str(summary.get("type") or "forced"),
            security_token=target.security_token or None,
            modules=() if canceling else self._modules(tenant, int(summary["dsId"])),
            waiting_confirmation=bool(summary.get("waiting")),
            window_available=self._window(summary),
            canceling=canceling,
            weight=summary.get("weight"),
        )

    def _window(self, summary: Mapping[str, Any]) -> bool | None:
        stored = summary.get("maintenanceWindow")
        window = maintenance.Window.parse(**stored) if stored else None
        return window.is_available(self.now) if window is not None else None

    def _modules(self, tenant: str, ds_id: int) -> tuple[dmf.SoftwareModule, ...]:
        """The set's modules with signed artifact URLs (as DDI downloads: `cdn.validity.days`), once per batch."""
        if (tenant, ds_id) not in self.modules:
            chunks = snapshots.chunks(tenant, ds_id)
            keys = {(int(c["smId"]), a["filename"]): a["s3Key"] for c in chunks for a in c.get("artifacts") or ()}
            validity = int(tenant_config.value(tenant, "cdn.validity.days")) * 86400

            def urls_of(sm_id: int, filename: str) -> dict[str, str]:
                url = downloads.signed_url(keys[(sm_id, filename)], filename, validity)
                return {"HTTPS" if url.startswith("https:") else "HTTP": url}

            self.modules[(tenant, ds_id)] = dmf.modules_of_snapshot(chunks, urls_of)
        return self.modules[(tenant, ds_id)]

    def _target(self, tenant: str, thing_id: str) -> Target | None:
        if (tenant, thing_id) not in self.targets:
            self.targets[(tenant, thing_id)] = _current_target(tenant, thing_id)
        return self.targets[(tenant, thing_id)]

    def _queue(self, index: int, queue_url: str, message: dmf.Message, group: str, cause: str) -> None:
        """Queue a message once: the same message to the same thing twice in one batch (two triggers calling for
        the same command) goes once."""
        seen = (queue_url, group, message.body + repr(sorted(message.headers.items())))
        if seen in self.sent_bodies:
            return
        self.sent_bodies.add(seen)
        digest = hashlib.sha256(f"{cause}|{group}|{seen[2]}".encode()).hexdigest()
        self.outgoing.append(_Outgoing(index, queue_url, message, group, digest))

    def _close_batches(self) -> None:
        for (tenant, queue_url, ds_id, _topic), members in self.batches.items():
            first_summary = members[0][2]
            modules = self._modules(tenant, ds_id)
            for start in range(0, len(members), BATCH_TARGETS):
                chunk = members[start : start + BATCH_TARGETS]
                message = dmf.batch_download(
                    tenant,
                    [
                        dmf.BatchTarget(int(summary["id"]), target.controller_id, target.security_token or None)
                        for _i, target, summary in chunk
                    ],
                    modules,
                    str(first_summary.get("type")),
                    self._window(first_summary),
                    self.now,
                )
                cause = "batch-" + ",".join(str(int(summary["id"])) for _i, _t, summary in chunk)
                self._queue(chunk[0][0], queue_url, message, tenant, cause)
        self.batches.clear()
        self.outgoing.sort(key=lambda out: out.index)

    # --- sending ---------------------------------------------------------------------------------------------
    def send(self) -> int | None:
        self._close_batches()
        for out in self.outgoing:
            try:
                dmf_queues.send(
                    out.queue_url,
                    out.message.headers,
                    out.message.body,
                    group_id=out.group,
                    deduplication_id=out.deduplication,
                )
            except errors.ServiceUnavailable:
                log.warning("DMF message to %s not sent: SQS unavailable", out.group)
                return out.index
            except Exception:
                log.exception(
                    "DMF message to %s not sent: its reply queue refused it (skipped)",
                    out.group,
                    extra={"topic": out.message.headers.get(dmf.TOPIC)},
                )
        return None
