"""One merge template from several: `chalice package` takes a single `--merge-template`.

    python -m infra.merge_templates infra/a.json infra/b.json > out/merge-template.json

Later files win, with chalice's own deep merge (the one `--merge-template` applies to the generated template).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Sequence


def merged(paths: Sequence[str | Path]) -> dict[str, Any]:
    from chalice.package import TemplateDeepMerger

    template: dict[str, Any] = {}
    for path in paths:
        template = TemplateDeepMerger().merge(json.loads(Path(path).read_text()), template)
    return template


if __name__ == "__main__":
    json.dump(merged(sys.argv[1:]), sys.stdout, indent=2)
    sys.stdout.write("\n")
