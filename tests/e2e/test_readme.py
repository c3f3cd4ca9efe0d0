"""The README's quick starts work as printed: each `sh` block of the Quick start section and of its subsections
runs with bash against the launcher (only the host is substituted)."""
from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
HAWKBIT = ("Quick start", "Quick start: users and roles", "Quick start: an update end to end")
ROLLOUT = "Quick start: a rollout"
DEVICE_CONFIGURATION = "Quick start: device configuration"


def _quick_start_sections() -> dict[str, list[str]]:
    """The `sh` blocks of `## Quick start` and of each `### ...` under it, by heading, in README order."""
    text = README.read_text()
    start = text.index("## Quick start")
    end = re.compile(r"^## ", re.M).search(text, start + 1)
    quick_start = text[start:end.start() if end else len(text)]
    parts = re.split(r"^#{2,3} (.+)$", quick_start, flags=re.M)[1:]
    return {title.strip(): re.findall(r"```sh\n(.*?)```", body, flags=re.S)
            for title, body in zip(parts[::2], parts[1::2])}


def _run(blocks: list[str], stack, cwd: Path) -> list[str]:
    outputs = []
    for block in blocks:
        script = "set -euo pipefail\n" + block.replace("http://127.0.0.1:8080", stack.url)
        done = subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr + done.stdout
        outputs.append(done.stdout)
    return outputs


def test_every_quick_start_block_is_run():
    sections = _quick_start_sections()
    assert list(sections) == [*HAWKBIT, ROLLOUT, DEVICE_CONFIGURATION]
    assert all(sections.values())


def test_quick_start_runs_as_printed(stack, tmp_path):
    sections = _quick_start_sections()
    outputs = _run([block for title in HAWKBIT for block in sections[title]], stack, tmp_path)
    assert len(outputs) >= 2
    assert '{"status":"UP"}' in outputs[0]
    users = next(out for out in outputs if '"username":"olivia"' in out)
    assert "403\n" in users and "401\n" in users and users.index("403\n") < users.index("401\n")
    assert "hawkbit.server.error.role.used" in users
    flow = outputs[-1]
    assert "pending\n" in flow and "in_sync\n" in flow and "finished\n" in flow
    assert "This is a test update file." in flow


def _in_order(output: str, expected: list[str]) -> None:
    at = 0
    for fragment in expected:
        found = output.find(fragment, at)
        assert found >= 0, f"{fragment!r} missing after position {at} in:\n{output}"
        at = found + len(fragment)


def test_rollout_quick_start_runs_as_printed(stack, tmp_path):
    """As on `make run`, whose jobs worker drains the queue (the shared test stack runs its jobs on demand)."""
    with stack.running.draining():
        [output] = _run(_quick_start_sections()[ROLLOUT], stack, tmp_path)
    _in_order(output, ["ready\n", "running\n", "finished\n",
                       "[('group-1', 'finished', 2), ('group-2', 'finished', 2)]"])


def test_device_configuration_quick_start_runs_as_printed(stack, tmp_path):
    [output] = _run(_quick_start_sections()[DEVICE_CONFIGURATION], stack, tmp_path)
    first, second = (hashlib.sha256(c).hexdigest() for c in (b'{"sampleRate": 100}', b'{"sampleRate": 250}'))
    _in_order(output, [
        "201\n", f"{first}\n",  # the target; the head after the first PATCH
        f"{second}\n", "412\n", "CONFIGURE\n",  # the If-Match PATCH, the stale one, the release
        f"/revisions/{second}/content', 'checksum': 'sha256:{second}'",  # what the device is sent
        '{"sampleRate": 250}\n', f"{second}  app.json\n",  # what it downloads, checksum checked
        "('CONFIGURING', 0.5)\n", "CONFIGURED\n", "[]\n",  # progress, the end, nothing open any more
        "['CREATED', 'CONFIGURE', 'CONFIGURING', 'CONFIGURED']\n",
        f"[('sensor01/app.json', '{second}')]\n", '{"sampleRate": 250}'])
