"""The strict fake S3 refuses presigned + Authorization like real S3 (interop item 7), and is otherwise
a transparent proxy for moto (bodies, Range, 206/416, HEAD, uploads)."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import boto3
import pytest
import requests
from botocore.config import Config

from tests.e2e.strict_s3 import ONLY_ONE_AUTH, StrictS3Proxy

BUCKET = "strict-s3-test"
KEY = "fw/firmware.bin"
DATA = bytes(range(256)) * 400  # 102,400 bytes


def s3_client(endpoint: str, signature_version: str = "s3v4"):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(signature_version=signature_version, s3={"addressing_style": "path"}))


@pytest.fixture(scope="module")
def proxy(stack):
    # A proxy of its own, so the stack's request log stays for the download tests.
    strict = StrictS3Proxy(stack.moto_url).start()
    moto = s3_client(stack.moto_url)
    moto.create_bucket(Bucket=BUCKET)
    moto.put_object(Bucket=BUCKET, Key=KEY, Body=DATA)
    yield strict
    strict.stop()


def presigned(proxy: StrictS3Proxy, signature_version: str = "s3v4") -> str:
    return s3_client(proxy.url, signature_version).generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=300)


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"])
def test_presigned_with_authorization_header_is_refused(proxy, signature_version):
    url = presigned(proxy, signature_version)
    assert ("X-Amz-Signature=" if signature_version == "s3v4" else "Signature=") in url
    proxy.clear()
    resp = requests.get(url, headers={"Authorization": "TargetToken 4a28d893bb841def706073c789c0f3a7"})
    assert resp.status_code == 400
    error = ET.fromstring(resp.content)
    assert error.findtext("Code") == "InvalidArgument"
    assert error.findtext("Message") == ONLY_ONE_AUTH
    assert error.findtext("ArgumentName") == "Authorization"
    [seen] = proxy.requests
    assert seen.had_authorization and seen.query_auth and seen.status == 400


def test_presigned_without_authorization_is_served(proxy):
    proxy.clear()
    resp = requests.get(presigned(proxy))
    assert resp.status_code == 200
    assert resp.content == DATA
    assert int(resp.headers["Content-Length"]) == len(DATA)
    [seen] = proxy.requests
    assert not seen.had_authorization and seen.query_auth and seen.status == 200
    assert seen.path.startswith(f"/{BUCKET}/{KEY}?")


def test_range_requests_pass_through(proxy):
    url = presigned(proxy)
    part = requests.get(url, headers={"Range": "bytes=100-1123"})
    assert part.status_code == 206
    assert part.content == DATA[100:1124]
    assert part.headers["Content-Range"] == f"bytes 100-1123/{len(DATA)}"
    past_end = requests.get(url, headers={"Range": f"bytes={len(DATA)}-"})
    assert past_end.status_code == 416


def test_head_and_keep_alive(proxy):
    url = presigned(proxy)
    with requests.Session() as session:
        head = session.head(url)
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["Content-Length"]) == len(DATA)
        assert session.get(url).content == DATA  # the same connection after a HEAD


def test_header_authenticated_requests_are_forwarded(proxy):
    """An SDK upload (Authorization header only) is not query auth: forwarded with its body."""
    proxy.clear()
    client = s3_client(proxy.url)
    body = os.urandom(70_000)
    client.put_object(Bucket=BUCKET, Key="upload.bin", Body=body)
    assert s3_client(proxy.url).get_object(Bucket=BUCKET, Key="upload.bin")["Body"].read() == body
    assert all(r.had_authorization and not r.query_auth for r in proxy.requests)
    assert [r.method for r in proxy.requests] == ["PUT", "GET"]


def test_unauthenticated_request_reaches_moto(proxy):
    resp = requests.get(f"{proxy.url}/{BUCKET}/{KEY}")
    assert resp.status_code == 403  # private object, no auth: moto's ACL check, not the proxy
