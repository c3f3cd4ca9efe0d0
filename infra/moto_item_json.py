"""moto's DynamoDB item reads answered as plain JSON, for the launcher's embedded moto.

moto 5.2 renders every answer through a generic serializer that walks botocore's output shape member by
member: an AttributeValue alone is ten members to look up, and a target item about 180. That walk was the
largest single cost of an idle poll under `make run` (issue 7: 45% of it once the calls skipped HTTP; the
poll's GetItem is now read directly, infra/moto_inprocess.py), and is still that of lists and batches. Item reads
(GetItem, BatchGetItem, Query, Scan) answer what moto's own handler computed, the items already in DynamoDB's
wire form, written as JSON directly, as moto did before it had that serializer: binary values base64, every
other value as it is. tests/infra/test_moto_item_json.py checks the answers equal the serializer's for items
holding every attribute type. Errors and every other operation keep moto's serializer.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from typing import Any

ITEM_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
CONTENT_TYPE = "application/x-amz-json-1.0"  # what moto's serializer sets for DynamoDB's JSON protocol


def plain(value: Any) -> Any:
    """A moto DynamoDB result (after `dynamo_to_dict`) as JSON-ready values, the way DynamoDB writes them."""
    if isinstance(value, dict):
        return {key: plain(member) for key, member in value.items() if member is not None}
    if isinstance(value, (list, tuple)):
        return [plain(member) for member in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    return value


def install() -> None:
    """Patch moto's DynamoResult once per process (idempotent); the patch only answers ITEM_READS."""
    from moto.dynamodb.responses import DynamoResult

    if getattr(DynamoResult.execute_result, "skyhawk_plain_json", False):
        return
    generic = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name not in ITEM_READS or isinstance(self.result, Exception):
            return generic(self, context)
        body = json.dumps(plain(self.result), separators=(",", ":"))
        return 200, {"Content-Type": CONTENT_TYPE}, body

    execute_result.skyhawk_plain_json = True  # type: ignore[attr-defined]
    execute_result.generic = generic  # type: ignore[attr-defined]
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


def uninstall() -> None:
    from moto.dynamodb.responses import DynamoResult

    generic = getattr(DynamoResult.execute_result, "generic", None)
    if generic is not None:
        DynamoResult.execute_result = generic  # type: ignore[method-assign]
