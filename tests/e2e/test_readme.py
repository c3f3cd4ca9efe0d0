"""The README's quick start works as printed: each `sh` block of the Quick start sections runs with bash
against the launcher (only the host is substituted)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _quick_start_blocks() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Quick start"):text.index("## Configuration")]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def test_quick_start_runs_as_printed(stack, tmp_path):
    blocks = _quick_start_blocks()
    assert len(blocks) >= 2
    outputs = []
    for block in blocks:
        script = "set -euo pipefail\n" + block.replace("http://127.0.0.1:8080", stack.url)
        done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr + done.stdout
        outputs.append(done.stdout)
    assert '{"status":"UP"}' in outputs[0]
    users = next(out for out in outputs if '"username":"olivia"' in out)
    assert "403\n" in users and "401\n" in users and users.index("403\n") < users.index("401\n")
    assert "hawkbit.server.error.role.used" in users
    flow = outputs[-1]
    assert "pending\n" in flow and "in_sync\n" in flow
    assert "This is a test update file." in flow
