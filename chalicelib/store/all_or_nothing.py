"""A request that needs several transactions and must still take effect entirely or not at all.

A DynamoDB transaction holds at most 100 items, so creating many entities at once takes several.
`AllOrNothing` commits them in order and keeps, for each committed one, the transaction that takes
it back (delete the items it put, subtract the counts it added). When a later one fails, the
inverses are committed newest first and the original error propagates: the request leaves nothing
behind but the ids it allocated from a sequence (never reused, as in any database).

    with AllOrNothing(tenant, "targets") as steps:
        for chunk in chunks:
            tx, undo = Tx(), Tx()
            ...  # every write added to `tx` gets its inverse in `undo`
            steps.commit(tx, undo, created=[ids of the entities `tx` creates])

Callers check what they can before the first write (e.g. natural keys with one BatchGet), so the
undo runs only when a concurrent request got in between.

The undo cannot run when the request dies (or AWS fails) half-way, so a request of several steps also
keeps a journal in the reaper's work list (store.pending): a header written before the first step, and
one record per step naming what it created, written in that step's transaction. The header is deleted
in the transaction of the last step, which makes that transaction the request's commit point: a header
left behind means the request never completed, and the reaper takes back what its records name
(services.bulk_creates). Every transaction therefore leaves `ROOM` item free for the journal. A step is
committed only when the next one is queued (or at the end), so the last one is known when it commits.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable, Literal

from chalicelib import clock
from chalicelib.store import pending
from chalicelib.store.tx import ATTEMPTS, Tx, backoff, refused

log = logging.getLogger("skyhawk")

ROOM = 1  # items every step's transaction leaves for the journal
JOURNAL = "create"  # work kinds: the header, and the record of one step
JOURNAL_PART = "create-part"


class AllOrNothing:
    def __init__(self, tenant: str, entity: str, detail: dict[str, Any] | None = None) -> None:
        self._tenant, self._entity, self._detail = tenant, entity, detail or {}
        self._inverses: list[Tx] = []
        self._queued: tuple[Tx, Tx | None, list] | None = None
        self._header: str | None = None
        self._parts: list[str] = []
        self._outcome_unknown = False

    def commit(self, tx: Tx, undo: Tx | None = None, created: Iterable[Any] = ()) -> None:
        """Queue `tx` (committing the step queued before it); `undo` reverses it if a later step fails,
        `created` names the entities it creates for the reaper."""
        if self._queued is not None:
            self._commit_queued(last=False)
        self._queued = (tx, undo, [str(ref) for ref in created])

    def _commit_queued(self, last: bool) -> None:
        assert self._queued is not None
        tx, undo, created = self._queued
        self._queued = None
        if not last and self._header is None:
            self._header = self._write_header()
        if self._header is not None:
            if last:
                pending.remove(tx, self._tenant, self._header)
            else:
                part = pending.part_of(
                    self._header,
                    self._tenant,
                    len(self._parts),
                    JOURNAL_PART,
                    self._entity,
                    clock.now_ms(),
                    {"created": created},
                )
                pending.add(tx, part)
                self._parts.append(part.key)
        try:
            tx.commit()
        except BaseException as exc:
            if not refused(exc):
                self._outcome_unknown = True
            raise
        if undo is not None and len(undo):
            self._inverses.append(undo)

    def _write_header(self) -> str:
        work = pending.new(
            self._tenant, JOURNAL, self._entity, clock.now_ms(), detail={**self._detail, "entity": self._entity}
        )
        self._outcome_unknown = True  # until the put is known to have worked
        pending.put(work)
        self._outcome_unknown = False
        return work.key

    def undo(self) -> bool:
        """Reverse every committed step, newest first; whether all were reversed. A step that cannot be
        reversed is logged, not raised, so that the caller still sees the error that made the request fail."""
        complete = True
        while self._inverses:
            inverse = self._inverses.pop()
            for attempt in range(ATTEMPTS):
                try:
                    inverse.commit()
                    break
                except Exception as exc:
                    if refused(exc) and attempt < ATTEMPTS - 1:
                        backoff(attempt)
                        continue  # a concurrent change of a counter: try again
                    log.error("could not undo a step of a failed multi-transaction request", exc_info=True)
                    complete = False
                    break
        return complete

    def _forget_journal(self) -> None:
        """Best effort: a record left behind without its header is the reaper's to delete."""
        try:
            for key in self._parts + ([self._header] if self._header else []):
                pending.delete(self._tenant, key)
        except Exception:
            log.warning("could not delete the journal of a multi-transaction request", exc_info=True)

    def __enter__(self) -> "AllOrNothing":
        return self

    def __exit__(self, exc_type, exc, traceback) -> Literal[False]:
        if exc is None and self._queued is not None:
            try:
                self._commit_queued(last=True)
            except BaseException:
                self._fail()
                raise
            if self._parts:
                self._header = None
                self._forget_journal()
            return False
        if exc is not None:
            self._queued = None
            self._fail()
        return False

    def _fail(self) -> None:
        # Whatever the undo manages, a step whose outcome is unknown may have committed: its record (and the
        # header) stay for the reaper, which takes back whatever of the request exists.
        if self.undo() and not self._outcome_unknown:
            self._forget_journal()
