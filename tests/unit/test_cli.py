"""The operator CLI's argument handling, profiles and error messages, without a server (tests/e2e/test_cli_e2e.py
runs it against the launcher)."""
from __future__ import annotations

import io
import json
import socket
import stat

import pytest
import requests
from click.testing import CliRunner

from skyhawk_cli import profiles
from skyhawk_cli.cli import cli
from skyhawk_cli.client import CHUNK, _Chunks, error_of, login_name


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch):
    monkeypatch.delenv("SKYHAWK_CONFIG_DIR", raising=False)
    monkeypatch.delenv("SKYHAWK_PROFILE", raising=False)
    monkeypatch.delenv("SKYHAWK_PASSWORD", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "skyhawk"


def closed_port_url() -> str:
    """A URL nobody listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run(*args: str, **kwargs) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kwargs)


def test_profiles_live_under_xdg_config_home_readable_by_the_owner_only(config_home):
    path = profiles.save(profiles.Profile("local", "http://127.0.0.1:8080", "DEFAULT", "admin", "s3cret"))
    assert path == config_home / "profiles.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_home.stat().st_mode) == 0o700
    assert profiles.load() == profiles.Profile("local", "http://127.0.0.1:8080", "DEFAULT", "admin", "s3cret")


def test_skyhawk_config_dir_wins_over_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("SKYHAWK_CONFIG_DIR", str(tmp_path / "elsewhere"))
    assert profiles.save(profiles.Profile("p", "http://x", None, "u")) == tmp_path / "elsewhere" / "profiles.json"


def test_the_last_saved_profile_is_the_default_and_others_are_picked_by_name():
    profiles.save(profiles.Profile("prod", "https://prod.example", "ACME", "ops", "p1"))
    profiles.save(profiles.Profile("local", "http://127.0.0.1:8080", "DEFAULT", "admin", "admin"))
    assert profiles.load().name == "local"
    assert profiles.load("prod").url == "https://prod.example"
    profiles.save(profiles.Profile("ci", "http://ci", None, "bot"), make_default=False)
    assert profiles.load().name == "local" and profiles.load("ci").password is None
    assert profiles.remove("local") and profiles.load().name == "ci"
    assert not profiles.remove("local")


def test_listing_profiles_never_shows_a_password():
    profiles.save(profiles.Profile("local", "http://127.0.0.1:8080", "DEFAULT", "admin", "very-secret"))
    profiles.save(profiles.Profile("bare", "http://127.0.0.1:8080", "DEFAULT", "ops"), make_default=False)
    as_json = run("profiles", "--json")
    assert as_json.exit_code == 0 and "very-secret" not in as_json.output
    listed = json.loads(as_json.output)
    assert listed["default"] == "local"
    assert [(p["name"], p["password"]) for p in listed["profiles"]] == [("bare", None), ("local", "stored")]
    assert run("--json", "profiles").output == as_json.output  # the group's --json is the same flag
    table = run("profiles")
    assert "very-secret" not in table.output and "stored" in table.output


def test_commands_need_a_login_first():
    result = CliRunner().invoke(cli, ["targets", "list"])
    assert result.exit_code == 1
    assert "not logged in: run `skyhawk login" in result.output


def test_an_unknown_profile_names_the_known_ones():
    profiles.save(profiles.Profile("local", "http://127.0.0.1:8080", "DEFAULT", "admin", "admin"))
    result = CliRunner().invoke(cli, ["--profile", "nope", "targets", "list"])
    assert result.exit_code == 1 and "no profile 'nope' (profiles: local)" in result.output


def test_a_failed_login_saves_nothing(config_home):
    result = CliRunner().invoke(cli, ["login", "--url", closed_port_url(), "--user", "admin", "--password", "x"])
    assert result.exit_code == 1 and "cannot reach" in result.output
    assert not (config_home / "profiles.json").exists()


def test_a_profile_without_a_password_reads_skyhawk_password(monkeypatch):
    url = closed_port_url()
    profiles.save(profiles.Profile("local", url, "DEFAULT", "admin"))
    monkeypatch.setenv("SKYHAWK_PASSWORD", "from-env")
    result = CliRunner().invoke(cli, ["whoami"])  # no prompt: the environment's password is used
    assert result.exit_code == 1 and f"cannot reach {url}" in result.output


def test_assign_checks_its_type_and_needs_a_target():
    bad_type = CliRunner().invoke(cli, ["assign", "1", "dev", "--type", "sometimes"])
    assert bad_type.exit_code == 2 and "'forced', 'soft', 'downloadonly'" in bad_type.output
    no_target = CliRunner().invoke(cli, ["assign", "1"])
    assert no_target.exit_code == 2 and "CONTROLLER_IDS" in no_target.output


def test_watch_intervals_must_be_positive():
    result = CliRunner().invoke(cli, ["actions", "watch", "1", "--interval", "0"])
    assert result.exit_code == 2 and "--interval" in result.output


def test_the_tenant_goes_into_hawkbits_login_form():
    assert login_name("DEFAULT", "admin") == "DEFAULT\\admin"
    assert login_name(None, "admin") == "admin"


def _response(status: int, body: bytes, reason: str = "Bad") -> requests.Response:
    resp = requests.Response()
    resp.status_code, resp._content, resp.reason = status, body, reason
    resp.request = requests.Request("PATCH", "http://h/api/x").prepare()
    resp.url = resp.request.url
    return resp


def test_errors_carry_the_servers_own_message_in_either_shape():
    hawkbit = error_of(_response(404, b'{"errorCode": "hawkbit.server.error.repo.entitiyNotFound", '
                                      b'"message": "Target with given identifier {dev} does not exist."}', "Not Found"))
    assert str(hawkbit) == ("PATCH http://h/api/x: 404 Not Found (hawkbit.server.error.repo.entitiyNotFound): "
                            "Target with given identifier {dev} does not exist.")
    dcs = error_of(_response(412, b'{"errors": [{"code": "mdsp.core.x.preconditionFailed", "logref": "1", '
                                  b'"message": "The head moved on."}]}', "Precondition Failed"))
    assert dcs.status == 412 and dcs.code == "mdsp.core.x.preconditionFailed"
    assert str(dcs).endswith("412 Precondition Failed (mdsp.core.x.preconditionFailed): The head moved on.")
    plain = error_of(_response(502, b"upstream went away"))
    assert str(plain).endswith("502 Bad: upstream went away")


def test_an_upload_body_reports_every_byte_it_is_read_in_bounded_chunks():
    data = bytes(range(256)) * (3 * CHUNK // 256 + 7)
    seen: list[int] = []
    body = _Chunks(io.BytesIO(data), len(data), seen.append)
    assert len(body) == len(data)
    read = b"".join(iter(lambda: body.read(), b""))
    assert read == data and sum(seen) == len(data) and max(seen) == CHUNK


def test_upload_needs_a_regular_file(tmp_path):
    profiles.save(profiles.Profile("local", closed_port_url(), "DEFAULT", "admin", "admin"))
    result = CliRunner().invoke(cli, ["upload", "1", str(tmp_path)])  # a directory: click refuses it
    assert result.exit_code == 2
    result = CliRunner().invoke(cli, ["upload", "1", "/dev/null"])
    assert result.exit_code == 1 and "/dev/null is not a regular file" in result.output


def test_a_broken_profiles_file_is_an_error_message_not_a_traceback(config_home):
    config_home.mkdir(parents=True)
    (config_home / "profiles.json").write_text("{not json")
    result = CliRunner().invoke(cli, ["targets", "list"])
    assert result.exit_code == 1 and "profiles.json is not a profiles file" in result.output
