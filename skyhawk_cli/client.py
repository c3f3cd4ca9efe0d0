"""A small HTTP client of skyhawk's public APIs: the Management API (`/rest/v1`), the Device Configuration
Service (`/api/deviceconfiguration/v3`) and the direct-to-S3 artifact upload. requests only; errors become
`ApiError` with the server's own message (hawkBit's `{"errorCode", "message"}` or DCS's `{"errors": [...]}`)."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import IO, Any
from urllib.parse import quote

import requests

from skyhawk_cli import __version__

MGMT = "/rest/v1"
DCS = "/api/deviceconfiguration/v3"
CHUNK = 1024 * 1024


class ApiError(Exception):
    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def login_name(tenant: str | None, user: str) -> str:
    """hawkBit's `TENANT\\user` form when a tenant is given."""
    return f"{tenant}\\{user}" if tenant else user


def error_of(resp: requests.Response) -> ApiError:
    code = message = None
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("errors"), list) and body["errors"] and isinstance(body["errors"][0], dict):
            first = body["errors"][0]
            code, message = first.get("code"), first.get("message")
        else:
            code, message = body.get("errorCode"), body.get("message")
    if not message:
        message = (resp.text or resp.reason or "").strip()[:300]
    where = f"{resp.request.method} {resp.url}" if resp.request is not None else resp.url
    label = f"{resp.status_code} {resp.reason}" + (f" ({code})" if code else "")
    return ApiError(f"{where}: {label}: {message}", resp.status_code, code)


def segment(value: str | int) -> str:
    return quote(str(value), safe="")


class Api:
    def __init__(self, url: str, tenant: str | None, user: str, password: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.auth = (login_name(tenant, user), password)
        self.session.headers["User-Agent"] = f"skyhawk-cli/{__version__}"

    def close(self) -> None:
        self.session.close()

    # --- plumbing ------------------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith(("http://", "https://")) else self.url + path
        kwargs.setdefault("timeout", self.timeout)
        try:
            resp = self.session.request(method, url, **kwargs)
        except requests.ConnectionError as exc:
            raise ApiError(f"cannot reach {self.url}: {exc.__class__.__name__}") from exc
        if resp.status_code >= 400:
            raise error_of(resp)
        return resp

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.request(method, path, **kwargs)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.json("GET", path, params={k: v for k, v in params.items() if v is not None} or None)

    def post(self, path: str, body: Any = None) -> Any:
        return self.json("POST", path, json=body)

    # --- Management API ------------------------------------------------------------------------------------
    def userinfo(self) -> Any:
        return self.get(f"{MGMT}/userinfo")

    def targets(self, query: str | None = None, limit: int = 50, offset: int = 0) -> Any:
        return self.get(f"{MGMT}/targets", q=query, limit=limit, offset=offset, sort="controllerId:ASC")

    def target(self, controller_id: str) -> Any:
        return self.get(f"{MGMT}/targets/{segment(controller_id)}")

    def target_details(self, controller_id: str, actions: int = 5) -> dict[str, Any]:
        """The target, its assigned and installed sets and its latest actions, in one dict."""
        base = f"{MGMT}/targets/{segment(controller_id)}"
        target = dict(self.get(base))
        target["assignedDS"] = self.get(f"{base}/assignedDS")
        target["installedDS"] = self.get(f"{base}/installedDS")
        target["actions"] = self.get(f"{base}/actions", limit=actions, sort="id:DESC")["content"]
        return target

    def create_target(self, controller_id: str, name: str | None, token: str | None) -> Any:
        body = {"controllerId": controller_id, "name": name or controller_id}
        if token:
            body["securityToken"] = token
        return self.post(f"{MGMT}/targets", [body])[0]

    def create_module(self, name: str, version: str, type_key: str, vendor: str | None = None,
                      description: str | None = None) -> Any:
        body = {"name": name, "version": version, "type": type_key, "vendor": vendor, "description": description}
        return self.post(f"{MGMT}/softwaremodules", [{k: v for k, v in body.items() if v is not None}])[0]

    def create_set(self, name: str, version: str, type_key: str, modules: list[int],
                   description: str | None = None) -> Any:
        body: dict[str, Any] = {"name": name, "version": version, "type": type_key,
                                "modules": [{"id": m} for m in modules]}
        if description is not None:
            body["description"] = description
        return self.post(f"{MGMT}/distributionsets", [body])[0]

    def assign(self, ds_id: int, targets: list[str], action_type: str) -> Any:
        return self.post(f"{MGMT}/distributionsets/{ds_id}/assignedTargets",
                         [{"id": t, "type": action_type} for t in targets])

    def action(self, action_id: int) -> Any:
        return self.get(f"{MGMT}/actions/{action_id}")

    def action_history(self, controller_id: str, action_id: int, limit: int = 50) -> list[dict[str, Any]]:
        """The action's status entries, oldest first (the latest `limit` of them)."""
        page = self.get(f"{MGMT}/targets/{segment(controller_id)}/actions/{action_id}/status",
                        offset=0, limit=limit, sort="id:DESC")
        return list(reversed(page["content"]))

    def rollout(self, rollout_id: int) -> Any:
        return self.get(f"{MGMT}/rollouts/{rollout_id}")

    def rollout_groups(self, rollout_id: int) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = []
        while True:
            page = self.get(f"{MGMT}/rollouts/{rollout_id}/deploygroups", representation="full",
                            offset=len(groups), limit=100)
            groups.extend(page["content"])
            if not page["content"] or len(groups) >= page["total"]:
                return groups

    # --- direct-to-S3 upload -------------------------------------------------------------------------------
    def upload(self, sm_id: int, stream: IO[bytes], size: int, filename: str,
               on_progress: Callable[[int], None] | None = None, sha256: str | None = None) -> Any:
        """Start an upload session, PUT the bytes to its presigned URL in chunks, complete it: the artifact."""
        session = self.post(f"{MGMT}/softwaremodules/{sm_id}/uploads", {"filename": filename})
        body = _Chunks(stream, size, on_progress)
        try:  # the presigned URL carries its own authentication: no Basic auth to S3
            put = requests.request(session.get("method", "PUT"), session["uploadUrl"], data=body,
                                   headers={"Content-Length": str(size)}, timeout=max(self.timeout, 300))
        except requests.ConnectionError as exc:
            raise ApiError(f"cannot reach the upload URL: {exc.__class__.__name__}") from exc
        if put.status_code >= 300:
            raise ApiError(f"upload PUT failed: {put.status_code} {put.reason}: {put.text[:300]}", put.status_code)
        complete = session.get("_links", {}).get("complete", {}).get("href") or \
            f"{MGMT}/softwaremodules/{sm_id}/uploads/{segment(session['uploadId'])}/complete"
        return self.post(complete, {"sha256sum": sha256} if sha256 else None)

    # --- Device Configuration Service ----------------------------------------------------------------------
    def config_files(self, prefix: str = "") -> Iterator[dict[str, Any]]:
        page = 0
        while True:
            body = self.get(f"{DCS}/files", pathPrefix=prefix or None, page=page, size=100)
            yield from body["content"]
            if page + 1 >= body["page"]["totalPages"]:
                return
            page += 1

    def config_file_by_path(self, path: str) -> dict[str, Any] | None:
        return next((f for f in self.config_files(path) if f["path"] == path), None)

    def create_config_file(self, path: str, description: str | None) -> Any:
        body = {"path": path} if description is None else {"path": path, "description": description}
        return self.post(f"{DCS}/files", body)

    def push_head(self, file_id: str, content: bytes, content_type: str, if_match: str | None) -> Any:
        headers = {"Content-Type": content_type}
        if if_match:
            headers["If-Match"] = if_match if if_match.startswith(('"', "W/")) else f'"{if_match}"'
        return self.json("PATCH", f"{DCS}/files/{segment(file_id)}/head", data=content, headers=headers)

    def pull(self, file_id: str, revision: str | None = None) -> bytes:
        path = f"{DCS}/files/{segment(file_id)}/" + (f"revisions/{segment(revision)}/content" if revision else "head")
        return self.request("GET", path).content

    def config_head_uri(self, file_id: str) -> str:
        return f"{self.url}{DCS}/files/{segment(file_id)}/head"

    def create_task(self, device_id: str, files: list[dict[str, str]]) -> Any:
        return self.post(f"{DCS}/devices/{segment(device_id)}/configurationTasks", {"files": files})

    def task(self, device_id: str, task_id: str) -> Any:
        return self.get(f"{DCS}/devices/{segment(device_id)}/configurationTasks/{segment(task_id)}")

    def tasks(self, device_id: str, size: int = 20) -> Any:
        return self.get(f"{DCS}/devices/{segment(device_id)}/configurationTasks", size=size)["content"]

    def set_task_state(self, device_id: str, task_id: str, state: str, progress: float = 0) -> Any:
        return self.json("PATCH", f"{DCS}/devices/{segment(device_id)}/configurationTasks/{segment(task_id)}",
                         json={"state": state, "progress": progress})

    def configuration(self, device_id: str) -> Any:
        return self.get(f"{DCS}/devices/{segment(device_id)}/configuration", size=100)["content"]


class _Chunks:
    """A request body read in chunks: requests sends it with its Content-Length (S3 refuses chunked PUTs) and
    each chunk read is reported, which drives the progress bar."""

    def __init__(self, stream: IO[bytes], size: int, on_progress: Callable[[int], None] | None) -> None:
        self.stream, self.size, self.on_progress = stream, size, on_progress

    def __len__(self) -> int:
        return self.size

    def read(self, amount: int = -1) -> bytes:
        chunk = self.stream.read(CHUNK if amount is None or amount < 0 else min(amount, CHUNK))
        if chunk and self.on_progress is not None:
            self.on_progress(len(chunk))
        return chunk


def file_size(stream: IO[bytes]) -> int:
    return os.fstat(stream.fileno()).st_size
