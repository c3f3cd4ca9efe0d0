"""One command for a whole stage in the AWS account of your credentials: `make deploy` and `make destroy`.

    python -m infra.deploy deploy --stage dev [--package-dir out] [--code-bucket NAME] [--cdn | --no-cdn]
                                  [--cdn-private-key-pem FILE] [--tenant DEFAULT] [--data-only]
    python -m infra.deploy destroy --stage dev [--yes] [--force] [--code-bucket NAME]

`deploy` (`make deploy STAGE=dev` builds the package first, with `make package`), step by step:

1. The data stack `skyhawk-<stage>-data` (infra/skyhawk-data.yaml): tables, artifact bucket, event bus, the
   functions' policy and, with `--cdn`, CloudFront. Its parameters not named here keep their values.
2. The code bucket `skyhawk-<stage>-code-<account>` (or `--code-bucket`): created once, private, encrypted.
3. The package of `make package` (out/sam.json and out/deployment.zip) uploaded to it under content-addressed
   keys, the template's `CodeUri` pointing at the zip (what `aws cloudformation package` does).
4. The app stack `skyhawk-<stage>-api`: functions, REST API, device function URL, queues, with the data stack's
   `AppPolicyArn` (the policy attachment), `DataStackName` (its exported streams) and its CloudFront settings.
5. The first management user (infra/bootstrap.py): tenant DEFAULT (or `--tenant`), user `admin`, password from
   SKYHAWK_ADMIN_PASSWORD or generated and printed once. A tenant with users gets none.
6. The URLs: REST API, web console, the devices' DDI URL, the DMF inbound queue and the event bus.

A missing stack is created; an existing one changes through a change set, and one without changes is success,
so a second run changes nothing. A stack left in ROLLBACK_COMPLETE by a failed creation is deleted and created
again; a failed operation is reported with the events that failed.

`destroy` deletes the app stack, empties the artifact bucket (CloudFormation cannot delete a bucket that holds
objects; the artifacts mean nothing without the tables), deletes the data stack, then the code bucket (only
this stage's objects of a `--code-bucket` of your own) and the managed CloudFront key. It asks first (or
`--yes`) and refuses `prod`, whose tables have deletion protection, unless `--force`, which turns it off.

With `--cdn` downloads go through CloudFront signed URLs. The signing key is kept as the SSM SecureString
parameter `/skyhawk/<stage>/cdn-private-key`, generated on the first `--cdn` run (or imported from
`--cdn-private-key-pem`); the functions read it from there, the data stack gets its public half. Without
`--cdn`/`--no-cdn` a stage keeps what it has.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_TEMPLATE = PROJECT_DIR / "infra" / "skyhawk-data.yaml"
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
TEMPLATE_BODY_LIMIT = 51_200  # bytes CloudFormation takes inline; larger templates go through S3
DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "DELETE_COMPLETE"}
FAILED = {
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "DELETE_FAILED",
    "IMPORT_ROLLBACK_COMPLETE",
    "IMPORT_ROLLBACK_FAILED",
}


class DeployError(Exception):
    """A failure explained to the operator: printed as it is, exit status 1."""


@dataclass
class Stack:
    name: str
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    changed: bool = False


# The app stack's deployment step: (stack name, template URL, parameters) -> the stack. `Deployment.deploy_stack`
# by default; a seam for moto, whose CloudFormation has no SAM transform (tests/infra/test_deploy.py).
AppStep = Callable[[str, str, dict[str, str]], Stack]


def stage_environment(stage: str) -> dict[str, str]:
    from infra.bootstrap import stage_environment as environment

    return environment(stage)


class Deployment:
    def __init__(
        self,
        stage: str,
        *,
        session: Any = None,
        say: Callable[[str], None] = print,
        poll_seconds: float = 5.0,
        deploy_app: AppStep | None = None,
    ) -> None:
        import boto3

        self.stage = stage
        self.session = session or boto3.session.Session()
        self.say = say
        self.poll_seconds = poll_seconds
        self.deploy_app: AppStep = deploy_app or (
            lambda name, url, parameters: self.deploy_stack(
                name, parameters, template_url=url, capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
            )
        )
        self.data_stack = f"skyhawk-{stage}-data"
        self.app_stack = f"skyhawk-{stage}-api"
        self.cdn_key_parameter = f"/skyhawk/{stage}/cdn-private-key"
        self.region: str = self.session.region_name or ""
        self.account = ""
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region or None)
        return self._clients[service]

    # --- who and where ----------------------------------------------------------------------------------

    def check_credentials(self) -> None:
        from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

        if not self.region:
            raise DeployError("no AWS region: export AWS_DEFAULT_REGION=eu-central-1 (or set one in your profile)")
        try:
            self.account = self.client("sts").get_caller_identity()["Account"]
        except NoCredentialsError:
            raise DeployError(
                "no AWS credentials: run `aws configure` or `aws sso login`, or set AWS_PROFILE "
                "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
            ) from None
        except NoRegionError:
            raise DeployError("no AWS region: export AWS_DEFAULT_REGION=eu-central-1") from None
        except ClientError as error:
            raise DeployError(
                f"the AWS credentials do not work: {error.response['Error']['Message']} "
                "(expired? `aws sso login` or new keys)"
            ) from None
        if self.stage not in json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]:
            raise DeployError(f"no stage {self.stage!r} in .chalice/config.json: add it (as dev) first")

    # --- stacks -------------------------------------------------------------------------------------------

    def describe(self, name: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return self.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
        except ClientError as error:
            if "does not exist" in error.response["Error"]["Message"]:
                return None
            raise

    def deploy_stack(
        self,
        name: str,
        parameters: Mapping[str, str | None],
        *,
        template_body: str | None = None,
        template_url: str | None = None,
        capabilities: list[str],
    ) -> Stack:
        """Create stack `name`, or update it through a change set (none without changes); a parameter given as None
        keeps its value (its template default on creation)."""
        from botocore.exceptions import ClientError

        cfn = self.client("cloudformation")
        stack = self._settled(name)
        if stack and stack["StackStatus"] == "ROLLBACK_COMPLETE":
            self.say(
                f"{name}: ROLLBACK_COMPLETE (its creation failed and was rolled back; such a stack can only "
                "be deleted): deleting it, then creating it again"
            )
            self.delete_stack(name)
            stack = None
        if stack and stack["StackStatus"] in ("UPDATE_ROLLBACK_FAILED", "ROLLBACK_FAILED", "DELETE_FAILED"):
            raise DeployError(
                f"{name} is in {stack['StackStatus']}; see its events in the CloudFormation console, "
                f"then `aws cloudformation continue-update-rollback --stack-name {name}` (or delete it)"
            )
        template = {"TemplateBody": template_body} if template_body is not None else {"TemplateURL": template_url}
        given: list[dict[str, Any]] = [
            {"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items() if value is not None
        ]
        if stack and stack["StackStatus"] == "REVIEW_IN_PROGRESS":  # a change set never executed: nothing in it
            self.delete_stack(name)
            stack = None
        if stack is None:
            self.say(f"{name}: creating")
            seen: set[str] = set()
            cfn.create_stack(
                StackName=name, Parameters=given, Capabilities=capabilities, OnFailure="ROLLBACK", **template
            )
            return self._finish(name, seen)
        given += [
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
            for p in stack.get("Parameters", [])
            if parameters.get(p["ParameterKey"]) is None
        ]
        change_set = f"skyhawk-deploy-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
        try:
            cfn.create_change_set(
                StackName=name,
                ChangeSetName=change_set,
                ChangeSetType="UPDATE",
                Parameters=given,
                Capabilities=capabilities,
                **template,
            )
        except ClientError as error:  # (moto refuses a change set without changes right away)
            if not any(text in error.response["Error"]["Message"] for text in NO_CHANGES):
                raise
            self.say(f"{name}: no changes")
            return self._stack(name, changed=False)
        described = self._wait(
            lambda: cfn.describe_change_set(StackName=name, ChangeSetName=change_set),
            lambda d: d["Status"] in ("CREATE_COMPLETE", "FAILED"),
        )
        if described["Status"] == "FAILED":
            reason = described.get("StatusReason", "")
            if any(text in reason for text in NO_CHANGES):
                cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
                self.say(f"{name}: no changes")
                return self._stack(name, changed=False)
            raise DeployError(f"{name}: the change set failed: {reason}")
        self.say(f"{name}: updating")
        for change in described.get("Changes", []):
            resource = change.get("ResourceChange", {})
            replacement = " (replaced)" if resource.get("Replacement") == "True" else ""
            self.say(
                f"  {resource.get('Action', '?'):<7} {resource.get('LogicalResourceId')} "
                f"({resource.get('ResourceType')}){replacement}"
            )
        seen = self._event_ids(name)
        cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
        return self._finish(name, seen)

    def _finish(self, name: str, seen: set[str]) -> Stack:
        status, failures = self._watch(name, seen)
        if status not in DONE:
            after = {
                "ROLLBACK_COMPLETE": "\n(the next deploy deletes the rolled back stack and creates it again)",
                "UPDATE_ROLLBACK_COMPLETE": "\n(the stack is back as it was before)",
            }.get(status, "")
            raise DeployError(f"{name}: {status}" + "".join(f"\n  {line}" for line in failures) + after)
        self.say(f"{name}: {status}")
        return self._stack(name, changed=True)

    def delete_stack(self, name: str) -> bool:
        stack = self._settled(name)
        if stack is None:
            self.say(f"{name}: no such stack")
            return False
        seen = self._event_ids(name)
        self.client("cloudformation").delete_stack(StackName=stack["StackId"])
        # Followed by name, gone once deleted (describing a deleted stack by its id makes moto build its outputs,
        # and so its tables, again)
        status, failures = self._watch(name, seen)
        if status != "DELETE_COMPLETE":
            raise DeployError(f"{name}: {status}" + "".join(f"\n  {line}" for line in failures))
        self.say(f"{name}: deleted")
        return True

    def _stack(self, name: str, changed: bool) -> Stack:
        described = self.describe(name) or {}
        return Stack(
            name,
            {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
            {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])},
            changed,
        )

    def _settled(self, name: str) -> dict[str, Any] | None:
        """The stack once no operation runs on it (None if there is none)."""
        stack = self.describe(name)
        if stack and stack["StackStatus"].endswith("_IN_PROGRESS") and stack["StackStatus"] != "REVIEW_IN_PROGRESS":
            self.say(f"{name}: {stack['StackStatus']}, waiting for it to end")
            self._watch(name, self._event_ids(name))
            stack = self.describe(name)
        return stack

    def _event_ids(self, name: str) -> set[str]:
        events = self.client("cloudformation").describe_stack_events(StackName=name)["StackEvents"]
        return {event["EventId"] for event in events}

    def _watch(self, name: str, seen: set[str]) -> tuple[str, list[str]]:
        """Follow an operation to its end, printing its events: (final status, the failed resources' reasons)."""
        from botocore.exceptions import ClientError

        cfn = self.client("cloudformation")
        failures: list[str] = []
        while True:
            try:
                stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
                events = cfn.describe_stack_events(StackName=name)["StackEvents"]
            except ClientError as error:  # a stack named by its name is gone once deleted
                if "does not exist" in error.response["Error"]["Message"]:
                    return "DELETE_COMPLETE", failures
                raise
            for event in reversed(events):
                if event["EventId"] in seen:
                    continue
                seen.add(event["EventId"])
                reason = event.get("ResourceStatusReason", "")
                line = f"{event['ResourceStatus']:<20} {event['LogicalResourceId']} ({event['ResourceType']})"
                self.say(f"  {line}" + (f": {reason}" if reason else ""))
                if event["ResourceStatus"].endswith("_FAILED"):
                    failures.append(f"{line}: {reason}")
            status = stack["StackStatus"]
            if status in DONE or status in FAILED:
                return status, failures
            time.sleep(self.poll_seconds)

    def _wait(self, read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while not done(answer := read()):
            time.sleep(self.poll_seconds)
        return answer

    # --- code ---------------------------------------------------------------------------------------------

    def code_bucket_name(self) -> str:
        return f"skyhawk-{self.stage}-code-{self.account}"

    def ensure_code_bucket(self, name: str | None) -> str:
        from botocore.exceptions import ClientError

        bucket = name or self.code_bucket_name()
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=bucket)
            return bucket
        except ClientError as error:
            if error.response["Error"]["Code"] in ("403", "AccessDenied"):
                raise DeployError(
                    f"bucket {bucket} belongs to another account or denies you: name another with "
                    "--code-bucket (make deploy CODE_BUCKET=...)"
                ) from None
            if error.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
                raise
        if name:
            raise DeployError(f"--code-bucket {bucket} does not exist; create it or leave the option out")
        location = (
            {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        )
        s3.create_bucket(Bucket=bucket, **location)
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        self.say(f"code bucket {bucket}: created")
        return bucket

    def upload_package(self, package_dir: Path, bucket: str) -> str:
        """Upload the zip and the template that names it; the template's URL. Content-addressed: the same build
        uploads nothing and yields the same URL (so the app stack sees no change)."""
        template_path, zip_path = package_dir / "sam.json", package_dir / "deployment.zip"
        if not (template_path.is_file() and zip_path.is_file()):
            raise DeployError(f"no package in {package_dir}/: `make package STAGE={self.stage}` (make deploy runs it)")
        template = json.loads(template_path.read_text())
        prefix = stage_environment(self.stage).get("SKYHAWK_TABLE_PREFIX")
        packaged_for = {
            r["Properties"].get("Environment", {}).get("Variables", {}).get("SKYHAWK_TABLE_PREFIX")
            for r in template["Resources"].values()
            if r["Type"] == "AWS::Serverless::Function"
        }
        if packaged_for != {prefix}:
            raise DeployError(
                f"{template_path} was packaged for tables {', '.join(map(str, packaged_for))}, not "
                f"{prefix}: `make package STAGE={self.stage}` (make deploy runs it)"
            )
        zip_key = f"{self.stage}/deployment-{_digest(zip_path.read_bytes())}.zip"
        if self._put_once(bucket, zip_key, zip_path):
            self.say(f"code: s3://{bucket}/{zip_key} ({zip_path.stat().st_size / 1e6:.1f} MB) uploaded")
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function" and not str(
                resource["Properties"].get("CodeUri", "s3://")
            ).startswith("s3://"):
                resource["Properties"]["CodeUri"] = f"s3://{bucket}/{zip_key}"
        body = json.dumps(template, indent=1).encode()
        template_key = f"{self.stage}/sam-{_digest(body)}.json"
        self._put_once(bucket, template_key, body)
        return f"https://{bucket}.s3.{self.region}.amazonaws.com/{template_key}"

    def _put_once(self, bucket: str, key: str, content: Path | bytes) -> bool:
        from botocore.exceptions import ClientError

        s3 = self.client("s3")
        try:
            s3.head_object(Bucket=bucket, Key=key)
            return False
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
                raise
        if isinstance(content, Path):
            s3.upload_file(str(content), bucket, key)
        else:
            s3.put_object(Bucket=bucket, Key=key, Body=content)
        return True

    # --- CloudFront -----------------------------------------------------------------------------------

    def cdn_parameters(self, enable: bool | None, private_key_pem: str | None) -> dict[str, str | None]:
        """The data stack's CDN parameters: on (with the managed key), off, or as they are (None)."""
        if enable is None:
            return {"EnableCdn": None, "CdnPublicKeyPem": None, "CdnPrivateKeyParameterArn": None}
        if not enable:
            return {"EnableCdn": "false", "CdnPublicKeyPem": "", "CdnPrivateKeyParameterArn": ""}
        pem, arn = self.cdn_private_key(private_key_pem)
        return {"EnableCdn": "true", "CdnPublicKeyPem": _public_pem(pem), "CdnPrivateKeyParameterArn": arn}

    def cdn_private_key(self, imported_pem: str | None) -> tuple[str, str]:
        """(private key PEM, its SSM parameter's ARN): the stored key, replaced by an imported one, or a new one."""
        ssm = self.client("ssm")
        try:
            stored = ssm.get_parameter(Name=self.cdn_key_parameter, WithDecryption=True)["Parameter"]
        except ssm.exceptions.ParameterNotFound:
            stored = None
        if stored and (imported_pem is None or imported_pem.strip() == stored["Value"].strip()):
            return stored["Value"], stored["ARN"]
        pem = imported_pem or _new_private_pem()
        _public_pem(pem)  # refuses what is not an RSA private key before anything is stored
        ssm.put_parameter(
            Name=self.cdn_key_parameter,
            Value=pem,
            Type="SecureString",
            Overwrite=True,
            Description=f"skyhawk {self.stage}: signs the CloudFront download URLs (infra/deploy.py)",
        )
        self.say(
            f"CloudFront signing key: {'replaced' if stored else 'stored'} as SSM parameter {self.cdn_key_parameter}"
        )
        return pem, ssm.get_parameter(Name=self.cdn_key_parameter)["Parameter"]["ARN"]

    # --- the first user -----------------------------------------------------------------------------------

    def bootstrap(self, tenant: str | None) -> tuple[dict[str, Any], str | None]:
        """infra.bootstrap in its own process (it fixes the stage's table names at import); (its report, the
        generated password if one was generated and used)."""
        password = os.environ.get("SKYHAWK_ADMIN_PASSWORD") or ""
        generated = None if password else secrets.token_urlsafe(18)
        command = [sys.executable, "-m", "infra.bootstrap", "--stage", self.stage, "--region", self.region, "--json"]
        result = subprocess.run(
            command + (["--tenant", tenant] if tenant else []),
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "SKYHAWK_ADMIN_PASSWORD": password or str(generated)},
        )
        if result.returncode != 0:
            raise DeployError(f"the first user: {result.stderr.strip() or result.stdout.strip()}")
        report = json.loads(result.stdout.strip().splitlines()[-1])
        return report, generated if report["created"] else None

    # --- the whole -----------------------------------------------------------------------------------------

    def deploy(
        self,
        package_dir: Path = PROJECT_DIR / "out",
        *,
        code_bucket: str | None = None,
        cdn: bool | None = None,
        cdn_private_key_pem: str | None = None,
        tenant: str | None = None,
        data_only: bool = False,
    ) -> dict[str, str]:
        self.check_credentials()
        self.say(f"skyhawk {self.stage}: account {self.account}, region {self.region}")
        if not data_only and not (package_dir / "sam.json").is_file():
            raise DeployError(f"no package in {package_dir}/: `make package STAGE={self.stage}` (make deploy runs it)")
        data_body = DATA_TEMPLATE.read_text()
        data = self.deploy_stack(
            self.data_stack,
            {"Stage": self.stage, **self.cdn_parameters(cdn, cdn_private_key_pem)},
            template_body=data_body,
            capabilities=["CAPABILITY_IAM"],
        )
        summary = {
            "event bus": data.outputs.get("EventBusName", ""),
            "artifacts": f"s3://{data.outputs.get('ArtifactBucketName', '')}",
            "downloads": (
                f"CloudFront https://{data.outputs['CdnDomainName']}/"
                if data.outputs.get("CdnDomainName")
                else "S3 presigned URLs"
            ),
        }
        if data_only:
            return self._report(summary)
        bucket = self.ensure_code_bucket(code_bucket)
        url = self.upload_package(package_dir, bucket)
        app = self.deploy_app(self.app_stack, url, app_parameters(data))
        report, password = self.bootstrap(tenant)
        api = app.outputs["EndpointURL"]
        summary = {
            "REST API": api,
            "web console": f"{api}ui/",
            "devices (DDI)": f"{app.outputs['DeviceEndpointURL']}{report['tenant']}/controller/v1/<controllerId>",
            "DMF inbound queue": app.outputs.get("DmfInboundQueueUrl", ""),
            **summary,
            "admin": (
                f"tenant {report['tenant']}, user admin, password {password}   <- generated, shown only "
                "this once: keep it"
                if password
                else f"tenant {report['tenant']}, user admin"
                + ("" if report["created"] else " (the tenant already has users; passwords unchanged)")
            ),
        }
        return self._report(summary)

    def _report(self, summary: dict[str, str]) -> dict[str, str]:
        width = max(map(len, summary))
        what = "the data stack of skyhawk" if "REST API" not in summary else "skyhawk"
        self.say(f"\n{what} {self.stage} is deployed ({self.region}, account {self.account}):")
        for name, value in summary.items():
            self.say(f"  {name:<{width}}  {value}")
        return summary

    def destroy(
        self,
        *,
        force: bool = False,
        yes: bool = False,
        code_bucket: str | None = None,
        ask: Callable[[str], str] | None = None,
    ) -> None:
        self.check_credentials()
        data = self.describe(self.data_stack)
        if self.stage == "prod" and not force:
            raise DeployError(
                "refusing to destroy prod: its tables have deletion protection and hold the fleet. "
                "--force (make destroy STAGE=prod FORCE=1) turns the protection off and deletes them"
            )
        if not yes:
            if ask is None and not sys.stdin.isatty():
                raise DeployError(
                    f"destroy deletes stage {self.stage} with its tables and artifacts: confirm with "
                    f"--yes (make destroy STAGE={self.stage} YES=1)"
                )
            question = (
                f"Delete stage {self.stage} ({self.app_stack}, {self.data_stack}: every table, artifact and "
                f"bucket) in {self.region}, account {self.account}? Type the stage name: "
            )
            answer = (ask or input)(question)
            if answer.strip() != self.stage:
                raise DeployError("nothing deleted")
        self.delete_stack(self.app_stack)
        if data is not None:
            outputs = {o["OutputKey"]: o["OutputValue"] for o in data.get("Outputs", [])}
            if outputs.get("ArtifactBucketName"):
                self.say(
                    f"artifact bucket {outputs['ArtifactBucketName']}: "
                    f"{self._empty(outputs['ArtifactBucketName'])} objects deleted"
                )
            if force:
                self._unprotect_tables(self.data_stack)
            self.delete_stack(self.data_stack)
        else:
            self.say(f"{self.data_stack}: no such stack")
        if code_bucket:
            self.say(
                f"code bucket {code_bucket}: {self._empty(code_bucket, f'{self.stage}/')} objects of {self.stage} deleted"
            )
        elif self._bucket_exists(bucket := self.code_bucket_name()):
            self._empty(bucket)
            self.client("s3").delete_bucket(Bucket=bucket)
            self.say(f"code bucket {bucket}: deleted")
        ssm = self.client("ssm")
        try:
            ssm.delete_parameter(Name=self.cdn_key_parameter)
            self.say(f"CloudFront signing key {self.cdn_key_parameter}: deleted")
        except ssm.exceptions.ParameterNotFound:
            pass
        self.say(f"skyhawk {self.stage} is gone")

    def _bucket_exists(self, bucket: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client("s3").head_bucket(Bucket=bucket)
            return True
        except ClientError:
            return False

    def _empty(self, bucket: str, prefix: str = "") -> int:
        """Delete every object version, delete marker and unfinished upload of `bucket` (under `prefix`); how many
        objects."""
        if not self._bucket_exists(bucket):
            return 0
        s3, deleted = self.client("s3"), 0
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            keys = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                deleted += len(page.get("Versions", []))
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        return deleted

    def _unprotect_tables(self, stack: str) -> None:
        dynamodb = self.client("dynamodb")
        resources = self.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack)
        for page in resources:
            for resource in page["StackResourceSummaries"]:
                if resource["ResourceType"] == "AWS::DynamoDB::Table" and resource.get("PhysicalResourceId"):
                    dynamodb.update_table(TableName=resource["PhysicalResourceId"], DeletionProtectionEnabled=False)
                    self.say(f"table {resource['PhysicalResourceId']}: deletion protection off")


def app_parameters(data: Stack) -> dict[str, str]:
    """The app stack's parameters from the data stack: its policy (the functions' role gets it), its name (the app
    stack imports its stream ARNs) and, when it has CloudFront, the distribution, the key and where the key is."""
    cdn = bool(data.outputs.get("CdnDomainName"))
    return {
        "AppPolicyArn": data.outputs["AppPolicyArn"],
        "DataStackName": data.name,
        "CdnDomainName": data.outputs.get("CdnDomainName", ""),
        "CdnKeyPairId": data.outputs.get("CdnPublicKeyId", "") if cdn else "",
        "CdnPrivateKeyParameter": data.parameters.get("CdnPrivateKeyParameterArn", "") if cdn else "",
    }


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:20]


def _new_private_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # what CloudFront public keys take
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


def _public_pem(private_pem: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    except ValueError as error:
        raise DeployError(f"the CloudFront private key is not an unencrypted PEM private key: {error}") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size != 2048:
        raise DeployError("the CloudFront key must be RSA 2048 (openssl genrsa -out cdn-private.pem 2048)")
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    deploy = commands.add_parser("deploy", help="create or update the stage (make deploy)")
    destroy = commands.add_parser("destroy", help="delete the stage (make destroy)")
    for command in (deploy, destroy):
        command.add_argument("--stage", required=True, help="a stage of .chalice/config.json (dev, prod ...)")
    deploy.add_argument("--package-dir", type=Path, default=PROJECT_DIR / "out", help="make package's output")
    deploy.add_argument(
        "--code-bucket", help="an existing bucket for the code (default: skyhawk-<stage>-code-<account>)"
    )
    deploy.add_argument(
        "--cdn",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="downloads through CloudFront (--no-cdn: S3 presigned URLs; neither: as they are)",
    )
    deploy.add_argument("--cdn-private-key-pem", type=Path, help="RSA 2048 key to sign with (default: generated once)")
    deploy.add_argument("--tenant", help="the first user's tenant (default: SKYHAWK_DEFAULT_TENANT or DEFAULT)")
    deploy.add_argument("--data-only", action="store_true", help="only the data stack (make deploy-data)")
    destroy.add_argument("--yes", action="store_true", help="do not ask")
    destroy.add_argument("--code-bucket", help="the bucket deploy was given: only the stage's objects are deleted")
    destroy.add_argument("--force", action="store_true", help="also prod: turn the tables' deletion protection off")
    args = parser.parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    deployment = Deployment(args.stage)
    try:
        if args.command == "deploy":
            pem = args.cdn_private_key_pem.read_text() if args.cdn_private_key_pem else None
            cdn = True if pem and args.cdn is None else args.cdn  # a key given means CloudFront
            deployment.deploy(
                args.package_dir,
                code_bucket=args.code_bucket,
                cdn=cdn,
                cdn_private_key_pem=pem,
                tenant=args.tenant,
                data_only=args.data_only,
            )
        else:
            deployment.destroy(force=args.force, yes=args.yes, code_bucket=args.code_bucket)
    except DeployError as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:  # what the steps do not expect (permissions, quotas, network ...)
        print(f"{args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
