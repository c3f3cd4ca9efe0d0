"""Credentials and permissions: the one home of every authentication and authorization decision.

Management: HTTP Basic `TENANT\\user:password` (or `user:password` for tenant DEFAULT), users stored
with salted PBKDF2-SHA256 hashes; a user is locked for the rest of the window after too many failed logins
(`login_locked_until`). services/logins.py does a login's reads and writes and asks this module. hawkBit's
permission names are checked per endpoint (`Principal.require`); nobody grants what they do not hold
(`Principal.may_grant`).
Devices: `TargetToken`, `GatewayToken`, or a reverse proxy's certificate headers, each switched by its
tenant key (`check_device`; `vouched_for` when no target exists yet). The device check takes the
already-read target item so an idle poll costs one read. The Device Configuration / Workflow APIs name the
tenant in the bearer credential (`tenant_and_token`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from chalicelib import config, errors
from chalicelib.domain import permissions
from chalicelib.store import secret_settings

# Re-exported for callers that name every permission (the domain module holds the list and its implications).
PERMISSIONS = permissions.PERMISSIONS

# Secrets with a read permission of their own: the gateway token lets its holder act as any device of the
# tenant (hawkBit: READ_GATEWAY_SECURITY_TOKEN), a target's token as that device.
SECRET_CONFIG_KEYS = {"authentication.gatewaytoken.key": "READ_GATEWAY_SECURITY_TOKEN"}
READ_TARGET_TOKEN = "READ_TARGET_SECURITY_TOKEN"


@dataclass(frozen=True)
class Principal:
    tenant: str
    username: str
    permissions: frozenset[str]

    def require(self, *needed: str) -> None:
        missing = [p for p in needed if p not in self.permissions]
        if missing:
            raise errors.InsufficientPermission(f"Insufficient permission: {', '.join(missing)} required.", missing)

    def require_unless_self(self, username: str, *needed: str) -> None:
        """What a user may do to its own account (read it) needs no permission; to another's, `needed`."""
        if username != self.username:
            self.require(*needed)

    def may_read_config(self, key: str) -> bool:
        """Whether the caller may see the value of tenant configuration `key` (a secret needs its permission)."""
        needed = SECRET_CONFIG_KEYS.get(key)
        return needed is None or needed in self.permissions

    def require_config_read(self, key: str) -> None:
        if key in SECRET_CONFIG_KEYS:
            self.require(SECRET_CONFIG_KEYS[key])

    @property
    def may_read_target_tokens(self) -> bool:
        return READ_TARGET_TOKEN in self.permissions

    def may_grant(self, held: Iterable[str]) -> None:
        """403 unless the caller holds all of them itself: nobody grants or takes what they do not hold."""
        missing = sorted(set(held) - self.permissions)
        if missing:
            raise errors.InsufficientPermission(
                f"Insufficient permission: only permissions you hold can be granted or taken; missing "
                f"{', '.join(missing)}.",
                missing,
            )


def login_locked_until(failures: int | None, since: int | None, limit: int, window_ms: int) -> int:
    """When a user's lock ends (ms; 0: not locked): `limit` failed logins inside the window lock it for the
    rest of that window (limit 0: never)."""
    if limit <= 0 or failures is None or since is None:
        return 0
    return int(since) + window_ms if int(failures) >= limit else 0


def hash_password(password: str, salt: str | None = None, iterations: int | None = None) -> tuple[str, str]:
    salt = salt or secrets.token_hex(16)
    iterations = iterations or config.settings().password_hash_iterations
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), iterations)
    return salt, digest.hex()


TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
TOKEN_LENGTH = 32  # 32 x log2(36) = 165 bits; hawkBit's tokens carry 128 (16 random bytes as hex)


def generate_token() -> str:
    """A target security token: 32 lower-case alphanumerics drawn from the OS's CSPRNG."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def password_matches(password: str, salt: str, iterations: int, stored_hash: str) -> bool:
    _, digest = hash_password(password, salt, iterations)
    return hmac.compare_digest(digest, stored_hash)


# Verified credentials are remembered briefly so a burst of management calls hashes once. A change of a
# user (password, roles, permissions, deletion) forgets that user's entries in this container; other
# containers keep theirs for at most _VERIFIED_SECONDS. `_generation` moves with every forgetting, so a
# verification that began before one does not put back what it forgot.
_verified: dict[str, tuple[float, Principal]] = {}
_verified_lock = threading.Lock()
_VERIFIED_SECONDS = 10.0
_generation = 0
_PRUNE_ABOVE = 1000


def parse_basic(header: str | None) -> tuple[str, str, str]:
    if not header or not header.lower().startswith("basic "):
        raise errors.Unauthorized()
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise errors.Unauthorized() from exc
    user, sep, password = decoded.partition(":")
    if not sep:
        raise errors.Unauthorized()
    tenant, backslash, name = user.partition("\\")
    if not backslash:
        tenant, name = config.settings().default_tenant, user
    if not valid_tenant(tenant) or not name or len(name.encode()) > 256:
        raise errors.Unauthorized()
    return tenant.upper(), name, password


_TENANT = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def valid_tenant(name: str) -> bool:
    """Tenant names are key prefixes (`tenant#...`): a short, plain alphabet keeps keys unambiguous."""
    return bool(_TENANT.match(name or ""))


def authenticate_basic(header: str | None, source_ip: str | None = None) -> Principal:
    """The management caller; 401 for wrong credentials, 429 while failed logins are throttled."""
    from chalicelib.services import logins

    tenant, name, password = parse_basic(header)
    cache_key = hashlib.sha256(f"{tenant}\0{name}\0{password}".encode()).hexdigest()
    now = time.monotonic()
    with _verified_lock:
        hit = _verified.get(cache_key)
        generation = _generation
    if hit and hit[0] > now:
        return hit[1]
    principal = Principal(tenant, name, logins.verify(tenant, name, password, source_ip))
    with _verified_lock:
        if generation == _generation:
            if len(_verified) > _PRUNE_ABOVE:
                for key in [k for k, (until, _) in _verified.items() if until <= now]:
                    del _verified[key]
            _verified[cache_key] = (now + _VERIFIED_SECONDS, principal)
    return principal


def forget_user(tenant: str, username: str) -> None:
    """Drop this container's verified logins of one user (its password, roles or permissions changed)."""
    global _generation
    with _verified_lock:
        _generation += 1
        for key in [k for k, (_, p) in _verified.items() if p.tenant == tenant and p.username == username]:
            del _verified[key]


def forget_verified() -> None:
    global _generation
    with _verified_lock:
        _generation += 1
        _verified.clear()


# --- devices -------------------------------------------------------------------------------------------
def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value


def device_credential(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """('TargetToken'|'GatewayToken'|'Bearer', token) from the Authorization header, or None."""
    value = _header(headers, "Authorization")
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    for known in ("TargetToken", "GatewayToken", "Bearer"):
        if scheme.lower() == known.lower() and token:
            return known, token
    return None


def gateway_token_ok(cfg: Mapping[str, Any], headers: Mapping[str, str]) -> bool:
    cred = device_credential(headers)
    key = cfg.get("authentication.gatewaytoken.key") or ""
    return bool(
        cred
        and cred[0] == "GatewayToken"
        and cfg.get("authentication.gatewaytoken.enabled")
        and key
        and hmac.compare_digest(cred[1], key)
    )


def target_token_ok(cfg: Mapping[str, Any], headers: Mapping[str, str], security_token: str | None) -> bool:
    cred = device_credential(headers)
    return bool(
        cred
        and cred[0] == "TargetToken"
        and cfg.get("authentication.targettoken.enabled")
        and security_token
        and hmac.compare_digest(cred[1], security_token)
    )


PROXY_SECRET_HEADER = "X-Skyhawk-Proxy-Secret"


# A reverse proxy names the certificate's common name and its issuers' hashes in headers. Both families are
# read: skyhawk's documented `X-Controller-Id` + `X-Authority[-n]` and hawkBit's default `X-Ssl-Client-Cn` +
# `X-Ssl-Issuer-Hash-n`, so a proxy configured for hawkBit works unchanged.
_COMMON_NAME_HEADERS = ("X-Controller-Id", "X-Ssl-Client-Cn")
_ISSUER_HASH_HEADERS = ("X-Authority", "X-Ssl-Issuer-Hash")


def numbered_headers(headers: Mapping[str, str], base: str) -> list[str]:
    """Values of `base-0`, `base-1`, ... up to the first gap. hawkBit counts from 1 (its docs and real proxy
    set-ups send `-1` only), so a missing `-0` does not end the list before it starts."""
    values = []
    index = 0 if _header(headers, f"{base}-0") is not None else 1
    while (value := _header(headers, f"{base}-{index}")) is not None:
        values.append(value)
        index += 1
    return values


def _offered_issuer_hashes(headers: Mapping[str, str]) -> list[str]:
    offered = []
    for base in _ISSUER_HASH_HEADERS:
        single = _header(headers, base)
        if single:
            offered += single.replace(";", ",").split(",")
        offered += numbered_headers(headers, base)
    return [o.strip().lower() for o in offered if o.strip()]


def authority_header_ok(cfg: Mapping[str, Any], headers: Mapping[str, str], controller_id: str) -> bool:
    """Client certificate checked by a reverse proxy: the common name equals the controllerId and one of the
    issuer hashes is an accepted one (`authentication.header.authority`, `,` or `;` separated).

    Only requests from the trusted proxy count (its shared secret in X-Skyhawk-Proxy-Secret): behind API
    Gateway nothing strips these headers, so without that proof any client could claim any device.
    """
    secret = secret_settings.trusted_proxy_secret() if cfg.get("authentication.header.enabled") else ""
    offered_secret = _header(headers, PROXY_SECRET_HEADER) or ""
    if (
        not cfg.get("authentication.header.enabled")
        or not secret
        or not hmac.compare_digest(offered_secret.encode(), secret.encode())
    ):
        return False
    accepted = {
        a.strip().lower()
        for a in str(cfg.get("authentication.header.authority") or "").replace(";", ",").split(",")
        if a.strip()
    }
    common_names = {value for name in _COMMON_NAME_HEADERS if (value := _header(headers, name)) is not None}
    if not accepted or common_names != {controller_id}:
        return False
    return any(offered in accepted for offered in _offered_issuer_hashes(headers))


def vouched_for(cfg: Mapping[str, Any], headers: Mapping[str, str], controller_id: str) -> bool:
    """Whether the request speaks for a device that has no target yet: a gateway token or the trusted
    proxy's certificate check (hawkBit then registers it; a target token cannot, it belongs to a target)."""
    return gateway_token_ok(cfg, headers) or authority_header_ok(cfg, headers, controller_id)


def tenant_and_token(credential: str) -> tuple[str, str]:
    """A device's bearer credential: `TENANT\\token` names its tenant when the part before the first
    backslash is a tenant name; anything else is a token of the default tenant (so a default-tenant token
    with a backslash is sent as `DEFAULT\\token`)."""
    prefix, backslash, token = credential.partition("\\")
    if backslash and valid_tenant(prefix):
        return prefix.upper(), token
    return config.settings().default_tenant.upper(), credential


def check_device(
    cfg: Mapping[str, Any], headers: Mapping[str, str], controller_id: str, security_token: str | None
) -> None:
    """Raise a bare 401 unless one enabled mode accepts the request for this controller."""
    if target_token_ok(cfg, headers, security_token) or vouched_for(cfg, headers, controller_id):
        return
    raise errors.DeviceUnauthorized()
