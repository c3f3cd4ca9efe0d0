"""docs/architecture.md stays true to the code: its table list is the models', every index has an access pattern,
every Lambda function, schedule and streamed table is named, and its links lead to files that exist."""
from __future__ import annotations

import re

from tools import architecture_doc

DOC = architecture_doc.DOC
ROOT = architecture_doc.ROOT


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    following = re.search(r"^#{2,3} ", text[start + len(heading):], re.MULTILINE)
    return text[start:start + len(heading) + following.start()] if following else text[start:]


def test_the_generated_table_list_equals_the_models():
    # Given the document and the models / When the table list is rendered from the models
    # Then the document holds exactly that list (python -m tools.architecture_doc rewrites it)
    assert architecture_doc.generated_block(DOC.read_text(encoding="utf-8")) == architecture_doc.render()


def test_the_table_list_names_every_table_and_index_of_the_models():
    # Given every physical table the models define
    tables = architecture_doc.collect()
    block = architecture_doc.generated_block(DOC.read_text(encoding="utf-8"))
    # Then each table, each item kind and each index is in the document's list
    assert {t.name for t in tables} >= {"tenants", "targets", "actions", "action-status", "catalog", "workflow"}
    for table in tables:
        assert f"| `{table.name}` |" in block
        for model, _prefix in table.models:
            assert f"`{model}`" in block
        for index in table.indexes:
            assert f"| `{index.name}` | `{table.name}` |" in block


def test_every_index_has_an_access_pattern():
    # Given the hand-written access patterns
    patterns = _section(DOC.read_text(encoding="utf-8"), "### Access patterns")
    # Then every index of every table is named there
    missing = [index.name for table in architecture_doc.collect() for index in table.indexes
               if f"`{index.name}`" not in patterns]
    assert missing == []


def test_every_lambda_function_and_schedule_of_the_app_is_described():
    # Given the app's functions as Chalice registers them
    import app

    text = DOC.read_text(encoding="utf-8")
    functions = _section(text, "## Lambda functions")
    jobs = _section(text, "## Jobs")
    names = {function.name for function in app.app.pure_lambda_functions}
    names |= {name for name, _kind in _event_handlers(app.app)}
    assert {"jobs_worker", "dmf_inbound", "change_feed", "reaper", "rollout_check"} <= names
    # Then each is in the functions table, and each schedule in the jobs table
    for name in names:
        assert f"`{name}`" in functions, name
    for name, kind in _event_handlers(app.app):
        if kind == "schedule":
            assert f"| `{name}` |" in jobs, name


def _event_handlers(chalice_app) -> list[tuple[str, str]]:
    kinds = {"CloudWatchEventConfig": "schedule", "ScheduledEventConfig": "schedule", "SQSEventConfig": "sqs"}
    return [(source.name, kinds.get(type(source).__name__, type(source).__name__))
            for source in chalice_app.event_sources]


def test_every_streamed_table_is_named_in_the_change_feed_section():
    from chalicelib.store import tables

    section = _section(DOC.read_text(encoding="utf-8"), "## Change feed and EventBridge")
    for name in tables.STREAMED_TABLES:
        assert f"`{name}`" in section


def test_relative_links_lead_to_files_that_exist():
    # Given every relative markdown link of the document
    text = DOC.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text)
    assert links
    # Then each names a file of the repository
    assert [link for link in links if not (DOC.parent / link).exists()] == []


def test_readme_anchors_the_document_links_to_exist():
    # Given the README's headings as GitHub turns them into anchors
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    anchors = {_anchor(h) for h in re.findall(r"^#{1,6} (.+)$", readme, re.MULTILINE)}
    # Then every README anchor the document links to is one of them
    wanted = re.findall(r"\]\(\.\./README\.md#([^)]+)\)", DOC.read_text(encoding="utf-8"))
    assert wanted
    assert sorted(set(wanted) - anchors) == []


def _anchor(heading: str) -> str:
    heading = re.sub(r"[`*]", "", heading.strip().lower())
    heading = re.sub(r"[^\w\- ]", "", heading)
    return heading.replace(" ", "-")


def test_the_middleware_table_lists_the_apps_http_middleware_in_order():
    # Given the HTTP middleware as app.py registers it (the first is the outermost)
    import app

    registered = [handler.__name__ for handler, kind in app.app.middleware_handlers if kind == "http"]
    # Then the document's middleware table has the same rows in the same order
    section = _section(DOC.read_text(encoding="utf-8"), "## Request flow")
    rows = re.findall(r"^\| `(\w+)` \| `chalicelib/", section, re.M)
    assert rows == registered


def test_every_job_module_is_named():
    # Given the modules of chalicelib/jobs / Then the document names each (a new job gets its row)
    text = DOC.read_text(encoding="utf-8")
    modules = sorted(p.name for p in (ROOT / "chalicelib" / "jobs").glob("*.py") if p.name != "__init__.py")
    assert "fanout.py" in modules
    assert [m for m in modules if f"`{m}`" not in text and f"chalicelib/jobs/{m}" not in text] == []
