"""What `make package` does to chalice's deployment.zip before it is deployed (docs/capacity.md, "What Lambda gets").

    .venv/bin/python -m infra.lambda_package out/deployment.zip

Two things, both measured by docs/capacity/cold_start.py:

- **Compiled modules.** Lambda's /var/task is read-only, so Python compiles every module it imports from source
  again at each cold start (about 0.7 s of CPU for `import app` and the first DynamoDB call here). The zip gets
  each module's .pyc next to it, as Python would have written it: unchecked-hash .pyc files, used without
  comparing the source's date (the zip's dates are not the files'), made by this Python, which must be the
  functions' runtime version (chalice takes the runtime from it too; a .pyc of another version is ignored).
- **Unused service models.** botocore ships the models of every AWS service (some 400 directories under botocore/data, most of its 21 MB);
the functions create clients for seven. The others are dropped from the zip: the SDK stays the version the tests
run (requirements.txt), only data no code path loads is left out. A client of a service that is not kept fails
at creation with botocore's UnknownServiceError, so `SERVICES` must name every service the code creates a client
for; tests/infra/test_packaged_template.py checks the code against it and creates each client from the zip.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import sys
import tempfile
import zipfile
from pathlib import Path

# Every service a function creates a client for: chalicelib/store/aws.py's clients (DynamoDB, its streams, S3,
# SQS, EventBridge), pynamodb (DynamoDB), Powertools' idempotency (DynamoDB) and parameters (SSM and Secrets
# Manager: chalicelib/store/secret_settings.py).
SERVICES = ("dynamodb", "dynamodbstreams", "events", "s3", "secretsmanager", "sqs", "ssm")
MODELS = "botocore/data/"


def kept(name: str) -> bool:
    """Whether a zip entry stays: everything but the model directories of services the code does not use (the
    files directly under botocore/data, endpoints and partitions among them, stay) and the .pyc files chalice
    picked up from the project (prepare() writes its own)."""
    if "__pycache__/" in name:  # what ran chalice compiled (checked against dates the zip does not keep)
        return False
    if not name.startswith(MODELS):
        return True
    service, _, rest = name[len(MODELS) :].partition("/")
    return not rest or service in SERVICES


def pyc(name: str, source: bytes) -> tuple[str, bytes] | None:
    """The .pyc Python would write for a module of the zip (unchecked-hash), or None when it does not compile."""
    from importlib._bootstrap_external import _code_to_hash_pyc  # type: ignore[attr-defined]

    try:
        code = compile(source, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    data = _code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)
    return importlib.util.cache_from_source(name), bytes(data)


def prepare(path: Path) -> dict[str, int]:
    """Rewrites the zip without the unused service models and with the modules compiled. Entries keep their
    order, dates and permissions; each .pyc follows its module."""
    dropped = dropped_bytes = compiled = 0
    fd, tmp = tempfile.mkstemp(suffix=".zip", dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if not kept(info.filename):
                    if info.filename.startswith(MODELS):
                        dropped += 1
                        dropped_bytes += info.file_size
                    continue
                data = source.read(info)
                target.writestr(copy.copy(info), data)  # (a write sets the entry's offset in the new zip)
                if info.filename.endswith(".py") and (made := pyc(info.filename, data)):
                    entry = zipfile.ZipInfo(made[0], date_time=info.date_time)
                    entry.external_attr, entry.compress_type = info.external_attr, zipfile.ZIP_DEFLATED
                    target.writestr(entry, made[1])
                    compiled += 1
        os.chmod(tmp, path.stat().st_mode)  # (mkstemp's file is private; the zip keeps chalice's mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return {"dropped": dropped, "dropped_bytes": dropped_bytes, "compiled": compiled}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("zip", type=Path, help="chalice's deployment.zip (rewritten in place)")
    args = parser.parse_args(argv)
    if sys.implementation.cache_tag != "cpython-311":
        parser.error(f"the functions run Python 3.11; this is {sys.implementation.cache_tag}")
    before = args.zip.stat().st_size
    done = prepare(args.zip)
    print(
        f"{args.zip}: {before / 1e6:.1f} MB -> {args.zip.stat().st_size / 1e6:.1f} MB ({done['dropped']} files of "
        f"unused service models, {done['dropped_bytes'] / 1e6:.1f} MB unzipped, left out; {done['compiled']} "
        "modules compiled)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
