"""S3 adapter for artifact bytes: put/get/delete/head and presigned URLs (the bucket from settings).

A Lambda cannot stream a large firmware, so downloads are redirects to signed URLs made here.
`presigned_get` is the single entry point for signed download URLs (a CloudFront signer may take
over behind it); callers never talk to boto3 for that.
"""

from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import quote

from chalicelib import config
from chalicelib.store import aws

# SigV4 query-string signatures cannot be valid for longer than 7 days; S3 rejects larger X-Amz-Expires.
# In Lambda the URL dies earlier anyway when the role's session credentials expire.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600


def _bucket() -> str:
    return config.settings().bucket


def put_bytes(key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
    aws.s3().put_object(Bucket=_bucket(), Key=key, Body=data, ContentType=content_type)


def get_bytes(key: str) -> bytes | None:
    """The object's bytes, or None when it does not exist."""
    try:
        return aws.s3().get_object(Bucket=_bucket(), Key=key)["Body"].read()
    except Exception as exc:
        if is_missing(exc):
            return None
        raise


def delete(key: str) -> None:
    """Idempotent: deleting a missing object is not an error (S3 semantics)."""
    aws.s3().delete_object(Bucket=_bucket(), Key=key)


def chunks(key: str, size: int = 1024 * 1024) -> Iterator[bytes]:
    """The object's bytes in pieces, so a Lambda can hash a 1 GiB artifact without holding it."""
    body = aws.s3().get_object(Bucket=_bucket(), Key=key)["Body"]
    try:
        yield from body.iter_chunks(size)
    finally:
        body.close()


def copy(source_key: str, target_key: str) -> None:
    """Server-side copy (no bytes through the Lambda); one CopyObject holds up to 5 GB."""
    aws.s3().copy_object(Bucket=_bucket(), Key=target_key, CopySource={"Bucket": _bucket(), "Key": source_key})


def keys_under(prefix: str, limit: int = 10) -> list[str]:
    found = aws.s3().list_objects_v2(Bucket=_bucket(), Prefix=prefix, MaxKeys=limit)
    return [item["Key"] for item in found.get("Contents", [])]


def head(key: str) -> int | None:
    """The object's size in bytes, or None when it does not exist."""
    try:
        return int(aws.s3().head_object(Bucket=_bucket(), Key=key)["ContentLength"])
    except Exception as exc:
        if is_missing(exc):
            return None
        raise


def clamp_expiry(expires_seconds: int) -> int:
    return max(1, min(int(expires_seconds), MAX_PRESIGN_SECONDS))


def presigned_get(key: str, expires_seconds: int, filename: str | None = None) -> str:
    """A SigV4 GET URL for `key`, valid for `expires_seconds` clamped to [1 s, 7 days].

    The 7-day ceiling is S3's limit for SigV4 query signatures (a tenant's `cdn.validity.days` above
    7 is therefore cut to 7 days for S3 URLs; CloudFront signed URLs do not have that limit). With
    `filename`, S3 answers `Content-Disposition: attachment; filename=...` so browsers and curl -OJ
    save the artifact under its provided name. Signing needs no AWS call.
    """
    params: dict[str, Any] = {"Bucket": _bucket(), "Key": key}
    if filename:
        params["ResponseContentDisposition"] = content_disposition(filename)
    return aws.s3_for_signing().generate_presigned_url(
        "get_object", Params=params, ExpiresIn=clamp_expiry(expires_seconds)
    )


def presigned_put(key: str, expires_seconds: int) -> str:
    """A SigV4 PUT URL for direct uploads of large artifacts (same 7-day ceiling as `presigned_get`)."""
    return aws.s3_for_signing().generate_presigned_url(
        "put_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=clamp_expiry(expires_seconds)
    )


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name plus RFC 5987 `filename*` for anything else."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def is_missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def upload_origin() -> str:
    """Scheme, host and port of the presigned PUT URLs (`presigned_put`): where a browser sends upload bytes.
    Signing needs no AWS call."""
    from urllib.parse import urlsplit

    url = urlsplit(presigned_put("origin", 60))
    return f"{url.scheme}://{url.netloc}"
