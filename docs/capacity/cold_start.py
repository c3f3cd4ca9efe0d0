"""What a cold start of the packaged functions costs before the first request: unpacking the zip, `import app`,
and the first DynamoDB call (boto3 imported, the client created, the request built and signed).

    .venv/bin/python docs/capacity/cold_start.py out/deployment.zip [other.zip ...] [--runs 7] [--pyc]

Each zip is unpacked into a temporary directory and each phase runs in a fresh Python (the interpreter of the
venv, without site-packages: only the standard library and the zip's contents, as /var/task on Lambda), with
-B: like Lambda's read-only /var/task, nothing compiled is kept between runs. --pyc also measures the zip with
its modules compiled ahead (unchecked-hash .pyc files, what a package could ship). CPU time of the process
(user + system), the median of the runs: other processes on a shared machine do not inflate it. The first call
goes to a closed local port, so it measures the client side only (what DynamoDB's latency adds is the model's).
Prints JSON (docs/capacity.md, "What Lambda gets", shows the figures).
"""
from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

PROBE = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])

def cpu_ms():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000

start = cpu_ms()
import app
imported = cpu_ms()
from chalicelib.store import aws
client = aws.client("dynamodb", endpoint_url="http://127.0.0.1:9", attempts=1)
try:
    client.get_item(TableName="skyhawk-targets", Key={"tenant": {"S": "DEFAULT"}, "controller_id": {"S": "d"}})
except Exception as error:  # the closed port: the client side is done
    assert "Could not connect" in str(error), error
called = cpu_ms()
import botocore
print(json.dumps({"interpreter_ms": start, "import_app_ms": imported - start, "first_dynamodb_call_ms": called - imported,
                  "botocore": botocore.__version__, "cryptography_imported": "cryptography" in sys.modules,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "cold",
            "AWS_SECRET_ACCESS_KEY": "cold", "POWERTOOLS_SERVICE_NAME": "skyhawk", "LANG": "C.UTF-8"}


def measure(directory: Path, runs: int, isolated: bool = True) -> dict:
    """Medians of `runs` fresh processes with `directory` first on the path (isolated: only the standard library
    besides it; otherwise the venv's packages, compiled as pip installed them)."""
    samples = []
    for _ in range(runs):
        flags = ["-S", "-B"] if isolated else ["-B"]
        out = subprocess.run([sys.executable, *flags, "-c", PROBE, str(directory)], capture_output=True,
                             text=True, env=_env(), cwd=directory)
        assert out.returncode == 0, out.stderr[-3000:]
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    result: dict = {k: samples[0][k] for k in ("botocore", "cryptography_imported")}
    for key in ("interpreter_ms", "import_app_ms", "first_dynamodb_call_ms", "max_rss_mb"):
        result[key] = round(statistics.median(s[key] for s in samples), 1)
    result["cold_start_cpu_ms"] = round(result["import_app_ms"] + result["first_dynamodb_call_ms"], 1)
    return result


def unpack(zip_path: Path, target: Path) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    with zipfile.ZipFile(zip_path) as zipped:
        zipped.extractall(target)
        unzipped = sum(i.file_size for i in zipped.infolist())
    return {"zip_mb": round(zip_path.stat().st_size / 1e6, 2), "unzipped_mb": round(unzipped / 1e6, 2),
            "unpack_cpu_ms": round((time.process_time() - cpu) * 1000), "unpack_wall_ms": round((time.perf_counter() - wall) * 1000)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("zips", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pyc", action="store_true", help="also measure each zip with its modules compiled ahead")
    args = parser.parse_args()
    report = {"python": sys.version.split()[0], "runs": args.runs, "packages": {}}
    for zip_path in args.zips:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            entry = unpack(zip_path, directory)
            entry.update(measure(directory, args.runs))
            report["packages"][str(zip_path)] = entry
            if args.pyc:
                compileall.compile_dir(str(directory), quiet=2, workers=1,
                                       invalidation_mode=compileall.py_compile.PycInvalidationMode.UNCHECKED_HASH)
                pyc = {"pyc_mb": round(sum(p.stat().st_size for p in directory.rglob("*.pyc")) / 1e6, 2)}
                pyc.update(measure(directory, args.runs))
                report["packages"][f"{zip_path} with .pyc"] = pyc
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
