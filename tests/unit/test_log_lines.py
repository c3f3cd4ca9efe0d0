"""Each app log record is written once, as JSON, in a process set up like Lambda's runtime (a root handler
exists before the handler module is imported): docs/architecture.md, "Local runs", item 4."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import logging, sys
logging.basicConfig(stream=sys.stderr, level=logging.INFO)  # the runtime's own root handler
import app
logging.getLogger("skyhawk").warning("parent-line")
logging.getLogger("skyhawk.child").warning("child-line")
logging.getLogger("other").warning("other-line")
"""


def test_app_records_are_written_once_as_json_and_other_loggers_are_untouched():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"})
    both = out.stdout + out.stderr
    for marker in ("parent-line", "child-line", "other-line"):
        assert both.count(marker) == 1, (marker, both)
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert [(line["message"], line["service"], line["level"]) for line in lines] == [
        ("parent-line", "skyhawk", "WARNING"), ("child-line", "skyhawk", "WARNING")]
    assert "WARNING:other:other-line" in out.stderr  # the runtime's handler keeps everything else
