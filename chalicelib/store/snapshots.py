"""Deployment snapshots: what devices get for a distribution set, stored once per set in pages.

A set is locked before its first assignment and a locked set cannot change, so its snapshot is written
once (a conditional put per page: concurrent first assignments write the same pages) and read by Query.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.store.tables import DeploymentSnapshotPage, pad

PAGE_CHARACTERS = 100_000  # up to 4 bytes each as UTF-8: a page stays below DynamoDB's 400 KB item


def _prefix(ds_id: int) -> str:
    return f"{DeploymentSnapshotPage.PREFIX}{pad(int(ds_id))}#"


def load(tenant: str, ds_id: int) -> dict[str, Any] | None:
    pages = list(
        DeploymentSnapshotPage.query(tenant, DeploymentSnapshotPage.sk.startswith(_prefix(ds_id)), consistent_read=True)
    )
    if not pages or len(pages) != int(pages[0].pages):
        return None  # absent, or a first writer still writing its pages
    return json.loads("".join(page.body for page in pages))


def save(tenant: str, ds_id: int, document: dict[str, Any]) -> None:
    text = json.dumps(document, separators=(",", ":"))
    parts = [text[i : i + PAGE_CHARACTERS] for i in range(0, len(text), PAGE_CHARACTERS)] or [""]
    for number, part in enumerate(parts):
        page = DeploymentSnapshotPage(tenant, f"{_prefix(ds_id)}{number:04d}", pages=len(parts), body=part)
        try:
            page.save(condition=DeploymentSnapshotPage.sk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise  # an existing page holds the same text: the set cannot have changed
