"""The template `make package` deploys: chalice's SAM template with infra's merge templates, linted, with the
device front door (a function URL on the API function, whose handler serves both events).

`chalice package` needs PyPI only to download the Lambda's dependencies into the zip; the template does not
depend on them. Here chalice packages a copy of the project with that download left out, so the test runs
offline and never touches the project's own `.chalice/deployments` cache. The tests of what the zip carries
(`deployment_zip`) build it as `make package` does, downloads included, and skip where PyPI is not reachable.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
REQUIREMENTS = PROJECT_DIR / "requirements.txt"


def _merge_templates() -> list[Path]:
    makefile = (PROJECT_DIR / "Makefile").read_text()
    listed = re.search(r"^MERGE_TEMPLATES := (.+)$", makefile, re.MULTILINE).group(1).split()
    return [PROJECT_DIR / name for name in listed]


def _project_copy(project: Path) -> Path:
    """What chalice packages, copied (its cache is the copy's); returns the merge template `make package` gives."""
    from infra.merge_templates import merged

    for name in ("app.py", "requirements.txt"):
        shutil.copy(PROJECT_DIR / name, project / name)
    shutil.copytree(PROJECT_DIR / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    (project / ".chalice").mkdir()
    shutil.copy(PROJECT_DIR / ".chalice" / "config.json", project / ".chalice" / "config.json")
    merge_template = project / "merge-template.json"
    merge_template.write_text(json.dumps(merged(_merge_templates())))
    return merge_template


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> Path:
    from chalice.awsclient import TypedAWSClient
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.packager import DependencyBuilder
    from chalice.package import PackageOptions, create_app_packager

    project = tmp_path_factory.mktemp("project")
    merge_template = _project_copy(project)

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(DependencyBuilder, "build_site_packages", lambda self, abi, requirements, target: None)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    try:
        factory = CLIFactory(project_dir=str(project))
        config = factory.create_config_obj(chalice_stage_name="dev")
        options = PackageOptions(TypedAWSClient(factory.create_botocore_session()))
        create_app_packager(config, options, merge_template=str(merge_template)).package_app(
            config, str(project / "out"), "dev")
    finally:
        monkeypatch.undo()
    return project / "out"


def test_every_merge_template_in_infra_is_packaged():
    assert sorted(_merge_templates()) == sorted((PROJECT_DIR / "infra").glob("*.json"))


def test_the_packaged_template_lints_clean(packaged):
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint")
    result = subprocess.run([cfn_lint, str(packaged / "sam.json")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_devices_reach_the_api_function_through_a_public_function_url(packaged):
    resources = json.loads((packaged / "sam.json").read_text())["Resources"]
    handler = resources["APIHandler"]["Properties"]["Handler"]
    module, _, name = handler.rpartition(".")
    assert (module, name) == ("app", "handler")
    urls = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::Lambda::Url"}
    assert list(urls.values()) == [{"AuthType": "NONE", "InvokeMode": "BUFFERED",
                                    "TargetFunctionArn": {"Fn::GetAtt": ["APIHandler", "Arn"]}}]
    # Since October 2025 a public function URL needs both permissions (InvokeFunction only via the URL).
    grants = sorted((r["Properties"]["Action"], r["Properties"].get("FunctionUrlAuthType"),
                     r["Properties"].get("InvokedViaFunctionUrl"))
                    for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"
                    and r["Properties"]["FunctionName"] == {"Ref": "APIHandler"} and r["Properties"]["Principal"] == "*")
    assert grants == [("lambda:InvokeFunction", None, True), ("lambda:InvokeFunctionUrl", "NONE", None)]


def test_the_rest_api_still_serves_everything_through_the_same_function(packaged):
    template = json.loads((packaged / "sam.json").read_text())
    integration = json.dumps(template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"])
    assert "APIHandler.Arn" in integration
    assert template["Outputs"]["DeviceEndpointURL"]["Value"] == {"Fn::GetAtt": ["DeviceFunctionUrl", "FunctionUrl"]}


def test_the_handler_named_in_the_template_is_the_front_door():
    from app import app, handler
    from chalicelib.front_door import FrontDoor

    assert isinstance(handler, FrontDoor) and handler.app is app


def test_the_functions_role_gets_the_data_stacks_policy(packaged):
    """Chalice's generated policy cannot see PynamoDB's calls; the data stack's AppPolicy covers them."""
    template = json.loads((packaged / "sam.json").read_text())
    assert template["Parameters"]["AppPolicyArn"]["Type"] == "String"
    assert template["Resources"]["DefaultRole"]["Properties"]["ManagedPolicyArns"] == [{"Ref": "AppPolicyArn"}]
    roles = {r["Properties"]["Role"]["Fn::GetAtt"][0] for r in template["Resources"].values()
             if r["Type"] == "AWS::Serverless::Function"}
    assert roles == {"DefaultRole"}


def test_the_jobs_worker_drains_the_stacks_queue_with_a_dead_letter_queue(packaged):
    """Schedules enqueue into JobsQueue (its URL in every function's environment); the worker is triggered by it,
    reports failed units one by one, and a unit failing 5 times goes to the dead-letter queue (alarmed)."""
    from chalicelib.store import job_queue
    template = json.loads((packaged / "sam.json").read_text())
    resources = template["Resources"]
    queue, dead = resources["JobsQueue"]["Properties"], resources["JobsDeadLetterQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["JobsDeadLetterQueue", "Arn"]},
                                      "maxReceiveCount": job_queue.MAX_RECEIVES}
    worker = resources["JobsWorker"]["Properties"]
    assert queue["VisibilityTimeout"] == job_queue.VISIBILITY_SECONDS >= 6 * worker["Timeout"]
    assert dead["MessageRetentionPeriod"] == job_queue.DEAD_LETTER_RETENTION_SECONDS
    [event] = worker["Events"].values()
    assert event["Type"] == "SQS"
    # (a Sub, not a GetAtt: the merge replaces the value of chalice's own Sub, it cannot swap the intrinsic)
    assert event["Properties"]["Queue"] == {"Fn::Sub": "${JobsQueue.Arn}"}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["Properties"]["BatchSize"] <= 10
    assert template["Globals"]["Function"]["Environment"]["Variables"]["SKYHAWK_JOBS_QUEUE"] == {"Ref": "JobsQueue"}
    send = resources["JobsQueueSendPolicy"]["Properties"]
    assert send["Roles"] == [{"Ref": "DefaultRole"}]
    assert send["PolicyDocument"]["Statement"] == [{"Effect": "Allow", "Action": ["sqs:SendMessage"],
                                                    "Resource": {"Fn::GetAtt": ["JobsQueue", "Arn"]}}]
    alarm = resources["JobsDeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["JobsDeadLetterQueue", "QueueName"]}
    schedules = [name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"
                 and any(e["Type"] == "Schedule" for e in r["Properties"].get("Events", {}).values())]
    assert sorted(schedules) == ["ActionCleanup", "AutoAssignment", "ConfigTaskExpiry", "OverdueDetection",
                                 "Reaper", "RolloutCheck"]


def test_the_dmf_consumer_reads_the_stacks_fifo_inbound_queue_with_a_fifo_dead_letter_queue(packaged):
    """Gateways send to DmfInboundQueue (FIFO, no content-based deduplication); the consumer is triggered by it,
    reports failures one by one, a message failing 5 times goes to the FIFO dead-letter queue (alarmed), and the
    consumer itself sends refused messages there and replies to the gateways' queues."""
    from chalicelib.store import dmf_queues
    template = json.loads((packaged / "sam.json").read_text())
    resources = template["Resources"]
    queue, dead = resources["DmfInboundQueue"]["Properties"], resources["DmfDeadLetterQueue"]["Properties"]
    assert (queue["FifoQueue"], queue["ContentBasedDeduplication"], dead["FifoQueue"]) == (True, False, True)
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["DmfDeadLetterQueue", "Arn"]},
                                      "maxReceiveCount": dmf_queues.MAX_RECEIVES}
    consumer = resources["DmfInbound"]["Properties"]
    assert consumer["Handler"] == "app.dmf_inbound"
    assert queue["VisibilityTimeout"] == dmf_queues.VISIBILITY_SECONDS >= 6 * consumer["Timeout"]
    assert queue["MessageRetentionPeriod"] == dmf_queues.RETENTION_SECONDS
    assert dead["MessageRetentionPeriod"] == dmf_queues.DEAD_LETTER_RETENTION_SECONDS
    [event] = consumer["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::Sub": "${DmfInboundQueue.Arn}"}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["Properties"]["BatchSize"] <= 10
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["SKYHAWK_DMF_QUEUE"] == {"Ref": "DmfInboundQueue"}
    assert variables["SKYHAWK_DMF_DEAD_LETTER_QUEUE"] == {"Ref": "DmfDeadLetterQueue"}
    send = resources["DmfQueuesSendPolicy"]["Properties"]
    assert send["Roles"] == [{"Ref": "DefaultRole"}]
    dead_letter, replies = send["PolicyDocument"]["Statement"]
    assert dead_letter["Resource"] == {"Fn::GetAtt": ["DmfDeadLetterQueue", "Arn"]}
    assert replies["Action"] == ["sqs:GetQueueUrl", "sqs:SendMessage"]
    alarm = resources["DmfDeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["DmfDeadLetterQueue", "QueueName"]}


def test_every_function_names_the_stages_event_bus(packaged):
    """The change feed puts the integration events on the data stack's bus (skyhawk-<stage>-events, whose
    events:PutEvents the data stack's AppPolicy grants)."""
    resources = json.loads((packaged / "sam.json").read_text())["Resources"]
    functions = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert "ChangeFeed" in functions
    for name, function in functions.items():
        assert function["Environment"]["Variables"]["SKYHAWK_EVENT_BUS"] == "skyhawk-dev-events", name


def test_the_package_carries_the_console(packaged):
    """/ui serves chalicelib/console's files: the deployed API serves the same console as `make run`."""
    import zipfile
    console = PROJECT_DIR / "chalicelib" / "console"
    shipped = {f"chalicelib/console/{p.name}" for p in console.iterdir() if p.is_file()}
    with zipfile.ZipFile(packaged / "deployment.zip") as zipped:
        packed = {i.filename for i in zipped.infolist() if i.filename.startswith("chalicelib/console/")}
    assert packed == shipped and "chalicelib/console/index.html" in packed


def test_the_package_carries_the_openapi_documents_and_their_viewer_compactly(packaged):
    """/openapi serves files from chalicelib/openapi: chalice packages them, and they stay small in the zip."""
    import zipfile
    openapi = PROJECT_DIR / "chalicelib" / "openapi"
    shipped = {f"chalicelib/openapi/{p.relative_to(openapi).as_posix()}" for p in openapi.rglob("*") if p.is_file()}
    with zipfile.ZipFile(packaged / "deployment.zip") as zipped:
        packed = {i.filename: i for i in zipped.infolist() if i.filename.startswith("chalicelib/openapi/")}
    assert set(packed) == shipped
    assert {"chalicelib/openapi/mgmt.json", "chalicelib/openapi/viewer/swagger-ui-bundle.js.gz"} <= set(packed)
    assert sum(i.compress_size for i in packed.values()) < 1_000_000


# --- what Lambda gets: the zip `make package` deploys -------------------------------------------------------------
def _pins() -> dict[str, str]:
    """requirements.txt's pins, by normalized distribution name."""
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"requirements.txt pins every package to one version: {line!r}"
            pins[_normalized(name)] = version
    return pins


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pypi_reachable(tmp: Path) -> bool:
    """Whether pip (with this machine's configuration, a mirror included) can download a pinned package."""
    name, version = next(iter(_pins().items()))
    result = subprocess.run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps",
                             "-d", str(tmp), f"{name}=={version}"], capture_output=True, text=True, timeout=300)
    return result.returncode == 0


@pytest.fixture(scope="module")
def deployment_zip(tmp_path_factory) -> Path:
    """The zip as `make package` builds it: chalice downloads requirements.txt's packages (PyPI), then
    infra/lambda_package.py prepares the zip."""
    if not _pypi_reachable(tmp_path_factory.mktemp("pip")):
        pytest.skip("PyPI is not reachable: `make package` cannot download the Lambda's dependencies")
    project = tmp_path_factory.mktemp("project")
    merge_template = _project_copy(project)
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run([str(chalice), "package", "--stage", "dev", "--merge-template", str(merge_template), "out"],
                   cwd=project, check=True, capture_output=True, timeout=900,
                   env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"})  # (pip's settings and proxies kept)
    subprocess.run([sys.executable, "-m", "infra.lambda_package", str(project / "out" / "deployment.zip")],
                   cwd=PROJECT_DIR, check=True, capture_output=True, timeout=300)
    return project / "out" / "deployment.zip"


def test_make_package_prepares_the_zip_chalice_builds():
    recipe = re.search(r"^package: .*?\n((?:\t.*\n)+)", (PROJECT_DIR / "Makefile").read_text(), re.MULTILINE).group(1)
    assert "chalice package" in recipe
    assert recipe.index("chalice package") < recipe.index("-m infra.lambda_package out/deployment.zip")


def test_every_package_lambda_gets_is_pinned_to_the_version_the_tests_run():
    """requirements.txt pins its packages and all they depend on (on Lambda's Python 3.11 on Linux), each to the
    version installed here, where the tests run."""
    pins = _pins()
    for name, version in pins.items():
        assert importlib.metadata.version(name) == version, name
    environment = {"python_version": "3.11", "sys_platform": "linux", "platform_system": "Linux",
                   "platform_machine": "x86_64", "implementation_name": "cpython",
                   "platform_python_implementation": "CPython", "os_name": "posix", "extra": ""}
    from packaging.requirements import Requirement

    for name in pins:
        for spec in importlib.metadata.requires(name) or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                assert _normalized(requirement.name) in pins, f"{name} needs {requirement.name}: pin it"
                assert requirement.specifier.contains(pins[_normalized(requirement.name)]), (name, spec)


def test_the_zip_carries_exactly_the_pinned_versions(deployment_zip):
    with zipfile.ZipFile(deployment_zip) as zipped:
        metadata = [zipped.read(n).decode() for n in zipped.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
    shipped = {}
    for text in metadata:
        fields = dict(re.findall(r"^(Name|Version): (.+)$", text, re.MULTILINE))
        shipped[_normalized(fields["Name"])] = fields["Version"]
    assert shipped == _pins()


def test_the_zip_serves_an_idle_poll_with_nothing_but_its_own_contents(deployment_zip, tmp_path):
    """Unpacked, on a Python that sees only the standard library and the zip (as /var/task on Lambda): the app
    imports, a client of every kept service is created from the zip's botocore, a device polls (twice: tables
    and caches warm), and cryptography stays unloaded."""
    from infra.lambda_package import SERVICES
    from tests.infra.lambda_probe import probe

    with zipfile.ZipFile(deployment_zip) as zipped:
        zipped.extractall(tmp_path)
    report = probe(tmp_path, SERVICES, isolated=True)
    assert report["statuses"] == [200, 200]
    assert report["botocore_file"].startswith(str(tmp_path)) and report["app_file"].startswith(str(tmp_path))
    assert (report["boto3"], report["botocore"]) == (importlib.metadata.version("boto3"),
                                                     importlib.metadata.version("botocore"))
    assert report["cryptography"] == []


def test_the_zip_ships_its_modules_compiled_and_only_the_service_models_in_use(deployment_zip):
    import importlib.util

    from infra.lambda_package import SERVICES
    with zipfile.ZipFile(deployment_zip) as zipped:
        names = set(zipped.namelist())
        for module in ("app.py", "chalicelib/front_door.py", "botocore/client.py", "pynamodb/models.py"):
            compiled = importlib.util.cache_from_source(module)
            assert compiled in names, module
            header = zipped.read(compiled)[:16]
            assert header[:4] == importlib.util.MAGIC_NUMBER
            assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, source not checked
            assert header[8:16] == importlib.util.source_hash(zipped.read(module))
        models = {n.split("/")[2] for n in names if n.startswith("botocore/data/") and n.count("/") > 2}
        assert models == set(SERVICES)
    assert deployment_zip.stat().st_size < 15_000_000  # 24.6 MB before: a whole botocore, no .pyc


def test_the_kept_service_models_cover_every_client_the_code_creates():
    """A client of a service whose model the zip left out fails on Lambda at creation (UnknownServiceError)."""
    from infra.lambda_package import SERVICES

    named = set()
    for path in (PROJECT_DIR / "chalicelib").rglob("*.py"):
        named |= set(re.findall(r"""client\(\s*["']([a-z0-9-]+)["']""", path.read_text()))
    from chalicelib.store import secret_settings
    named |= {secret_settings.locate(reference)[0] for reference in ("ssm:/skyhawk/key", "secretsmanager:skyhawk/key")}
    assert named and named <= set(SERVICES), named - set(SERVICES)
    assert "dynamodb" in named


def test_each_function_gets_the_memory_chosen_for_it(packaged):
    """Chalice carries .chalice/config.json's per-function memory (the capacity model's choice, checked in
    tests/infra/test_capacity_model.py) into the template: every function has its own."""
    from chalice.utils import to_cfn_resource_name

    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]["dev"]["lambda_functions"]
    expected = {"APIHandler" if name == "api_handler" else to_cfn_resource_name(name): fn["lambda_memory_size"]
                for name, fn in config.items()}
    resources = json.loads((packaged / "sam.json").read_text())["Resources"]
    memory = {name: r["Properties"]["MemorySize"] for name, r in resources.items()
              if r["Type"] == "AWS::Serverless::Function"}
    assert memory == expected
    assert len(set(memory.values())) > 1  # chosen per function, not one size for all
