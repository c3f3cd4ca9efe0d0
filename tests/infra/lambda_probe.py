"""What a function's process does with only its code on the path, against a moto server: `probe()` runs this file
in a fresh Python.

    python [-S -B] tests/infra/lambda_probe.py <code dir> <service,service,...>

With -S and an unpacked deployment.zip as <code dir>, only the standard library and the zip's contents are
importable, as on Lambda. The environment names the moto server (AWS_ENDPOINT_URL). The probe imports `app`,
creates a client of each named service, sets up a device, and serves its idle poll through the front door's
handler (a function URL's event); prints one JSON line: the answer's status, which modules were imported and
the versions the SDK reports.
"""
from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve()


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server of the venv in its own process on a free local port; yields its URL."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/moto-api/data.json", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def probe(code: Path, services: tuple[str, ...] = (), isolated: bool = False) -> dict:
    """Runs the probe with `code` first on the path (isolated: nothing but the standard library besides, and no
    .pyc written) against a fresh moto server; returns its report."""
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "probe",
           "AWS_SECRET_ACCESS_KEY": "probe", "SKYHAWK_PASSWORD_HASH_ITERATIONS": "1000",
           "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "ERROR",
           "SKYHAWK_TABLE_PREFIX": "probe-", "SKYHAWK_BUCKET": "probe-artifacts"}
    flags = ["-S", "-B"] if isolated else []
    with moto_server() as url:
        out = subprocess.run([sys.executable, *flags, str(HERE), str(code), ",".join(services)], cwd=code,
                             env={**env, "AWS_ENDPOINT_URL": url}, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    import app

    imported_by_app = sorted({name.split(".")[0] for name in sys.modules} & {"boto3", "botocore", "cryptography"})

    from chalicelib import config
    from chalicelib.services import targets, tenant_config, tenants
    from chalicelib.store import aws, schema

    for service in filter(None, sys.argv[2].split(",")):
        aws.client(service)
    schema.ensure_tables()
    aws.s3().create_bucket(Bucket=config.settings().bucket)
    tenants.ensure_tenant("DEFAULT")
    tenant_config.set_values("DEFAULT", {"authentication.targettoken.enabled": True}, "admin")
    targets.create("DEFAULT", [targets.parse_new({"controllerId": "dev-1", "name": "dev-1", "securityToken": "tok-1"})],
                   "admin")

    domain = "abc.lambda-url.us-east-1.on.aws"
    path = "/DEFAULT/controller/v1/dev-1"
    event = {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "", "isBase64Encoded": False,
             "headers": {"host": domain, "x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.7",
                         "accept": "application/hal+json", "authorization": "TargetToken tok-1"},
             "requestContext": {"accountId": "anonymous", "apiId": "abc", "domainName": domain, "domainPrefix": "abc",
                                "requestId": "probe", "routeKey": "$default", "stage": "$default", "timeEpoch": 0,
                                "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                                         "sourceIp": "198.51.100.7", "userAgent": "probe"}}}

    class Context:
        aws_request_id = "probe"
        function_name = "skyhawk-dev"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:skyhawk-dev"

        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 30_000

    answers = [app.handler(event, Context())["statusCode"] for _ in range(2)]

    import boto3
    import botocore

    print(json.dumps({"statuses": answers, "imported_by_app": imported_by_app,
                      "cryptography": sorted(name for name in sys.modules if name.split(".")[0] == "cryptography"),
                      "boto3": boto3.__version__, "botocore": botocore.__version__,
                      "botocore_file": botocore.__file__, "app_file": app.__file__}))


if __name__ == "__main__":
    main()
