"""Every environment read, done once and lazily, into a frozen Settings.

Defaults equal `.chalice/config.json` (local stage) because chalice's test client only swaps the
environment around each call (docs/architecture.md, "Local runs", item 3); code must not depend on import-time values
except the table names, which PynamoDB fixes when a model class is created.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

DEFAULT_REGION = "us-east-1"
DEFAULT_TABLE_PREFIX = "skyhawk-"
DEFAULT_BUCKET = "skyhawk-artifacts"
DEFAULT_TENANT = "DEFAULT"
DEFAULT_JOBS_QUEUE = "skyhawk-jobs"
DEFAULT_DMF_QUEUE = "skyhawk-dmf-inbound.fifo"
DEFAULT_EVENT_BUS = "skyhawk-events"
# hawkBit's `hawkbit.server.security.dos.filter.whitelist` default.
HAWKBIT_DOS_WHITELIST = (
    r"10\.\d{1,3}\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}\.\d{1,3}|169\.254\.\d{1,3}\.\d{1,3}"
    r"|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|172\.1[6-9]\.\d{1,3}\.\d{1,3}"
    r"|172\.2[0-9]\.\d{1,3}\.\d{1,3}|172\.3[0-1]\.\d{1,3}\.\d{1,3}"
)


def table_prefix() -> str:
    """Read at model-class creation (PynamoDB Meta); the one import-time read."""
    return os.environ.get("SKYHAWK_TABLE_PREFIX", DEFAULT_TABLE_PREFIX)


@dataclass(frozen=True)
class AwsTimeouts:
    """How long one AWS call may take: a dependency that stalls must cost seconds, not the Lambda's 30 s.

    Read when the clients are created (PynamoDB fixes its models' settings at class creation). Worst case of
    one call: attempts x (connect + read) plus botocore's jittered backoff between attempts.
    """

    connect_seconds: float
    dynamodb_read_seconds: float
    s3_read_seconds: float  # S3 answers a large server-side copy only when it is done
    max_attempts: int


def aws_timeouts() -> AwsTimeouts:
    env = os.environ.get
    return AwsTimeouts(
        connect_seconds=float(env("SKYHAWK_AWS_CONNECT_TIMEOUT_SECONDS", "1")),
        dynamodb_read_seconds=float(env("SKYHAWK_AWS_READ_TIMEOUT_SECONDS", "2")),
        s3_read_seconds=float(env("SKYHAWK_S3_READ_TIMEOUT_SECONDS", "10")),
        max_attempts=int(env("SKYHAWK_AWS_MAX_ATTEMPTS", "3")),
    )


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


@dataclass(frozen=True)
class Settings:
    region: str
    bucket: str
    default_tenant: str
    admin_password: str
    # Endpoint put into signed download URLs handed to devices. Empty: the S3 client's own endpoint.
    # Locally the embedded moto is reached on loopback; a test can front it with a strict fake S3.
    s3_public_endpoint: str
    # Optional CloudFront: when set, download URLs are CloudFront signed URLs (any validity).
    cloudfront_domain: str
    cloudfront_key_pair_id: str
    cloudfront_private_key_pem: str
    # Tenant configuration cache lifetime in the container (hawkBit caches tenant config ~10 s).
    tenant_config_cache_seconds: float
    # The last-seen time of a target is written at most this often (DESIGN: once a minute).
    last_seen_write_interval_ms: int
    # Device configuration tasks in final states are deleted after this many days (tenant-overridable).
    config_task_retention_days: int
    # Shared secret of the reverse proxy that terminates device TLS: certificate headers (authority-header
    # mode) count only on requests that carry it, since any client can send X-Controller-Id itself.
    trusted_proxy_secret: str
    # PBKDF2-SHA256 rounds for new and changed password hashes (OWASP 2023: 600,000). Stored per user: older
    # hashes keep verifying and are re-hashed with this count at their next successful login.
    password_hash_iterations: int
    # Request limits per second (0: off), hawkBit's DosFilter defaults (200 reads, 50 writes per client IP),
    # each counted per Lambda container. The IP limit spares addresses matching the whitelist (a regular
    # expression, hawkBit's default: private, loopback and link-local IPv4), as hawkBit's filter does.
    reads_per_ip: int
    writes_per_ip: int
    ip_whitelist: str
    reads_per_device: int
    writes_per_device: int
    reads_per_login: int
    writes_per_login: int
    # Failed management logins allowed per user (across containers) and per source IP (per container)
    # within the window; past them, logins are refused with 429 before any password is hashed.
    login_failures_per_user: int
    login_failures_per_ip: int
    login_failure_window_seconds: int
    # How long the answer to a request with an Idempotency-Key is remembered (and replayed to a retry).
    idempotency_expiry_seconds: int
    # Where the CloudFront private key and the proxy secret are kept instead of the environment: an SSM
    # parameter (SecureString) name or ARN, or a Secrets Manager secret ARN (chalicelib/store/secret_settings.py).
    cloudfront_private_key_parameter: str
    trusted_proxy_secret_parameter: str
    # How long a container keeps a secret read from SSM / Secrets Manager (a rotation reaches it after that).
    secret_cache_seconds: int
    # The scheduled jobs' work queue (chalicelib/jobs/fanout.py): its URL, or its name in the account (locally
    # and in tests the embedded moto's queue). Deployed, the package's merge template sets the stack's queue URL.
    jobs_queue: str
    # One queued unit of a job reads at most this many pages of this many items before it hands the rest on
    # in a continuation message (and stops sooner when the invocation's time runs low).
    jobs_page_size: int
    jobs_pages_per_message: int
    # Tenants whose units one fan-out message enqueues (the rest go on in a fan-out continuation).
    jobs_tenants_per_message: int
    # The DMF inbound queue (FIFO, docs/dmf-hawkbit.md §9) and its dead-letter queue: URLs, or names in the account
    # (locally and in tests the embedded moto's). Empty dead-letter setting: the inbound name with "-dead-letter".
    # Deployed, the package's merge template (infra/dmf-queue.json) sets both URLs.
    dmf_queue: str
    dmf_dead_letter_queue: str
    # A tenant without `dmf.senders` accepts DMF messages from no one (true) or from any principal that may send
    # to the inbound queue (false, the default: one gateway owner per deployment, `make run`).
    dmf_senders_required: bool
    # The EventBridge bus of the service integration events (docs/integration-events.md): its name or ARN (locally
    # and in tests the embedded moto's, created by store/event_bus.ensure). Deployed, the data stack creates
    # skyhawk-<stage>-events and .chalice/config.json names it per stage.
    event_bus: str


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ.get
    return Settings(
        region=region(),
        bucket=env("SKYHAWK_BUCKET", DEFAULT_BUCKET),
        default_tenant=env("SKYHAWK_DEFAULT_TENANT", DEFAULT_TENANT),
        admin_password=env("SKYHAWK_ADMIN_PASSWORD", "admin"),
        s3_public_endpoint=env("SKYHAWK_S3_PUBLIC_ENDPOINT", ""),
        cloudfront_domain=env("SKYHAWK_CLOUDFRONT_DOMAIN", ""),
        cloudfront_key_pair_id=env("SKYHAWK_CLOUDFRONT_KEY_PAIR_ID", ""),
        cloudfront_private_key_pem=env("SKYHAWK_CLOUDFRONT_PRIVATE_KEY", ""),
        tenant_config_cache_seconds=float(env("SKYHAWK_TENANT_CONFIG_CACHE_SECONDS", "10")),
        last_seen_write_interval_ms=int(env("SKYHAWK_LAST_SEEN_WRITE_INTERVAL_MS", "60000")),
        config_task_retention_days=int(env("SKYHAWK_CONFIG_TASK_RETENTION_DAYS", "90")),
        password_hash_iterations=int(env("SKYHAWK_PASSWORD_HASH_ITERATIONS", "600000")),
        reads_per_ip=int(env("SKYHAWK_RATE_LIMIT_READS_PER_IP", "200")),
        writes_per_ip=int(env("SKYHAWK_RATE_LIMIT_WRITES_PER_IP", "50")),
        ip_whitelist=env("SKYHAWK_RATE_LIMIT_IP_WHITELIST", HAWKBIT_DOS_WHITELIST),
        reads_per_device=int(env("SKYHAWK_RATE_LIMIT_READS_PER_DEVICE", "200")),
        writes_per_device=int(env("SKYHAWK_RATE_LIMIT_WRITES_PER_DEVICE", "50")),
        reads_per_login=int(env("SKYHAWK_RATE_LIMIT_READS_PER_LOGIN", "200")),
        writes_per_login=int(env("SKYHAWK_RATE_LIMIT_WRITES_PER_LOGIN", "50")),
        login_failures_per_user=int(env("SKYHAWK_LOGIN_FAILURES_PER_USER", "10")),
        login_failures_per_ip=int(env("SKYHAWK_LOGIN_FAILURES_PER_IP", "30")),
        login_failure_window_seconds=int(env("SKYHAWK_LOGIN_FAILURE_WINDOW_SECONDS", "300")),
        trusted_proxy_secret=env("SKYHAWK_TRUSTED_PROXY_SECRET", ""),
        idempotency_expiry_seconds=int(env("SKYHAWK_IDEMPOTENCY_EXPIRY_SECONDS", "3600")),
        cloudfront_private_key_parameter=env("SKYHAWK_CLOUDFRONT_PRIVATE_KEY_PARAMETER", ""),
        trusted_proxy_secret_parameter=env("SKYHAWK_TRUSTED_PROXY_SECRET_PARAMETER", ""),
        secret_cache_seconds=int(env("SKYHAWK_SECRET_CACHE_SECONDS", "300")),
        jobs_queue=env("SKYHAWK_JOBS_QUEUE", DEFAULT_JOBS_QUEUE),
        jobs_page_size=int(env("SKYHAWK_JOBS_PAGE_SIZE", "100")),
        jobs_pages_per_message=int(env("SKYHAWK_JOBS_PAGES_PER_MESSAGE", "20")),
        jobs_tenants_per_message=int(env("SKYHAWK_JOBS_TENANTS_PER_MESSAGE", "20")),
        dmf_queue=env("SKYHAWK_DMF_QUEUE", DEFAULT_DMF_QUEUE),
        dmf_dead_letter_queue=env("SKYHAWK_DMF_DEAD_LETTER_QUEUE", ""),
        dmf_senders_required=env("SKYHAWK_DMF_SENDERS_REQUIRED", "false").strip().lower() in ("1", "true", "yes"),
        event_bus=env("SKYHAWK_EVENT_BUS", DEFAULT_EVENT_BUS),
    )


def reset() -> None:
    """Forget the cached settings (tests and the launcher change the environment)."""
    settings.cache_clear()
