"""CloudFront signed URLs for artifact bytes (canned policy, RSA-SHA1 as CloudFront requires).

The key pair id and distribution domain come from settings, the private key from the environment or from
SSM / Secrets Manager (store.secret_settings). Unlike S3 SigV4 URLs, these carry any validity.
"""

from __future__ import annotations

import base64
import datetime
import functools
from typing import Callable

from chalicelib import clock, config
from chalicelib.store import secret_settings


def configured() -> bool:
    settings = config.settings()
    private_key = settings.cloudfront_private_key_pem or settings.cloudfront_private_key_parameter
    return bool(settings.cloudfront_domain and settings.cloudfront_key_pair_id and private_key)


def signed_url(s3_key: str, validity_seconds: int) -> str:
    from botocore.signers import CloudFrontSigner

    settings = config.settings()
    expires = datetime.datetime.fromtimestamp((clock.now_ms() // 1000) + validity_seconds, tz=datetime.timezone.utc)
    signer = CloudFrontSigner(settings.cloudfront_key_pair_id, _rsa_signer(secret_settings.cloudfront_private_key()))
    return signer.generate_presigned_url(f"https://{settings.cloudfront_domain}/{s3_key}", date_less_than=expires)


@functools.lru_cache(maxsize=1)  # keyed by the PEM: a rotated key makes a new signer
def _rsa_signer(private_key_pem: str) -> Callable[[bytes], bytes]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    pem = private_key_pem.encode()
    if b"BEGIN" not in pem:
        pem = base64.b64decode(pem)
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(
            f"The CloudFront private key must be an RSA key (CloudFront signs URLs with RSA-SHA1), "
            f"not {type(key).__name__}."
        )
    return lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1())
