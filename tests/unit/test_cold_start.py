"""What `import app` executes (Lambda cold start): the device path, not the operator-only families.

Times are measured by `make bench`; this test pins the structure that keeps them low.
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import importlib.util, json, sys
import app
executed = {name for name, module in sys.modules.items()
            if name.startswith("chalicelib") and type(module).__name__ != "_LazyModule"}
powertools = sorted({name for name in sys.modules if name.startswith("aws_lambda_powertools.utilities.")})
print(json.dumps({"executed": sorted(executed), "boto3": "boto3" in sys.modules, "powertools": powertools}))
"""


def test_import_app_runs_the_device_path_only():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"})
    report = json.loads(out.stdout.strip().splitlines()[-1])
    executed = set(report["executed"])
    assert "chalicelib.services.controller" in executed  # the hot path is ready at init
    for deferred in ("chalicelib.services.workflow", "chalicelib.services.config_files",
                     "chalicelib.domain.workflow", "chalicelib.services.software_modules",
                     "chalicelib.services.distribution_sets", "chalicelib.domain.catalog", "chalicelib.domain.rsql"):
        assert deferred not in executed, deferred
    assert report["boto3"] is False  # clients are created on first use
    # Powertools' idempotency (~300 ms) and parameters utilities load with the first request that needs them
    # (an Idempotency-Key; a secret named by a *_PARAMETER setting), never with the app
    loaded = report["powertools"]
    assert not [m for m in loaded if m.startswith(("aws_lambda_powertools.utilities.idempotency",
                                                   "aws_lambda_powertools.utilities.parameters"))], loaded
    assert "chalicelib.logs" in executed and "chalicelib.metrics" in executed  # logs and metrics are ready


def test_an_idle_poll_imports_no_cryptography():
    """cryptography (15 MB, CloudFront signing) loads only when a download URL is signed with CloudFront: not with
    the app, not for an idle poll. Served in a fresh process against a moto server in another one (moto itself
    imports cryptography)."""
    from tests.infra.lambda_probe import probe

    report = probe(ROOT)
    assert report["statuses"] == [200, 200]
    assert report["imported_by_app"] == ["botocore"]  # pynamodb's; boto3 comes with the first client
    assert report["cryptography"] == []
