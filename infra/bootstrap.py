"""Create the first management user of a deployed stage: `python -m infra.bootstrap --stage dev`.

Runs `tenants.ensure_tenant` against real AWS with the operator's own credentials: registers the
tenant, seeds its default types and creates `admin` if the tenant has no user yet. It never creates
tables: in AWS they belong to the CloudFormation stack of infra/skyhawk-data.yaml, and a table made
here would be outside it (no PITR, no TTL, no deletion protection). Missing tables stop it instead.

The password comes from SKYHAWK_ADMIN_PASSWORD or is asked for; the local default `admin` is refused.
`--json` prints the outcome as one JSON object instead (infra/deploy.py reads it).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHALICE_CONFIG = PROJECT_DIR / ".chalice" / "config.json"


def stage_environment(stage: str) -> dict[str, str]:
    """The environment chalice gives the stage's function (top level, then the stage's own)."""
    config = json.loads(CHALICE_CONFIG.read_text())
    if stage not in config.get("stages", {}):
        raise SystemExit(f"bootstrap: no stage {stage!r} in {CHALICE_CONFIG}")
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def _password() -> str:
    # Not a command-line option: it would end up in shell history and the process list.
    password = os.environ.get("SKYHAWK_ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise SystemExit("bootstrap: set SKYHAWK_ADMIN_PASSWORD (no terminal to ask on)")
        password = getpass.getpass("password for admin: ")
        if password != getpass.getpass("again: "):
            raise SystemExit("bootstrap: the passwords differ")
    if password == "admin" or len(password) < 8:
        raise SystemExit("bootstrap: choose a password of 8 or more characters (not the local default)")
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.bootstrap", description=__doc__.split("\n")[0])
    parser.add_argument("--stage", required=True, help="chalice stage in .chalice/config.json (dev, prod ...)")
    parser.add_argument("--tenant", help="tenant to bootstrap (default: SKYHAWK_DEFAULT_TENANT or DEFAULT)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's)")
    parser.add_argument("--json", action="store_true", help='print {"tenant", "user", "created", "tables", "region"}')
    args = parser.parse_args(argv)

    # The stage's names win over whatever a developer's shell exported for local runs; both must be in
    # place before chalicelib is imported (PynamoDB fixes table names at class creation).
    os.environ.update({k: v for k, v in stage_environment(args.stage).items() if k.startswith("SKYHAWK_")})
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        import boto3

        region = boto3.session.Session().region_name
    if not region:
        raise SystemExit("bootstrap: no region; pass --region or set AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    os.environ.pop("AWS_REGION", None)  # config.region() prefers it; keep one source of truth
    password = _password()

    sys.path.insert(0, str(PROJECT_DIR))
    from chalicelib import config
    from chalicelib.services import tenants
    from chalicelib.store import schema, users

    missing = [model.Meta.table_name for model in schema.TABLE_MODELS if not model.exists()]
    if missing:
        print(
            f"bootstrap: tables missing in {region}: {', '.join(missing)}\n"
            f"deploy infra/skyhawk-data.yaml first (make deploy-data STAGE={args.stage})",
            file=sys.stderr,
        )
        return 2
    tenant = (args.tenant or config.settings().default_tenant).upper()
    had_user = users.any_user(tenant)
    tenants.ensure_tenant(tenant, password)
    if args.json:
        print(
            json.dumps(
                {
                    "tenant": tenant,
                    "user": None if had_user else "admin",
                    "created": not had_user,
                    "tables": config.table_prefix(),
                    "region": region,
                }
            )
        )
    elif had_user:
        print(f"tenant {tenant} ({config.table_prefix()}*, {region}) already has users; none created")
    else:
        print(f"tenant {tenant} ({config.table_prefix()}*, {region}): created user admin")
    return 0


if __name__ == "__main__":
    sys.exit(main())
