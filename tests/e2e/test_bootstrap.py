"""`python -m infra.bootstrap`: creates the first admin in a deployed stage, never its tables.

"AWS" here is the stack's moto server with infra/skyhawk-data.yaml deployed through CloudFormation,
as an operator would (`make deploy-data`), under the dev stage's names.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.e2e.conftest import PROJECT_DIR

DATA_TEMPLATE = Path(PROJECT_DIR, "infra", "skyhawk-data.yaml")


def bootstrap(stack, password: str = "correct-horse-battery") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKYHAWK_")}
    env.update(AWS_ENDPOINT_URL=stack.moto_url, SKYHAWK_ADMIN_PASSWORD=password,
               SKYHAWK_TABLE_PREFIX="skyhawk-")  # the stage's names must win over a local shell's
    return subprocess.run([sys.executable, "-m", "infra.bootstrap", "--stage", "dev", "--region", "us-east-1"],
                          cwd=PROJECT_DIR, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=60)


def dev_tables(dynamodb) -> list[str]:
    return [name for name in dynamodb.list_tables()["TableNames"] if name.startswith("skyhawk-dev-")]


@pytest.mark.filterwarnings("ignore:Tried to parse AWS.*BucketPolicy")
def test_bootstrap_needs_the_stack_then_creates_admin_once(stack):
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.moto_url, region_name="us-east-1")
    assert dev_tables(dynamodb) == []

    refused = bootstrap(stack)
    assert refused.returncode == 2, refused.stderr
    assert "tables missing" in refused.stderr and "make deploy-data STAGE=dev" in refused.stderr
    assert dev_tables(dynamodb) == []  # it did not create them

    cfn = boto3.client("cloudformation", endpoint_url=stack.moto_url, region_name="us-east-1")
    cfn.create_stack(StackName="skyhawk-dev-data", TemplateBody=DATA_TEMPLATE.read_text(),
                     Parameters=[{"ParameterKey": "Stage", "ParameterValue": "dev"}], Capabilities=["CAPABILITY_IAM"])
    assert cfn.describe_stacks(StackName="skyhawk-dev-data")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    created = bootstrap(stack)
    assert created.returncode == 0, created.stderr
    assert "created user admin" in created.stdout
    item = dynamodb.get_item(TableName="skyhawk-dev-tenants",
                             Key={"tenant": {"S": "DEFAULT"}, "key": {"S": "user#admin"}}).get("Item")
    assert item and "password_hash" in item

    again = bootstrap(stack, password="another-password")
    assert again.returncode == 0 and "already has users" in again.stdout


def test_bootstrap_refuses_the_local_default_password(stack):
    result = bootstrap(stack, password="admin")
    assert result.returncode != 0
    assert "8 or more characters" in result.stderr
