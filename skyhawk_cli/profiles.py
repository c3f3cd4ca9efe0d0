"""Login profiles: URL, tenant, user and (unless told not to) the password, in one JSON file readable by its
owner only (mode 0600, directory 0700).

The file is `$SKYHAWK_CONFIG_DIR/profiles.json`, else `$XDG_CONFIG_HOME/skyhawk/profiles.json`, else
`~/.config/skyhawk/profiles.json`:

    {"default": "local", "profiles": {"local": {"url": "...", "tenant": "DEFAULT", "user": "admin",
                                                  "password": "..."}}}
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "profiles.json"


class ProfileError(Exception):
    """No such profile, or none at all yet."""


@dataclass(frozen=True)
class Profile:
    name: str
    url: str
    tenant: str | None
    user: str
    password: str | None = None

    def public(self) -> dict[str, Any]:
        """What may be shown: everything but the password."""
        shown = asdict(self)
        shown["password"] = "stored" if self.password is not None else None
        return shown


def config_dir() -> Path:
    if os.environ.get("SKYHAWK_CONFIG_DIR"):
        return Path(os.environ["SKYHAWK_CONFIG_DIR"])
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "skyhawk"


def profiles_file() -> Path:
    return config_dir() / FILE_NAME


def _read() -> dict[str, Any]:
    path = profiles_file()
    if not path.exists():
        return {"default": None, "profiles": {}}
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise ProfileError(f"{path} is not a profiles file: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        raise ProfileError(f"{path} is not a profiles file")
    return data


def _write(data: dict[str, Any]) -> Path:
    """Atomically, created 0600 (never readable by others, not even between create and rename)."""
    path = profiles_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".profiles-", suffix=".tmp")  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save(profile: Profile, make_default: bool = True) -> Path:
    data = _read()
    stored = {k: v for k, v in asdict(profile).items() if k != "name" and v is not None}
    data["profiles"][profile.name] = stored
    if make_default or not data.get("default"):
        data["default"] = profile.name
    return _write(data)


def load(name: str | None = None) -> Profile:
    """The named profile, else the default one."""
    data = _read()
    name = name or data.get("default")
    if not name:
        raise ProfileError("not logged in: run `skyhawk login --url URL --tenant TENANT --user USER` first")
    entry = data["profiles"].get(name)
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str) or not isinstance(entry.get("user"), str):
        known = ", ".join(sorted(data["profiles"])) or "none"
        raise ProfileError(f"no profile '{name}' (profiles: {known})")
    return Profile(name=name, url=entry["url"], tenant=entry.get("tenant"), user=entry["user"],
                   password=entry.get("password"))


def all_profiles() -> tuple[str | None, list[Profile]]:
    data = _read()
    return data.get("default"), [load(name) for name in sorted(data["profiles"])]


def remove(name: str) -> bool:
    data = _read()
    if data["profiles"].pop(name, None) is None:
        return False
    if data.get("default") == name:
        data["default"] = next(iter(sorted(data["profiles"])), None)
    _write(data)
    return True
