"""A request that needs several transactions and must still take effect entirely or not at all.

A DynamoDB transaction holds at most 100 items, so creating many entities at once takes several.
`AllOrNothing` commits them in order and keeps, for each committed one, the transaction that takes
it back (delete the items it put, subtract the counts it added). When a later one fails, the
inverses are committed newest first and the original error propagates: the request leaves nothing
behind but the ids it allocated from a sequence (never reused, as in any database).

    with AllOrNothing() as steps:
        for chunk in chunks:
            tx, undo = Tx(), Tx()
            ...  # every write added to `tx` gets its inverse in `undo`
            steps.commit(tx, undo)

Callers check what they can before the first write (e.g. natural keys with one BatchGet), so the
undo runs only when a concurrent request got in between.
"""
from __future__ import annotations

import logging

from chalicelib import errors
from chalicelib.store.tx import ATTEMPTS, Tx, backoff

log = logging.getLogger("skyhawk")



class AllOrNothing:
    def __init__(self) -> None:
        self._inverses: list[Tx] = []

    def commit(self, tx: Tx, undo: Tx | None = None) -> None:
        """Commit `tx`; once it succeeded, `undo` is what reverses it if a later step fails."""
        tx.commit()
        if undo is not None and len(undo):
            self._inverses.append(undo)

    def undo(self) -> None:
        """Reverse every committed step, newest first. A step that cannot be reversed is logged, not raised,
        so that the caller still sees the error that made the request fail."""
        while self._inverses:
            inverse = self._inverses.pop()
            for attempt in range(ATTEMPTS):
                try:
                    inverse.commit()
                    break
                except errors.ConcurrentModification:
                    if attempt == ATTEMPTS - 1:
                        log.error("could not undo a step of a failed multi-transaction request", exc_info=True)
                    else:
                        backoff(attempt)
                except Exception:  # noqa: BLE001 - keep undoing the other steps, keep the original error
                    log.error("could not undo a step of a failed multi-transaction request", exc_info=True)
                    break

    def __enter__(self) -> "AllOrNothing":
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc is not None:
            self.undo()
        return False
