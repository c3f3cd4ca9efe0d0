"""The physical tables: one model per table names its keys and indexes; creation for local runs and tests."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.store import idempotency, tables, workflow_tables

# One model per physical table (models sharing a table share its keys; the first one creates it).
TABLE_MODELS: list[type[Model]] = [
    tables.TenantConfigValue,
    tables.Target,
    tables.Action,
    tables.ActionStatusEntry,
    tables.SoftwareModule,
    workflow_tables.ConfigFile,
    workflow_tables.ConfigRevision,
    workflow_tables.WorkflowInstance,
    workflow_tables.DeviceConfigurationEntry,
    idempotency.IdempotencyRecord,
]


def register(model: type[Model]) -> None:
    """Feature packages with tables of their own add their table-defining model here."""
    if model not in TABLE_MODELS:
        TABLE_MODELS.append(model)


def ensure_tables() -> list[str]:
    """Create every missing table (and its indexes); returns the names created."""
    created = []
    for model in TABLE_MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            created.append(model.Meta.table_name)
    return created
