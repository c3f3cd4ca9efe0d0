"""`python -m tools.openapi_docs [--check]`: write chalicelib/openapi/*.json, or fail if they are out of date."""
from __future__ import annotations

import argparse
import sys

from tools.openapi_docs import OUTPUT, stale, write


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.openapi_docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check that the committed documents are current")
    args = parser.parse_args()
    if args.check:
        outdated = stale()
        for name in outdated:
            print(f"{OUTPUT / name} is out of date: run python -m tools.openapi_docs", file=sys.stderr)
        return 1 if outdated else 0
    for name in write():
        print(f"wrote {OUTPUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
