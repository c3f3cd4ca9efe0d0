"""`make deploy` / `make destroy` (infra/deploy.py) against moto, served over HTTP as AWS would be.

moto's CloudFormation deploys the data stack for real (change sets, "no changes", outputs, deletion), S3 holds the
code bucket and the uploads, and the first admin is created by infra.bootstrap in its own process, in moto's
DynamoDB. moto has no SAM transform (`AWS::Serverless-2016-10-31`: it skips the Serverless resources and then
fails on the permissions naming them), so the one step it cannot run, deploying the app stack, is handed to the
orchestrator as its `deploy_app` seam: the stand-in records what it is given (the template's URL and the
parameters) and answers a change only when either differs from the last deployment, as CloudFormation does.
The package is the real `chalice package` output of test_packaged_template.py (without the PyPI download).
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import boto3
import pytest

from infra.deploy import Deployment, DeployError, Stack, app_parameters, main
from tests.infra.test_packaged_template import packaged  # noqa: F401 - the fixture: chalice's package, built once

STAGE = "dev"
ACCOUNT = "123456789012"  # moto's
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS.*BucketPolicy")


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    """A fresh moto account, reached over HTTP by this process and by the bootstrap's."""
    import requests

    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("SKYHAWK_ADMIN_PASSWORD", raising=False)
    return boto3.session.Session(region_name="eu-central-1")


class AppStack:
    """The app stack's deployment step: what CloudFormation would be given, and whether it would change."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str]]] = []

    def __call__(self, name: str, template_url: str, parameters: dict[str, str]) -> Stack:
        changed = not self.calls or self.calls[-1][1:] != (template_url, parameters)
        self.calls.append((name, template_url, dict(parameters)))
        return Stack(name, {"EndpointURL": "https://abc123.execute-api.eu-central-1.amazonaws.com/api/",
                            "DeviceEndpointURL": "https://xyz789.lambda-url.eu-central-1.on.aws/",
                            "DmfInboundQueueUrl": f"https://sqs.eu-central-1.amazonaws.com/{ACCOUNT}/dmf.fifo"},
                     dict(parameters), changed)


def deployment(session, app_stack, lines: list[str]) -> Deployment:
    return Deployment(STAGE, session=session, say=lines.append, poll_seconds=0, deploy_app=app_stack)


def data_stack(session) -> dict:
    return session.client("cloudformation").describe_stacks(StackName=f"skyhawk-{STAGE}-data")["Stacks"][0]


def admin_password_matches(session, password: str) -> bool:
    from chalicelib import auth

    item = session.client("dynamodb").get_item(TableName=f"skyhawk-{STAGE}-tenants",
                                              Key={"tenant": {"S": "DEFAULT"}, "key": {"S": "user#admin"}})["Item"]
    return auth.password_matches(password, item["salt"]["S"], int(item["iterations"]["N"]), item["password_hash"]["S"])


def test_deploy_builds_the_whole_stage_then_a_second_run_changes_nothing(aws, packaged):  # noqa: F811
    app_stack, lines = AppStack(), []
    summary = deployment(aws, app_stack, lines).deploy(packaged)

    # The data stack, by moto's CloudFormation
    stack = data_stack(aws)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Stage"] == STAGE
    aws.client("dynamodb").describe_table(TableName=f"skyhawk-{STAGE}-targets")

    # The code: zip and template in the stage's code bucket, the template naming the zip
    bucket = f"skyhawk-{STAGE}-code-{ACCOUNT}"
    keys = {o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=bucket)["Contents"]}
    [zip_key] = [k for k in keys if k.endswith(".zip")]
    [template_key] = [k for k in keys if k.endswith(".json")]
    assert aws.client("s3").get_object(Bucket=bucket, Key=zip_key)["Body"].read() == (
        packaged / "deployment.zip").read_bytes()

    # The app stack: the uploaded template, the data stack's policy and streams
    [(name, template_url, parameters)] = app_stack.calls
    assert name == f"skyhawk-{STAGE}-api"
    assert template_url == f"https://{bucket}.s3.eu-central-1.amazonaws.com/{template_key}"
    assert parameters == {"AppPolicyArn": outputs["AppPolicyArn"], "DataStackName": f"skyhawk-{STAGE}-data",
                          "CdnDomainName": "", "CdnKeyPairId": "", "CdnPrivateKeyParameter": ""}
    template = json.loads(aws.client("s3").get_object(Bucket=bucket, Key=template_key)["Body"].read())
    functions = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert len(functions) > 5 and {f["CodeUri"] for f in functions} == {f"s3://{bucket}/{zip_key}"}
    assert set(parameters) == set(template["Parameters"])  # every parameter given: none falls back to a default

    # The first admin, with a generated password printed once
    [password] = [line.split("password ")[1].split()[0] for line in lines if "password " in line]
    assert len(password) >= 20 and admin_password_matches(aws, password)

    # What the operator needs, printed
    assert summary["REST API"] == "https://abc123.execute-api.eu-central-1.amazonaws.com/api/"
    assert summary["web console"] == "https://abc123.execute-api.eu-central-1.amazonaws.com/api/ui/"
    assert summary["devices (DDI)"] == ("https://xyz789.lambda-url.eu-central-1.on.aws/DEFAULT/controller/v1/"
                                        "<controllerId>")
    assert summary["DMF inbound queue"].endswith("/dmf.fifo")
    assert summary["event bus"] == f"skyhawk-{STAGE}-events"
    assert summary["downloads"] == "S3 presigned URLs"
    printed = "\n".join(lines)
    for value in summary.values():
        assert value in printed

    # Again: nothing changes, nothing is uploaded, no password is made or shown
    again: list[str] = []
    second = deployment(aws, app_stack, again).deploy(packaged)
    assert f"skyhawk-{STAGE}-data: no changes" in again
    assert data_stack(aws)["StackStatus"] == "CREATE_COMPLETE"
    assert app_stack.calls[1] == app_stack.calls[0]
    assert {o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=bucket)["Contents"]} == keys
    assert not any("password " in line or "uploaded" in line or "created" in line for line in again)
    assert "already has users" in second["admin"] and admin_password_matches(aws, password)


def test_a_package_of_another_stage_is_refused_before_anything_changes(aws, packaged):  # noqa: F811
    app_stack = AppStack()
    with pytest.raises(DeployError, match="make package STAGE=prod"):
        Deployment("prod", session=aws, say=lambda line: None, poll_seconds=0,
                   deploy_app=app_stack).upload_package(packaged, "any-bucket")
    assert not app_stack.calls


def test_a_stage_with_the_admin_password_of_the_environment_then_destroyed(aws, packaged, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SKYHAWK_ADMIN_PASSWORD", "a-long-secret")
    app_stack, lines = AppStack(), []
    summary = deployment(aws, app_stack, lines).deploy(packaged)
    assert summary["admin"] == "tenant DEFAULT, user admin"
    assert admin_password_matches(aws, "a-long-secret")
    assert not any("a-long-secret" in line for line in lines)
    aws.client("s3").put_object(Bucket=f"skyhawk-{STAGE}-artifacts", Key="artifacts/1", Body=b"firmware")

    deployment(aws, app_stack, lines).destroy(yes=True)

    assert f"skyhawk-{STAGE}-api: no such stack" in lines  # (the stand-in made none)
    assert f"artifact bucket skyhawk-{STAGE}-artifacts: 1 objects deleted" in lines
    cfn = aws.client("cloudformation")
    assert not [s for s in cfn.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"]
    assert aws.client("dynamodb").list_tables()["TableNames"] == []
    assert aws.client("s3").list_buckets()["Buckets"] == []
    # Nothing left to destroy is no error
    deployment(aws, app_stack, lines).destroy(yes=True)


def test_destroy_refuses_prod_without_force_and_asks_when_not_told(aws):
    lines: list[str] = []
    with pytest.raises(DeployError, match="deletion protection"):
        Deployment("prod", session=aws, say=lines.append, poll_seconds=0).destroy(yes=True)
    with pytest.raises(DeployError, match="nothing deleted"):
        Deployment(STAGE, session=aws, say=lines.append, poll_seconds=0).destroy(ask=lambda prompt: "no")


def test_a_stack_left_in_rollback_complete_is_deleted_and_created_again(aws):
    from moto.cloudformation.models import cloudformation_backends

    lines: list[str] = []
    runner = Deployment(STAGE, session=aws, say=lines.append, poll_seconds=0)
    runner.check_credentials()
    template = (Path(__file__).parents[2] / "infra" / "skyhawk-data.yaml").read_text()
    first = runner.deploy_stack(f"skyhawk-{STAGE}-data", {"Stage": STAGE}, template_body=template,
                                capabilities=["CAPABILITY_IAM"])
    # moto never rolls a creation back: its stack is put where CloudFormation leaves a failed creation
    [stack] = [s for s in cloudformation_backends[ACCOUNT]["eu-central-1"].stacks.values()
               if s.name == f"skyhawk-{STAGE}-data"]
    stack.status = "ROLLBACK_COMPLETE"

    again = runner.deploy_stack(f"skyhawk-{STAGE}-data", {"Stage": STAGE}, template_body=template,
                                capabilities=["CAPABILITY_IAM"])
    assert any("ROLLBACK_COMPLETE" in line and "deleting it, then creating it again" in line for line in lines)
    assert f"skyhawk-{STAGE}-data: deleted" in lines
    assert again.changed and data_stack(aws)["StackStatus"] == "CREATE_COMPLETE"
    assert data_stack(aws)["StackId"] != first.outputs.get("StackId", stack.stack_id)


def test_the_cloudfront_key_is_made_once_kept_in_ssm_and_its_public_half_goes_to_the_data_stack(aws):
    from cryptography.hazmat.primitives import serialization

    runner = Deployment(STAGE, session=aws, say=lambda line: None, poll_seconds=0)
    runner.check_credentials()
    first = runner.cdn_parameters(True, None)
    assert first["EnableCdn"] == "true"
    stored = aws.client("ssm").get_parameter(Name="/skyhawk/dev/cdn-private-key", WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString" and first["CdnPrivateKeyParameterArn"] == stored["ARN"]
    key = serialization.load_pem_private_key(stored["Value"].encode(), password=None)
    assert first["CdnPublicKeyPem"] == key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert runner.cdn_parameters(True, None) == first  # the same key on every later run
    assert runner.cdn_parameters(None, None) == dict.fromkeys(first)  # neither flag: the stack keeps its values
    assert runner.cdn_parameters(False, None) == {"EnableCdn": "false", "CdnPublicKeyPem": "",
                                                  "CdnPrivateKeyParameterArn": ""}
    with pytest.raises(DeployError, match="not an unencrypted PEM private key"):
        runner.cdn_parameters(True, "not a key")


def test_a_data_stack_with_cloudfront_gives_the_functions_its_distribution_and_key():
    """(moto's CloudFormation cannot create CloudFront: the data stack's outputs and parameters as AWS gives them)"""
    key_arn = f"arn:aws:ssm:eu-central-1:{ACCOUNT}:parameter/skyhawk/dev/cdn-private-key"
    data = Stack("skyhawk-dev-data", {"AppPolicyArn": "arn:policy", "CdnDomainName": "d111.cloudfront.net",
                                      "CdnPublicKeyId": "K2ABC"},
                 {"Stage": "dev", "EnableCdn": "true", "CdnPrivateKeyParameterArn": key_arn})
    assert app_parameters(data) == {"AppPolicyArn": "arn:policy", "DataStackName": "skyhawk-dev-data",
                                    "CdnDomainName": "d111.cloudfront.net", "CdnKeyPairId": "K2ABC",
                                    "CdnPrivateKeyParameter": key_arn}
    # CloudFront turned off: the key parameter may still be named, the functions sign with S3 again
    off = Stack("skyhawk-dev-data", {"AppPolicyArn": "arn:policy"}, {"EnableCdn": "false",
                                                                     "CdnPrivateKeyParameterArn": key_arn})
    assert app_parameters(off)["CdnPrivateKeyParameter"] == app_parameters(off)["CdnDomainName"] == ""


def test_the_data_stack_alone_and_a_code_bucket_of_ones_own(aws, packaged):  # noqa: F811
    lines: list[str] = []
    summary = deployment(aws, AppStack(), lines).deploy(packaged, data_only=True)
    assert summary == {"event bus": "skyhawk-dev-events", "artifacts": "s3://skyhawk-dev-artifacts",
                       "downloads": "S3 presigned URLs"}
    assert "\nthe data stack of skyhawk dev is deployed (eu-central-1, account 123456789012):" in lines
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="my-code", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    s3.put_object(Bucket="my-code", Key="other/keep", Body=b"x")
    runner = deployment(aws, AppStack(), lines)
    url = runner.upload_package(packaged, runner.ensure_code_bucket("my-code"))
    assert url.startswith("https://my-code.s3.eu-central-1.amazonaws.com/dev/sam-")
    with pytest.raises(DeployError, match="does not exist"):
        runner.ensure_code_bucket("no-such-bucket")

    runner.destroy(yes=True, code_bucket="my-code")
    assert "code bucket my-code: 2 objects of dev deleted" in lines
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="my-code")["Contents"]] == ["other/keep"]


def test_without_credentials_it_says_so(monkeypatch, tmp_path, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert main(["deploy", "--stage", STAGE]) == 1
    assert "no AWS credentials" in capsys.readouterr().err
    assert os.environ["AWS_DEFAULT_REGION"] == "eu-central-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert main(["destroy", "--stage", STAGE, "--yes"]) == 1
    assert "no AWS region" in capsys.readouterr().err


# --- the app template's part moto can deploy ----------------------------------------------------------------

def _references(value) -> set[str]:
    import re

    if isinstance(value, dict):
        found = set()
        for key, inner in value.items():
            if key == "Ref":
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text)}
            found |= _references(inner)
        return found
    if isinstance(value, list):
        return set().union(*map(_references, value)) if value else set()
    return set()


@pytest.mark.filterwarnings("ignore:Tried to parse AWS.*Alarm")
def test_moto_deploys_the_app_templates_plain_cloudformation_next_to_the_data_stack(aws, packaged):  # noqa: F811
    """Everything of out/sam.json that needs no SAM transform (the functions' role, the queues with their
    dead-letter queues and their send policies; moto skips the alarms), deployed by moto with the parameters
    `make deploy` gives it. (The rest names the functions or the REST API, which only the transform makes.)"""
    runner = deployment(aws, AppStack(), [])
    runner.deploy(packaged, data_only=True)
    template = json.loads((packaged / "sam.json").read_text())
    resources = template["Resources"]
    dropped = {name for name, r in resources.items() if r["Type"].startswith("AWS::Serverless::")}
    while True:  # and whatever names what is dropped
        more = {name for name, r in resources.items() if name not in dropped and _references(r) & dropped}
        if not more:
            break
        dropped |= more
    plain = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": template["Parameters"],
        "Resources": {name: r for name, r in resources.items() if name not in dropped},
        "Outputs": {name: o for name, o in template["Outputs"].items() if not _references(o) & dropped},
    }
    for name, resource in plain["Resources"].items():  # CloudFormation names a FIFO queue <generated>.fifo, moto not
        if resource["Type"] == "AWS::SQS::Queue" and resource["Properties"].get("FifoQueue"):
            resource["Properties"].setdefault("QueueName", f"skyhawk-{STAGE}-{name}.fifo")
    assert {"DefaultRole", "JobsQueue", "JobsDeadLetterQueue", "DmfInboundQueue", "DmfDeadLetterQueue",
            "ChangeFeedDeadLetterQueue"} <= set(plain["Resources"])
    parameters = app_parameters(runner._stack(f"skyhawk-{STAGE}-data", changed=False))
    app = runner.deploy_stack(f"skyhawk-{STAGE}-api", parameters, template_body=json.dumps(plain),
                              capabilities=["CAPABILITY_IAM"])

    sqs = aws.client("sqs")
    inbound = sqs.get_queue_attributes(QueueUrl=app.outputs["DmfInboundQueueUrl"], AttributeNames=["All"])["Attributes"]
    dead = sqs.get_queue_attributes(QueueUrl=app.outputs["DmfDeadLetterQueueUrl"], AttributeNames=["QueueArn"])
    assert inbound["FifoQueue"] == "true"
    assert json.loads(inbound["RedrivePolicy"])["deadLetterTargetArn"] == dead["Attributes"]["QueueArn"]
    jobs = sqs.get_queue_attributes(QueueUrl=app.outputs["JobsQueueUrl"], AttributeNames=["RedrivePolicy"])
    assert json.loads(jobs["Attributes"]["RedrivePolicy"])["maxReceiveCount"] == 5
    # The functions' role (moto leaves out its ManagedPolicyArns, the AppPolicyArn: test_packaged_template checks it)
    assert [r for r in aws.client("iam").list_roles()["Roles"] if "DefaultRole" in r["RoleName"]]
    # A second deployment of the same changes nothing
    assert not runner.deploy_stack(f"skyhawk-{STAGE}-api", parameters, template_body=json.dumps(plain),
                                   capabilities=["CAPABILITY_IAM"]).changed
