"""infra/skyhawk-data.yaml cannot drift from the PynamoDB models, lints clean, and deploys (moto).

The expected tables come from `chalicelib.store.schema.TABLE_MODELS` through PynamoDB's own
`Model._get_schema()`, the description `create_table` sends, so a new table, index, key or
projection in the code fails here until the template has it. The failure message prints the
resource to paste.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from chalicelib.store.tables import STREAMED_TABLES

PROJECT_DIR = Path(__file__).resolve().parents[2]
DATA_TEMPLATE = PROJECT_DIR / "infra" / "skyhawk-data.yaml"
NAME_PREFIX = "skyhawk-${Stage}-"


# --- reading CloudFormation YAML (short-form intrinsics) -------------------------------------------

class _CfnLoader(yaml.SafeLoader):
    pass


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = DATA_TEMPLATE) -> dict:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


# --- the tables the code declares ------------------------------------------------------------------

def table_suffix(model) -> str:
    from chalicelib import config

    return model.Meta.table_name.removeprefix(config.table_prefix())


def _keys(key_schema: list[dict]) -> list[tuple[str, str]]:
    order = {"HASH": 0, "RANGE": 1}
    return sorted(((k["AttributeName"], k["KeyType"]) for k in key_schema), key=lambda k: order[k[1]])


def _projection(projection: dict) -> tuple:
    return (projection["ProjectionType"], tuple(sorted(projection.get("NonKeyAttributes", []))))


def expected_tables() -> dict[str, dict]:
    """suffix -> {attributes, keys, gsi, lsi, ttl} from the models' own create_table description."""
    from chalicelib.store import schema

    tables: dict[str, dict] = {}
    for model in schema.TABLE_MODELS:
        described = model._get_schema()
        indexes = {}
        for kind in ("global_secondary_indexes", "local_secondary_indexes"):
            indexes[kind] = {index["index_name"]: (_keys(index["key_schema"]), _projection(index["projection"]))
                             for index in described[kind]}
        tables[table_suffix(model)] = {
            "attributes": {a["AttributeName"]: a["AttributeType"] for a in described["attribute_definitions"]},
            "keys": _keys(described["key_schema"]),
            "gsi": indexes["global_secondary_indexes"],
            "lsi": indexes["local_secondary_indexes"],
            # TTL only on the attribute a model declares (and so writes): a TTL no item carries deletes nothing
            "ttl": ttl.attr_name if (ttl := model._ttl_attribute()) else None,
        }
    return tables


def template_tables(template: dict) -> dict[str, dict]:
    tables: dict[str, dict] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        name = props["TableName"]["Fn::Sub"]
        assert name.startswith(NAME_PREFIX), f"{logical_id}: TableName must be !Sub {NAME_PREFIX}<table>"
        tables[name.removeprefix(NAME_PREFIX)] = {
            "attributes": {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]},
            "keys": _keys(props["KeySchema"]),
            "gsi": {i["IndexName"]: (_keys(i["KeySchema"]), _projection(i["Projection"]))
                    for i in props.get("GlobalSecondaryIndexes", [])},
            "lsi": {i["IndexName"]: (_keys(i["KeySchema"]), _projection(i["Projection"]))
                    for i in props.get("LocalSecondaryIndexes", [])},
            "ttl": props.get("TimeToLiveSpecification", {}).get("AttributeName"),
        }
    return tables


def logical_id(suffix: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", suffix)) + "Table"


def render_table(suffix: str, table: dict) -> str:
    """The template resource for one table, in the template's own style (for failure messages)."""
    def key_lines(keys, indent):
        return "".join(f"{indent}- {{AttributeName: {name}, KeyType: {kind}}}\n" for name, kind in keys)

    def index_lines(name, keys, projection, indent):
        text = f"{indent}- IndexName: {name}\n{indent}  KeySchema:\n" + key_lines(keys, indent + "    ")
        text += f"{indent}  Projection:\n{indent}    ProjectionType: {projection[0]}\n"
        if projection[1]:
            text += f"{indent}    NonKeyAttributes: [{', '.join(projection[1])}]\n"
        return text

    text = (f"  {logical_id(suffix)}:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
            f"      TableName: !Sub \"{NAME_PREFIX}{suffix}\"\n"
            "      BillingMode: PAY_PER_REQUEST\n      AttributeDefinitions:\n")
    text += "".join(f"        - {{AttributeName: {name}, AttributeType: {kind}}}\n"
                    for name, kind in sorted(table["attributes"].items()))
    text += "      KeySchema:\n" + key_lines(table["keys"], "        ")
    for kind, prop in (("gsi", "GlobalSecondaryIndexes"), ("lsi", "LocalSecondaryIndexes")):
        if table[kind]:
            text += f"      {prop}:\n" + "".join(index_lines(name, keys, projection, "        ")
                                                 for name, (keys, projection) in sorted(table[kind].items()))
    text += COMMON_TABLE_PROPERTIES
    if table["ttl"]:
        text += TTL_PROPERTY.format(ttl=table["ttl"])
    return text + DELETION_PROTECTION


COMMON_TABLE_PROPERTIES = """\
      PointInTimeRecoverySpecification:
        PointInTimeRecoveryEnabled: true
      SSESpecification:
        SSEEnabled: true
"""
TTL_PROPERTY = """\
      TimeToLiveSpecification:
        AttributeName: {ttl}
        Enabled: true
"""
DELETION_PROTECTION = """\
      DeletionProtectionEnabled: !If [IsProd, true, false]
"""


# --- (a) the template declares exactly the tables of the code -------------------------------------

def test_template_tables_equal_the_models():
    expected, declared = expected_tables(), template_tables(load_template())
    problems = []
    for suffix in sorted(expected.keys() - declared.keys()):
        problems.append(f"missing table {suffix}; add to infra/skyhawk-data.yaml:\n"
                        + render_table(suffix, expected[suffix]))
    for suffix in sorted(declared.keys() - expected.keys()):
        problems.append(f"table {suffix} is in the template but no model in schema.TABLE_MODELS declares it")
    for suffix in sorted(expected.keys() & declared.keys()):
        if expected[suffix] != declared[suffix]:
            problems.append(f"table {suffix} differs from its model; the model says:\n"
                            + render_table(suffix, expected[suffix])
                            + f"the template says: {json.dumps(declared[suffix], default=list)}")
    assert not problems, "\n\n".join(problems)


def test_every_table_has_the_operational_settings():
    tables = {logical: r["Properties"] for logical, r in load_template()["Resources"].items()
              if r["Type"] == "AWS::DynamoDB::Table"}
    ttl_of = {suffix: table["ttl"] for suffix, table in expected_tables().items()}
    assert tables
    for logical, props in tables.items():
        suffix = props["TableName"]["Fn::Sub"].removeprefix(NAME_PREFIX)
        assert props["BillingMode"] == "PAY_PER_REQUEST", logical
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, logical
        assert props["SSESpecification"] == {"SSEEnabled": True}, logical
        # TTL where a model writes its attribute, nowhere else
        if ttl_of[suffix]:
            assert props["TimeToLiveSpecification"] == {"AttributeName": ttl_of[suffix], "Enabled": True}, logical
        else:
            assert "TimeToLiveSpecification" not in props, logical
        assert props["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}, logical
        # A stream on exactly the tables the change feed reads (the models' Meta says which)
        if suffix in STREAMED_TABLES:
            assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}, logical
        else:
            assert "StreamSpecification" not in props, logical
    outputs = load_template()["Outputs"]
    assert {name for name in outputs if name.endswith("StreamArn")} == {
        "TargetsStreamArn", "ActionsStreamArn", "ActionStatusStreamArn", "CatalogStreamArn", "WorkflowStreamArn"}


def test_table_names_follow_the_stage_prefix_of_chalice_config():
    """`skyhawk-${Stage}-` is what .chalice/config.json gives each deployed stage as SKYHAWK_TABLE_PREFIX."""
    stages = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]
    for stage in ("dev", "prod"):
        env = stages[stage]["environment_variables"]
        assert env["SKYHAWK_TABLE_PREFIX"] == NAME_PREFIX.replace("${Stage}", stage)
        assert env["SKYHAWK_BUCKET"] == f"skyhawk-{stage}-artifacts"
        assert env["SKYHAWK_EVENT_BUS"] == f"skyhawk-{stage}-events"  # the data stack's EventBus
    assert load_template()["Resources"]["EventBus"]["Properties"]["Name"] == {"Fn::Sub": "skyhawk-${Stage}-events"}


# --- (b) cfn-lint -----------------------------------------------------------------------------------

def test_cfn_lint_is_clean():
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint")
    assert cfn_lint, "cfn-lint is in requirements-dev.txt"
    templates = sorted(str(p) for p in (PROJECT_DIR / "infra").glob("*.yaml"))
    result = subprocess.run([cfn_lint, *templates], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


# --- (c) moto deploys the data template (without CloudFront, which moto cannot create) -------------

@pytest.mark.filterwarnings("ignore:Tried to parse AWS.*BucketPolicy")
def test_moto_creates_the_data_stack():
    import boto3
    from moto import mock_aws

    with mock_aws():
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        cfn.create_stack(StackName="skyhawk-ci-data", TemplateBody=DATA_TEMPLATE.read_text(),
                         Parameters=[{"ParameterKey": "Stage", "ParameterValue": "ci"},
                                     {"ParameterKey": "EnableCdn", "ParameterValue": "false"}],
                         Capabilities=["CAPABILITY_IAM"])
        stack = cfn.describe_stacks(StackName="skyhawk-ci-data")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        assert outputs["TablePrefix"] == "skyhawk-ci-"
        assert outputs["ArtifactBucketName"] == "skyhawk-ci-artifacts"
        assert "CdnDomainName" not in outputs

        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        for suffix, table in expected_tables().items():
            described = dynamodb.describe_table(TableName=f"skyhawk-ci-{suffix}")["Table"]
            assert _keys(described["KeySchema"]) == table["keys"]
            assert {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])} == set(table["gsi"])
            assert {i["IndexName"]: _projection(i["Projection"])
                    for i in described.get("GlobalSecondaryIndexes", [])} == {
                name: projection for name, (_, projection) in table["gsi"].items()}
        # moto's CloudFormation applies only the encryption of a bucket (lifecycle, public access block
        # and the bucket policy are checked statically in test_bucket_is_private_encrypted_and_tidy).
        s3 = boto3.client("s3", region_name="us-east-1")
        encryption = s3.get_bucket_encryption(Bucket="skyhawk-ci-artifacts")["ServerSideEncryptionConfiguration"]
        assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        policy = boto3.client("iam", region_name="us-east-1").get_policy(PolicyArn=outputs["AppPolicyArn"])
        assert policy["Policy"]["Arn"] == outputs["AppPolicyArn"]
        # The bus of the service integration events, and its archive for replays
        events = boto3.client("events", region_name="us-east-1")
        bus = events.describe_event_bus(Name="skyhawk-ci-events")
        assert (outputs["EventBusName"], outputs["EventBusArn"]) == ("skyhawk-ci-events", bus["Arn"])
        archive = events.describe_archive(ArchiveName="skyhawk-ci-events")
        assert (archive["EventSourceArn"], archive["RetentionDays"]) == (bus["Arn"], 7)


def _app_policy_statements(parameters: dict[str, str]) -> list[dict]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        cfn.create_stack(StackName="skyhawk-ci-data", TemplateBody=DATA_TEMPLATE.read_text(),
                         Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                     for k, v in {"Stage": "ci", **parameters}.items()],
                         Capabilities=["CAPABILITY_IAM"])
        stack = cfn.describe_stacks(StackName="skyhawk-ci-data")["Stacks"][0]
        arn = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["AppPolicyArn"]
        iam = boto3.client("iam", region_name="us-east-1")
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        return document["Statement"]


@pytest.mark.filterwarnings("ignore:Tried to parse AWS.*BucketPolicy")
def test_the_app_policy_reads_exactly_the_named_secrets():
    ssm_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/skyhawk/ci/proxy-secret"
    secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:skyhawk/ci/cdn-key-AbCdEf"
    named = _app_policy_statements({"CdnPrivateKeyParameterArn": secret_arn,
                                    "TrustedProxySecretParameterArn": ssm_arn})
    [secrets] = [s for s in named if s.get("Sid") == "Secrets"]
    assert sorted(secrets["Action"]) == ["secretsmanager:GetSecretValue", "ssm:GetParameter"]
    assert secrets["Resource"] == [secret_arn, ssm_arn]
    one = _app_policy_statements({"TrustedProxySecretParameterArn": ssm_arn})
    assert [s["Resource"] for s in one if s.get("Sid") == "Secrets"] == [[ssm_arn]]
    assert not [s for s in _app_policy_statements({}) if s.get("Sid") == "Secrets"]


@pytest.mark.filterwarnings("ignore:Tried to parse AWS.*BucketPolicy")
def test_the_functions_may_put_events_on_the_bus_only():
    [statement] = [s for s in _app_policy_statements({}) if s.get("Sid") == "IntegrationEvents"]
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == "arn:aws:events:us-east-1:123456789012:event-bus/skyhawk-ci-events"


@pytest.mark.filterwarnings("ignore:Tried to parse AWS.*BucketPolicy")
def test_the_event_archive_is_optional():
    import boto3
    from moto import mock_aws

    with mock_aws():
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        cfn.create_stack(StackName="skyhawk-ci-data", TemplateBody=DATA_TEMPLATE.read_text(),
                         Parameters=[{"ParameterKey": "Stage", "ParameterValue": "ci"},
                                     {"ParameterKey": "EventArchiveDays", "ParameterValue": "0"}],
                         Capabilities=["CAPABILITY_IAM"])
        events = boto3.client("events", region_name="us-east-1")
        assert events.describe_event_bus(Name="skyhawk-ci-events")["Name"] == "skyhawk-ci-events"
        assert events.list_archives()["Archives"] == []


def test_bucket_is_private_encrypted_and_tidy():
    resources = load_template()["Resources"]
    bucket = resources["ArtifactBucket"]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    [abort] = [r for r in bucket["LifecycleConfiguration"]["Rules"] if "AbortIncompleteMultipartUpload" in r]
    assert abort["Status"] == "Enabled"
    statements = resources["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statements[0]["Effect"] == "Deny" and statements[0]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}}


def test_the_bucket_takes_direct_uploads_from_the_consoles_origin():
    """The console PUTs large artifacts from the browser to a presigned URL: CORS for PUT, from ConsoleOrigins
    (moto's CloudFormation ignores CorsConfiguration, so the template is read; locally moto allows any origin)."""
    template = load_template()
    [rule] = template["Resources"]["ArtifactBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["PUT"] and rule["AllowedOrigins"] == {"Ref": "ConsoleOrigins"}
    assert rule["ExposedHeaders"] == ["ETag"] and rule["AllowedHeaders"] == ["*"]
    assert template["Parameters"]["ConsoleOrigins"]["Type"] == "CommaDelimitedList"


def test_cdn_is_optional_and_uses_origin_access_control():
    template = load_template()
    resources = template["Resources"]
    cdn = {name for name, r in resources.items() if r["Type"].startswith("AWS::CloudFront::")}
    assert cdn == {"CdnPublicKey", "CdnKeyGroup", "CdnOriginAccessControl", "CdnDistribution"}
    assert all(resources[name].get("Condition") == "CdnEnabled" for name in cdn)
    assert template["Parameters"]["EnableCdn"]["Default"] == "false"
    [origin] = resources["CdnDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["CdnOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not the legacy OAI


# --- (d) API Gateway answers unknown routes as the app does -------------------------------------------

def test_gateway_responses_render_the_apps_route_not_found():
    from chalicelib import errors
    template = json.loads((PROJECT_DIR / "infra" / "api-gateway-responses.json").read_text())
    app_body = json.loads(errors.render_hawkbit(errors.RouteNotFound()).body)
    kinds = set()
    for resource in template["Resources"].values():
        props = resource["Properties"]
        kinds.add(props["ResponseType"])
        assert props["StatusCode"] == "404" and props["RestApiId"] == {"Ref": "RestAPI"}
        body = json.loads(props["ResponseTemplates"]["application/json"])
        assert (body["errorCode"], body["exceptionClass"]) == (app_body["errorCode"], app_body["exceptionClass"])
    assert kinds == {"MISSING_AUTHENTICATION_TOKEN", "INCOMPLETE_SIGNATURE"}
