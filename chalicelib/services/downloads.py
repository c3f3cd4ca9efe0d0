"""Signed download URLs handed to devices and operators, honouring `cdn.validity.days`.

S3 SigV4 URLs cannot live longer than 7 days (and die with the signing credentials in Lambda); the
validity is capped there and the cap is documented in the README. With CloudFront configured
(SKYHAWK_CLOUDFRONT_*, the private key from the environment or from SSM / Secrets Manager), URLs are CloudFront
signed URLs that carry the full validity (store.cloudfront).
"""

from __future__ import annotations

from chalicelib.store import blobs, cloudfront


def signed_url(s3_key: str, filename: str, validity_seconds: int) -> str:
    if cloudfront.configured():
        return cloudfront.signed_url(s3_key, validity_seconds)
    return blobs.presigned_get(s3_key, blobs.clamp_expiry(validity_seconds), filename)
