"""How much one queued unit of a job may do before it hands the rest on: pages read, and the invocation's time.

Lambda tells a function how much of its time is left (`context.get_remaining_time_in_millis`); without a
context (a direct call) the unit gets a fixed budget of the deployed function's timeout. A unit stops taking
new work when less than RESERVE_MS is left (enough to note its position and send the continuation), or when it
has read its pages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from chalicelib import config

# The worker function's timeout (lambda_timeout in .chalice/config.json): the budget without a Lambda context.
FIXED_BUDGET_MS = 30_000
# Stop taking new work when less than this is left: the largest single repair (a page of deletes, a reaper's
# repair step) fits, and the continuation is sent before Lambda ends the invocation.
RESERVE_MS = 8_000


@dataclass
class Budget:
    time_left_ms: Callable[[], int]
    pages: int
    page_size: int
    pages_read: int = field(default=0)

    @classmethod
    def of(cls, context: Any = None) -> "Budget":
        settings = config.settings()
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None:
            deadline = time.monotonic() + FIXED_BUDGET_MS / 1000

            def remaining() -> int:
                return int((deadline - time.monotonic()) * 1000)

        return cls(remaining, settings.jobs_pages_per_message, settings.jobs_page_size)

    def has_time(self) -> bool:
        return self.time_left_ms() >= RESERVE_MS

    def read_page(self) -> None:
        self.pages_read += 1

    def next_page(self) -> bool:
        """Whether the unit may read another page now."""
        return self.pages_read < self.pages and self.has_time()
