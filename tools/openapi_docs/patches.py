"""Where hawkBit's generated OpenAPI documents (hawkbit/) contradict hawkBit's behaviour: corrected here, once,
before the shipped documents are written (hawkbit/README.md lists the patches)."""
from __future__ import annotations

import json
from typing import Any


def patch_known_spec_bugs(name: str, doc: dict[str, Any]) -> None:
    """Correct what the generated documents get wrong; fails loudly when a refreshed copy no longer has the bug,
    so each patch is looked at again instead of silently loosening the contract."""
    schemas = doc["components"]["schemas"]
    if name == "hawkbit-mgmt.json":
        # MgmtSystemTenantConfigurationValue.value is a Java `Serializable`: a boolean, number or string on the
        # wire (`{"value": true}`, `{"value": "00:05:00"}`), never an object. springdoc renders it as object.
        value = schemas["MgmtSystemTenantConfigurationValue"]["properties"]["value"]
        assert value.get("type") == "object", "hawkbit-mgmt.json: tenant config value patch no longer applies"
        del value["type"]
        # The target tag operations' error responses (401, 403, 405, 406, 409, 415, 429) declare the success
        # body (MgmtTag, a list of them, a page of targets): springdoc's default for an @ApiResponse without
        # content. hawkBit answers every error with ExceptionInfo, as its other resources declare.
        patched = 0
        for template, item in doc["paths"].items():
            if not template.startswith("/rest/v1/targettags"):
                continue
            for operation in item.values():
                for status, response in operation.get("responses", {}).items():
                    declared = json.dumps(response.get("content", {}))
                    if status.startswith("4") and "Mgmt" in declared and "ExceptionInfo" not in declared:
                        response["content"] = {"application/json": {
                            "schema": {"$ref": "#/components/schemas/ExceptionInfo"}}}
                        patched += 1
        assert patched, "hawkbit-mgmt.json: target tag error body patch no longer applies"
        # A rollout group's success action PAUSE (hawkBit since PR #2867, 2026-01) is newer than the document.
        success = schemas["MgmtRolloutSuccessAction"]["properties"]["action"]
        assert success.get("enum") == ["NEXTGROUP"], "hawkbit-mgmt.json: success action PAUSE patch no longer applies"
        success["enum"] = ["NEXTGROUP", "PAUSE"]
    if name == "hawkbit-ddi.json":
        # DdiPolling.sleep's `pattern` is the literal text "HH:MM:SS" (meant as notation, not a regex): read
        # as a regex it refuses every real value such as "00:05:00".
        sleep = schemas["DdiPolling"]["properties"]["sleep"]
        assert sleep.get("pattern") == "HH:MM:SS", "hawkbit-ddi.json: sleep pattern patch no longer applies"
        sleep["pattern"] = r"^[0-9]{2}:[0-5][0-9]:[0-5][0-9]$"
