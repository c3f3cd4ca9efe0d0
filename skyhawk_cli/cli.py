"""The `skyhawk` command (click + rich). Every read command takes `--json` (or the group's `skyhawk --json ...`)
and then prints the API's JSON on stdout; tables, progress bars and status lines go to the terminal (progress
bars and watch lines on stderr, so stdout stays clean for scripts).

Exit codes: 0 success; 1 an API or connection error, or a watched action/rollout that ended in error;
2 a usage error (click); 3 a watched action that was canceled or a rollout stopped or denied; 4 a watch
that timed out.
"""
from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import os
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from skyhawk_cli import __version__, profiles
from skyhawk_cli.client import Api, ApiError, file_size

EXIT_ERROR, EXIT_CANCELED, EXIT_TIMEOUT = 1, 3, 4
ACTION_TYPES = ("forced", "soft", "downloadonly")
# Rollout statuses after which nothing changes any more (deleted ones answer 404 soon after)
ROLLOUT_ENDED = {"finished": 0, "stopped": EXIT_CANCELED, "approval_denied": EXIT_CANCELED,
                 "deleted": EXIT_CANCELED}

# Not on a terminal (a pipe, a file): no width to fit, so tables keep whole ids and lines are not wrapped.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 1000)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Failure(click.ClickException):
    """An error the user should read (an API answer, a missing profile): message on stderr, exit code 1."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:
        err.print(Text.assemble(("error: ", "bold red"), self.message))


class TimedOut(Failure):
    """A watch that ran out of --timeout."""

    exit_code = EXIT_TIMEOUT


class Context:
    """What the group's options set: the profile to use, `--json`, and the API client (made on first use)."""

    def __init__(self, profile: str | None, as_json: bool, timeout: float) -> None:
        self.profile_name, self.as_json, self.timeout = profile, as_json, timeout
        self._api: Api | None = None

    def api(self) -> Api:
        if self._api is None:
            try:
                profile = profiles.load(self.profile_name)
            except profiles.ProfileError as exc:
                raise Failure(str(exc)) from exc
            password = profile.password or os.environ.get("SKYHAWK_PASSWORD")
            if password is None:
                password = click.prompt(f"Password for {profile.user} at {profile.url}", hide_input=True, err=True)
            self._api = Api(profile.url, profile.tenant, profile.user, password, timeout=self.timeout)
        return self._api


pass_ctx = click.make_pass_decorator(Context)


def json_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--json` on a command: the same as `skyhawk --json <command>`."""
    def flag(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.find_object(Context).as_json = True  # type: ignore[union-attr]
        return value
    return click.option("--json", "as_json", is_flag=True, expose_value=False, callback=flag,
                        help="Print machine-readable JSON.")(command)


def emit(ctx: Context, data: Any, human: Callable[[], None]) -> None:
    if ctx.as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        human()


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """An API call whose error becomes a `Failure` (message and exit code 1)."""
    try:
        return fn(*args, **kwargs)
    except ApiError as exc:
        raise Failure(str(exc)) from exc


def table(*columns: str) -> Table:
    t = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        t.add_column(column)
    return t


def show_table(t: Table) -> None:
    """A table without the trailing blanks rich pads its last column with."""
    with out.capture() as captured:
        out.print(t)
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def text(value: Any) -> str:
    return "" if value is None else str(value)


def when(ms: Any) -> str:
    if not isinstance(ms, int | float):
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + "Z"


# --- the group -----------------------------------------------------------------------------------------------
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--profile", "-p", envvar="SKYHAWK_PROFILE", help="Login profile to use (default: the last login).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON (read commands).")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="HTTP timeout in seconds.")
@click.version_option(__version__, prog_name="skyhawk")
@click.pass_context
def cli(ctx: click.Context, profile: str | None, as_json: bool, timeout: float) -> None:
    """Operate a skyhawk server: targets, software, assignments, rollouts and device configuration."""
    ctx.obj = Context(profile, as_json, timeout)
    ctx.call_on_close(lambda: ctx.obj._api.close() if ctx.obj._api else None)


@cli.command()
@click.option("--url", required=True, help="Server base URL, e.g. http://127.0.0.1:8080")
@click.option("--tenant", default=None, help="Tenant (sent as hawkBit's TENANT\\user login).")
@click.option("--user", required=True, help="Management user.")
@click.option("--password", envvar="SKYHAWK_PASSWORD", default=None,
              help="Password (else $SKYHAWK_PASSWORD, else a prompt).")
@click.option("--name", "name", default=None, help="Profile name (default: --profile, else 'default').")
@click.option("--store-password/--no-store-password", default=True, show_default=True,
              help="Keep the password in the profile file (mode 0600); without it, commands read "
                   "$SKYHAWK_PASSWORD or prompt.")
@json_option
@pass_ctx
def login(ctx: Context, url: str, tenant: str | None, user: str, password: str | None, name: str | None,
          store_password: bool) -> None:
    """Check the credentials and store them as a login profile (the default one from now on)."""
    if password is None:
        password = click.prompt("Password", hide_input=True, err=True)
    api = Api(url, tenant, user, password, timeout=ctx.timeout)
    try:
        info = call(api.userinfo)
    finally:
        api.close()
    profile = profiles.Profile(name=name or ctx.profile_name or "default", url=url.rstrip("/"), tenant=tenant,
                               user=user, password=password if store_password else None)
    try:
        path = profiles.save(profile)
    except profiles.ProfileError as exc:
        raise Failure(str(exc)) from exc
    emit(ctx, {"profile": profile.public(), "file": str(path), "userinfo": info},
         lambda: out.print(f"Logged in to {profile.url} as {info.get('username')} (tenant {info.get('tenant')}); "
                           f"profile '{profile.name}' saved in {path}"))


@cli.command("profiles")
@json_option
@pass_ctx
def list_profiles(ctx: Context) -> None:
    """List the login profiles (passwords are never shown)."""
    try:
        default, found = profiles.all_profiles()
    except profiles.ProfileError as exc:
        raise Failure(str(exc)) from exc

    def human() -> None:
        t = table("", "PROFILE", "URL", "TENANT", "USER", "PASSWORD")
        for p in found:
            t.add_row("*" if p.name == default else "", p.name, p.url, text(p.tenant), p.user,
                      "stored" if p.password else "-")
        show_table(t)
    emit(ctx, {"default": default, "profiles": [p.public() for p in found]}, human)


@cli.command()
@json_option
@pass_ctx
def whoami(ctx: Context) -> None:
    """Who the current profile logs in as."""
    info = call(ctx.api().userinfo)
    emit(ctx, info, lambda: out.print(f"{info.get('username')} (tenant {info.get('tenant')}) at {ctx.api().url}"))


# --- targets -------------------------------------------------------------------------------------------------
@cli.group()
def targets() -> None:
    """Devices."""


@targets.command("list")
@click.option("--query", "-q", default=None, help="FIQL filter, e.g. 'updateStatus==pending'.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
@click.option("--offset", default=0, type=click.IntRange(0))
@json_option
@pass_ctx
def targets_list(ctx: Context, query: str | None, limit: int, offset: int) -> None:
    """List targets, by controller id."""
    page = call(ctx.api().targets, query, limit, offset)

    def human() -> None:
        t = table("CONTROLLER ID", "NAME", "STATUS", "LAST POLL", "ADDRESS")
        for target in page["content"]:
            t.add_row(target["controllerId"], text(target.get("name")), text(target.get("updateStatus")),
                      when(target.get("lastControllerRequestAt")), text(target.get("address")))
        show_table(t)
        out.print(f"{len(page['content'])} of {page['total']}")
    emit(ctx, page, human)


@targets.command("show")
@click.argument("controller_id")
@json_option
@pass_ctx
def targets_show(ctx: Context, controller_id: str) -> None:
    """One target, with its assigned and installed sets and latest actions (`assignedDS`, `installedDS`,
    `actions` beside the target's own fields in --json)."""
    target = call(ctx.api().target_details, controller_id)

    def human() -> None:
        t = table("", "")
        t.show_header = False
        for label, value in (("controller id", target["controllerId"]), ("name", target.get("name")),
                             ("update status", target.get("updateStatus")),
                             ("last poll", when(target.get("lastControllerRequestAt"))),
                             ("address", target.get("address")),
                             ("assigned", _ds_name(target["assignedDS"])),
                             ("installed", _ds_name(target["installedDS"]))):
            t.add_row(label, text(value))
        show_table(t)
        if target["actions"]:
            out.print()
            show_table(_actions_table(target["actions"]))
    emit(ctx, target, human)


@targets.command("create")
@click.argument("controller_id")
@click.option("--name", default=None)
@click.option("--token", default=None, help="Security token (else the server makes one).")
@json_option
@pass_ctx
def targets_create(ctx: Context, controller_id: str, name: str | None, token: str | None) -> None:
    """Create a target."""
    target = call(ctx.api().create_target, controller_id, name, token)
    emit(ctx, target, lambda: out.print(f"target {target['controllerId']} created"))


def _ds_name(ds: dict[str, Any] | None) -> str:
    return "-" if not ds else f"{ds['name']}:{ds['version']} (id {ds['id']})"


def _actions_table(actions: list[dict[str, Any]]) -> Table:
    t = table("ACTION", "TYPE", "STATUS", "ACTIVE", "SET", "UPDATED")
    for a in actions:
        t.add_row(str(a["id"]), text(a.get("forceType")), text(a.get("status")), "yes" if a.get("active") else "no",
                  text(a.get("_links", {}).get("distributionset", {}).get("name")), when(a.get("lastModifiedAt")))
    return t


# --- software ------------------------------------------------------------------------------------------------
@cli.group()
def modules() -> None:
    """Software modules."""


@modules.command("create")
@click.option("--name", required=True)
@click.option("--version", "version", required=True)
@click.option("--type", "type_key", default="os", show_default=True, help="Software module type key.")
@click.option("--vendor", default=None)
@click.option("--description", default=None)
@json_option
@pass_ctx
def modules_create(ctx: Context, name: str, version: str, type_key: str, vendor: str | None,
                   description: str | None) -> None:
    """Create a software module; prints its id."""
    module = call(ctx.api().create_module, name, version, type_key, vendor, description)
    emit(ctx, module, lambda: out.print(f"software module {module['id']} created ({name}:{version}, {type_key})"))


@cli.command()
@click.argument("module_id", type=int)
@click.argument("file", type=click.File("rb"))
@click.option("--filename", default=None, help="Artifact name (default: the file's name).")
@click.option("--no-verify", is_flag=True, help="Do not hash locally and let the server check the sha256.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@json_option
@pass_ctx
def upload(ctx: Context, module_id: int, file: Any, filename: str | None, no_verify: bool, no_progress: bool) -> None:
    """Upload FILE as an artifact of MODULE_ID, straight to S3 (an upload session), with a progress bar."""
    name = filename or Path(file.name).name
    if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
        raise Failure(f"{file.name} is not a regular file (an upload needs its size first)")
    size = file_size(file)
    sha256 = None
    if not no_verify:
        digest = hashlib.sha256()
        for block in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(block)
        sha256 = digest.hexdigest()
        file.seek(0)
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, disable=no_progress) as progress:
        task = progress.add_task(f"upload {name}", total=size)
        artifact = call(ctx.api().upload, module_id, file, size, name,
                        lambda n: progress.advance(task, n), sha256=sha256)

    def human() -> None:
        out.print(f"artifact {artifact['id']} {artifact.get('providedFilename', name)} "
                  f"({artifact.get('size', size)} bytes) added to software module {module_id}")
        for algorithm, value in sorted((artifact.get("hashes") or {}).items()):
            out.print(f"  {algorithm:7} {value}")
    emit(ctx, artifact, human)


@cli.group()
def sets() -> None:
    """Distribution sets."""


@sets.command("create")
@click.option("--name", required=True)
@click.option("--version", "version", required=True)
@click.option("--type", "type_key", default="os", show_default=True, help="Distribution set type key.")
@click.option("--module", "module_ids", type=int, multiple=True, required=True, help="Module id (repeatable).")
@click.option("--description", default=None)
@json_option
@pass_ctx
def sets_create(ctx: Context, name: str, version: str, type_key: str, module_ids: tuple[int, ...],
                description: str | None) -> None:
    """Create a distribution set of the given modules; prints its id."""
    ds = call(ctx.api().create_set, name, version, type_key, list(module_ids), description)
    emit(ctx, ds, lambda: out.print(f"distribution set {ds['id']} created ({name}:{version}, {type_key})"))


@cli.command()
@click.argument("set_id", type=int)
@click.argument("controller_ids", nargs=-1, required=True)
@click.option("--type", "action_type", type=click.Choice(ACTION_TYPES), default="forced", show_default=True)
@json_option
@pass_ctx
def assign(ctx: Context, set_id: int, controller_ids: tuple[str, ...], action_type: str) -> None:
    """Assign distribution set SET_ID to one or more targets; prints the new actions' ids."""
    result = call(ctx.api().assign, set_id, list(controller_ids), action_type)

    def human() -> None:
        out.print(f"assigned {result.get('assigned', 0)}, already assigned {result.get('alreadyAssigned', 0)}, "
                  f"of {result.get('total', len(controller_ids))}")
        for action in result.get("assignedActions", []):
            target = action.get("_links", {}).get("target", {}).get("name", "")
            out.print(f"  action {action['id']} {target}".rstrip())
    emit(ctx, result, human)


# --- watching ------------------------------------------------------------------------------------------------
@cli.group()
def actions() -> None:
    """Actions (deployments to one target)."""


@actions.command("show")
@click.argument("action_id", type=int)
@json_option
@pass_ctx
def actions_show(ctx: Context, action_id: int) -> None:
    """One action and its status history."""
    action = call(ctx.api().action, action_id)
    target = action["_links"]["target"]["name"]
    action["history"] = call(ctx.api().action_history, target, action_id)

    def human() -> None:
        show_table(_actions_table([action]))
        out.print()
        for entry in action["history"]:
            out.print(_history_line(entry))
    emit(ctx, action, human)


def _history_line(entry: dict[str, Any]) -> str:
    messages = "; ".join(entry.get("messages") or [])
    return f"{when(entry.get('reportedAt') or entry.get('timestamp'))}  {entry.get('type', ''):10} {messages}".rstrip()


@actions.command("watch")
@click.argument("action_id", type=int)
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(0.05), help="Seconds between polls.")
@click.option("--timeout", "limit", default=None, type=click.FloatRange(0), help="Give up after this many seconds.")
@json_option
@pass_ctx
def actions_watch(ctx: Context, action_id: int, interval: float, limit: float | None) -> None:
    """Follow an action until it closes, printing its status history as it grows. Exit code 0 when it
    finished, 1 on error, 3 when canceled, 4 on --timeout."""
    api = ctx.api()
    deadline = None if limit is None else time.monotonic() + limit
    seen: set[Any] = set()
    action = call(api.action, action_id)
    target = action["_links"]["target"]["name"]
    history: list[dict[str, Any]] = []
    with err.status(f"action {action_id} on {target}: {action['status']}") as spinner:
        while True:
            history = call(api.action_history, target, action_id)
            for entry in history:
                if entry.get("id") not in seen:
                    seen.add(entry.get("id"))
                    if not ctx.as_json:
                        err.print(_history_line(entry))
            spinner.update(f"action {action_id} on {target}: {action['status']}")
            if not action.get("active", True):
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise TimedOut(f"action {action_id} still {action['status']} after {limit:g} s")
            time.sleep(interval)
            action = call(api.action, action_id)
    action["history"] = history
    status = action["status"]
    emit(ctx, action, lambda: out.print(f"action {action_id} on {target}: {status}"))
    if status == "error":
        sys.exit(EXIT_ERROR)
    if status != "finished":
        sys.exit(EXIT_CANCELED)


@cli.group()
def rollouts() -> None:
    """Rollouts (deployments to groups of targets)."""


@rollouts.command("show")
@click.argument("rollout_id", type=int)
@json_option
@pass_ctx
def rollouts_show(ctx: Context, rollout_id: int) -> None:
    """A rollout and its groups with their per-status counts (`deployGroups` in --json)."""
    rollout = call(ctx.api().rollout, rollout_id)
    rollout["deployGroups"] = call(ctx.api().rollout_groups, rollout_id)

    def human() -> None:
        out.print(f"rollout {rollout['id']} {rollout['name']}: {rollout['status']} "
                  f"({rollout.get('totalTargets', 0)} targets)")
        t = table("GROUP", "STATUS", "TARGETS", "FINISHED", "ERROR", "RUNNING", "NOT STARTED")
        for g in rollout["deployGroups"]:
            counts = g.get("totalTargetsPerStatus", {})
            t.add_row(g["name"], g["status"], str(g.get("totalTargets", 0)), str(counts.get("finished", 0)),
                      str(counts.get("error", 0)), str(counts.get("running", 0)), str(counts.get("notstarted", 0)))
        show_table(t)
    emit(ctx, rollout, human)


@rollouts.command("watch")
@click.argument("rollout_id", type=int)
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(0.05), help="Seconds between polls.")
@click.option("--timeout", "limit", default=None, type=click.FloatRange(0), help="Give up after this many seconds.")
@json_option
@pass_ctx
def rollouts_watch(ctx: Context, rollout_id: int, interval: float, limit: float | None) -> None:
    """Follow a rollout with a progress bar per group until it ends. Exit code 0 when it finished without
    errors, 1 when a group or target ended in error, 3 when stopped or denied, 4 on --timeout."""
    api = ctx.api()
    deadline = None if limit is None else time.monotonic() + limit
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"))
    bars: dict[int, Any] = {}
    with Progress(*columns, console=err) as progress:
        while True:
            rollout = call(api.rollout, rollout_id)
            groups = call(api.rollout_groups, rollout_id)
            for g in groups:
                counts = g.get("totalTargetsPerStatus", {})
                done = sum(counts.get(key, 0) for key in ("finished", "error", "cancelled"))
                info = f"{g['status']}  error {counts.get('error', 0)}  running {counts.get('running', 0)}"
                if g["id"] not in bars:
                    bars[g["id"]] = progress.add_task(g["name"], total=g.get("totalTargets") or 0, info=info)
                progress.update(bars[g["id"]], completed=done, total=g.get("totalTargets") or 0, info=info)
            status = rollout["status"]
            if status in ROLLOUT_ENDED:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise TimedOut(f"rollout {rollout_id} still {status} after {limit:g} s")
            time.sleep(interval)
    rollout["deployGroups"] = groups
    errors = any(g["status"] == "error" or g.get("totalTargetsPerStatus", {}).get("error", 0) for g in groups)
    emit(ctx, rollout, lambda: out.print(f"rollout {rollout_id} {rollout['name']}: {status}"
                                         + (" (with errors)" if errors else "")))
    code = ROLLOUT_ENDED[status] or (EXIT_ERROR if errors else 0)
    if code:
        sys.exit(code)


# --- device configuration ------------------------------------------------------------------------------------
@cli.group()
def config() -> None:
    """Device configuration: files and configuration tasks."""


@config.group("files")
def config_files() -> None:
    """Configuration files (content-addressed revisions; `head` is the current one)."""


@config_files.command("list")
@click.option("--prefix", default="", help="Only paths starting with this.")
@json_option
@pass_ctx
def config_files_list(ctx: Context, prefix: str) -> None:
    """List configuration files by path."""
    found = call(lambda: list(ctx.api().config_files(prefix)))

    def human() -> None:
        t = table("PATH", "HEAD", "DESCRIPTION", "ID")
        for f in found:
            t.add_row(f["path"], text(f.get("head"))[:16], text(f.get("description")), f["id"])
        show_table(t)
    emit(ctx, found, human)


def _file_by_path(api: Api, path: str) -> dict[str, Any]:
    found = call(api.config_file_by_path, path)
    if found is None:
        raise Failure(f"no configuration file with path '{path}'")
    return found


@config_files.command("push")
@click.argument("path")
@click.argument("local_file", type=click.File("rb"))
@click.option("--content-type", default=None, help="Default: guessed from the name, else application/octet-stream.")
@click.option("--description", default=None, help="Used when the file is created.")
@click.option("--if-match", default=None, help="Only if the head is still this hash (else 412, nothing changes).")
@json_option
@pass_ctx
def config_files_push(ctx: Context, path: str, local_file: Any, content_type: str | None, description: str | None,
                      if_match: str | None) -> None:
    """Make LOCAL_FILE's bytes the head of configuration file PATH (created if missing); prints the new head."""
    api = ctx.api()
    content = local_file.read()
    content_type = content_type or mimetypes.guess_type(local_file.name)[0] or "application/octet-stream"
    existing = call(api.config_file_by_path, path)
    created = existing is None
    file = call(api.create_config_file, path, description) if created else existing
    pushed = call(api.push_head, file["id"], content, content_type, if_match)
    pushed["created"] = created
    emit(ctx, pushed, lambda: out.print(f"{path} ({'created, ' if created else ''}id {pushed['id']}): "
                                        f"head {pushed['head']}"))


@config_files.command("pull")
@click.argument("path")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write here (default: stdout).")
@click.option("--revision", default=None, help="A revision's hash (default: the head).")
@json_option
@pass_ctx
def config_files_pull(ctx: Context, path: str, output: str | None, revision: str | None) -> None:
    """Download configuration file PATH's head (or a revision). With --json: its id, size and sha256, and the
    content as `content` (UTF-8) or `contentBase64` unless written to --output."""
    api = ctx.api()
    file = _file_by_path(api, path)
    content = call(api.pull, file["id"], revision)
    sha256 = hashlib.sha256(content).hexdigest()
    if output is not None:
        Path(output).write_bytes(content)
    if ctx.as_json:
        data: dict[str, Any] = {"path": path, "id": file["id"], "size": len(content), "sha256": sha256}
        if output is not None:
            data["output"] = output
        else:
            try:
                data["content"] = content.decode("utf-8")
            except UnicodeDecodeError:
                data["contentBase64"] = base64.b64encode(content).decode("ascii")
        emit(ctx, data, lambda: None)
    elif output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    else:
        err.print(f"{path} -> {output} ({len(content)} bytes, sha256 {sha256})")


@config.group("tasks")
def config_tasks() -> None:
    """Configuration tasks: send files to a device (CREATED, released as CONFIGURE)."""


def _task_summary(task: dict[str, Any]) -> str:
    state = task.get("currentState", {})
    progress = state.get("progress")
    return (f"task {task['id']} for {task['deviceId']}: {state.get('state')}"
            + (f" {progress:.0%}" if isinstance(progress, int | float) else ""))


@config_tasks.command("create")
@click.argument("device_id")
@click.option("--file", "paths", multiple=True, required=True, help="Configuration file path (repeatable).")
@click.option("--release", is_flag=True, help="Release it at once (CONFIGURE).")
@json_option
@pass_ctx
def config_tasks_create(ctx: Context, device_id: str, paths: tuple[str, ...], release: bool) -> None:
    """Create a configuration task sending the files' current heads to DEVICE_ID."""
    api = ctx.api()
    files = [{"name": p, "uri": api.config_head_uri(_file_by_path(api, p)["id"])} for p in paths]
    task = call(api.create_task, device_id, files)
    if release:
        task = call(api.set_task_state, device_id, task["id"], "CONFIGURE")
    emit(ctx, task, lambda: out.print(_task_summary(task)))


@config_tasks.command("release")
@click.argument("device_id")
@click.argument("task_id")
@json_option
@pass_ctx
def config_tasks_release(ctx: Context, device_id: str, task_id: str) -> None:
    """Release a CREATED task: CONFIGURE, the device sees it."""
    _move_task(ctx, device_id, task_id, "CONFIGURE")


@config_tasks.command("cancel")
@click.argument("device_id")
@click.argument("task_id")
@json_option
@pass_ctx
def config_tasks_cancel(ctx: Context, device_id: str, task_id: str) -> None:
    """Cancel an open task."""
    _move_task(ctx, device_id, task_id, "CANCELED")


def _move_task(ctx: Context, device_id: str, task_id: str, state: str) -> None:
    task = call(ctx.api().set_task_state, device_id, task_id, state)
    emit(ctx, task, lambda: out.print(_task_summary(task)))


@config_tasks.command("show")
@click.argument("device_id")
@click.argument("task_id")
@json_option
@pass_ctx
def config_tasks_show(ctx: Context, device_id: str, task_id: str) -> None:
    """A task: its files and state history."""
    task = call(ctx.api().task, device_id, task_id)

    def human() -> None:
        out.print(_task_summary(task))
        for f in task.get("files", []):
            out.print(f"  file {f.get('name')}  {f.get('checksum', '')}")
        t = table("STATE", "ENTERED", "PROGRESS", "MESSAGE")
        for h in task.get("history", []):
            t.add_row(text(h.get("state")), text(h.get("entered")), text(h.get("progress")), text(h.get("message")))
        show_table(t)
    emit(ctx, task, human)


@config_tasks.command("list")
@click.argument("device_id")
@json_option
@pass_ctx
def config_tasks_list(ctx: Context, device_id: str) -> None:
    """A device's tasks, newest first."""
    found = call(ctx.api().tasks, device_id)

    def human() -> None:
        t = table("TASK", "STATE", "CREATED", "FILES")
        for task in found:
            t.add_row(task["id"], text(task.get("currentState", {}).get("state")), text(task.get("createdAt")),
                      ", ".join(f.get("name", "") for f in task.get("files", [])))
        show_table(t)
    emit(ctx, found, human)


@config.command("show")
@click.argument("device_id")
@json_option
@pass_ctx
def config_show(ctx: Context, device_id: str) -> None:
    """A device's actual configuration: per path, what its last CONFIGURED task sent."""
    found = call(ctx.api().configuration, device_id)

    def human() -> None:
        t = table("PATH", "HASH", "TASK", "CONFIGURED")
        for entry in found:
            t.add_row(entry["path"], text(entry.get("hash"))[:16], text(entry.get("taskId")),
                      text(entry.get("configuredAt")))
        show_table(t)
    emit(ctx, found, human)


def main() -> None:
    cli(prog_name="skyhawk")
