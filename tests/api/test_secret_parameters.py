"""The CloudFront private key and the trusted proxy's secret from SSM Parameter Store or Secrets Manager
(Powertools Parameters, cached), named by *_PARAMETER settings; the environment values stay the fallback."""
import base64
import datetime
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.client
import pytest
from botocore.exceptions import EndpointConnectionError

from tests.api import steps

PROXY_HEADERS = {"X-Controller-Id": "cert-dev", "X-Authority": "abc123"}


@pytest.fixture
def settings_env(monkeypatch):
    """`settings_env(NAME=value, ...)`: set environment variables and forget the cached settings."""
    from chalicelib import config

    def apply(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        config.reset()
    yield apply
    config.reset()


@pytest.fixture
def calls(monkeypatch):
    """AWS calls by (service, operation)."""
    seen = []
    original = botocore.client.BaseClient._make_api_call

    def spying(self, operation, params):
        seen.append((self.meta.service_model.service_name, operation))
        return original(self, operation, params)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spying)
    return seen


@pytest.fixture
def cert_device(client):
    steps.create_target(client, "cert-dev")
    steps.put_config(client, "authentication.header.authority", "abc123")

    def poll(secret):
        return client.http.get("/DEFAULT/controller/v1/cert-dev",
                               headers={**PROXY_HEADERS, "X-Skyhawk-Proxy-Secret": secret}).status_code
    return poll


def test_the_proxy_secret_comes_from_an_ssm_securestring_and_is_cached(client, cert_device, settings_env, calls):
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/skyhawk/test/proxy-secret", Value="from-ssm", Type="SecureString")
    settings_env(SKYHAWK_TRUSTED_PROXY_SECRET_PARAMETER="/skyhawk/test/proxy-secret",
                 SKYHAWK_TRUSTED_PROXY_SECRET="from-env")
    assert cert_device("from-ssm") == 200
    assert cert_device("from-env") == 401  # the parameter, when named, wins over the environment
    assert cert_device("from-ssm") == 200
    assert calls.count(("ssm", "GetParameter")) == 1  # read once, then cached (SKYHAWK_SECRET_CACHE_SECONDS)
    # a rotation reaches the container only when the cached value ages out
    ssm.put_parameter(Name="/skyhawk/test/proxy-secret", Value="rotated", Type="SecureString", Overwrite=True)
    assert cert_device("from-ssm") == 200 and cert_device("rotated") == 401


def test_without_caching_every_read_asks_the_store_and_sees_a_rotation(client, cert_device, settings_env, calls):
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/skyhawk/test/proxy-secret", Value="first", Type="SecureString")
    settings_env(SKYHAWK_TRUSTED_PROXY_SECRET_PARAMETER="/skyhawk/test/proxy-secret", SKYHAWK_SECRET_CACHE_SECONDS="0")
    assert cert_device("first") == 200
    ssm.put_parameter(Name="/skyhawk/test/proxy-secret", Value="rotated", Type="SecureString", Overwrite=True)
    assert cert_device("rotated") == 200 and cert_device("first") == 401
    assert calls.count(("ssm", "GetParameter")) == 3


def test_the_proxy_secret_from_an_ssm_arn_or_a_secrets_manager_secret(client, cert_device, settings_env):
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/skyhawk/test/by-arn", Value="by-arn", Type="SecureString")
    arn = ssm.get_parameter(Name="/skyhawk/test/by-arn")["Parameter"]["ARN"]
    settings_env(SKYHAWK_TRUSTED_PROXY_SECRET_PARAMETER=arn)
    assert cert_device("by-arn") == 200
    secrets = boto3.client("secretsmanager")
    secret_arn = secrets.create_secret(Name="skyhawk/test/proxy", SecretString="from-secrets-manager")["ARN"]
    settings_env(SKYHAWK_TRUSTED_PROXY_SECRET_PARAMETER=secret_arn)
    assert cert_device("from-secrets-manager") == 200 and cert_device("by-arn") == 401
    settings_env(SKYHAWK_TRUSTED_PROXY_SECRET_PARAMETER="secretsmanager:skyhawk/test/proxy")
    assert cert_device("from-secrets-manager") == 200


def test_without_a_parameter_the_environment_value_is_used_and_no_store_is_asked(client, cert_device,
                                                                                   settings_env, calls):
    settings_env(SKYHAWK_TRUSTED_PROXY_SECRET="from-env")
    assert cert_device("from-env") == 200
    assert not [c for c in calls if c[0] in ("ssm", "secretsmanager")]


def test_an_unreachable_parameter_store_is_503(client, cert_device, settings_env, aws_fails):
    settings_env(SKYHAWK_TRUSTED_PROXY_SECRET_PARAMETER="/skyhawk/test/proxy-secret")
    aws_fails(lambda service, op, params: service == "ssm", lambda: EndpointConnectionError(endpoint_url="http://ssm"))
    assert cert_device("anything") == 503


def _rsa_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    return key.public_key(), pem


def _download(client):
    """A device's download of an artifact of its assigned set (with the settings of the test)."""
    steps.enable_target_tokens(client)
    steps.create_target(client, "dev1", "tok1")
    ds_id, sm_id = steps.release(client)
    steps.assign(client, ds_id, "dev1")
    return client.http.get(f"/DEFAULT/controller/v1/dev1/softwaremodules/{sm_id}/artifacts/example.file",
                           headers=steps.device("tok1"))


def _download_location(client):
    resp = _download(client)
    assert resp.status_code == 302
    return resp.headers["Location"]


def _assert_signed_by(public_key, location):
    """The URL's canned-policy signature verifies with the public half of the key (CloudFront's check)."""
    from botocore.signers import CloudFrontSigner
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    parts = urlsplit(location)
    query = parse_qs(parts.query)
    resource = f"{parts.scheme}://{parts.netloc}{parts.path}"
    expires = datetime.datetime.fromtimestamp(int(query["Expires"][0]), tz=datetime.timezone.utc)
    policy = CloudFrontSigner("unused", lambda m: b"").build_policy(resource, expires).encode()
    signature = base64.b64decode(query["Signature"][0].replace("-", "+").replace("_", "=").replace("~", "/"))
    public_key.verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())  # raises when it does not match
    assert query["Key-Pair-Id"] == ["K2TESTKEY"]


@pytest.mark.parametrize("store", ["secretsmanager", "ssm"])
def test_cloudfront_urls_are_signed_with_the_key_from_the_store(client, settings_env, store):
    public_key, pem = _rsa_key()
    if store == "ssm":
        boto3.client("ssm").put_parameter(Name="/skyhawk/test/cdn-key", Value=pem, Type="SecureString")
        reference = "/skyhawk/test/cdn-key"
    else:
        reference = boto3.client("secretsmanager").create_secret(Name="skyhawk/test/cdn-key", SecretString=pem)["ARN"]
    settings_env(SKYHAWK_CLOUDFRONT_DOMAIN="cdn.example.com", SKYHAWK_CLOUDFRONT_KEY_PAIR_ID="K2TESTKEY",
                 SKYHAWK_CLOUDFRONT_PRIVATE_KEY_PARAMETER=reference)
    location = _download_location(client)
    assert location.startswith("https://cdn.example.com/")
    _assert_signed_by(public_key, location)


def test_cloudfront_urls_are_signed_with_the_key_from_the_environment(client, settings_env):
    public_key, pem = _rsa_key()
    settings_env(SKYHAWK_CLOUDFRONT_DOMAIN="cdn.example.com", SKYHAWK_CLOUDFRONT_KEY_PAIR_ID="K2TESTKEY",
                 SKYHAWK_CLOUDFRONT_PRIVATE_KEY=base64.b64encode(pem.encode()).decode())
    _assert_signed_by(public_key, _download_location(client))


def test_a_cloudfront_key_that_is_not_rsa_is_refused_with_a_clear_error(client, settings_env, caplog):
    """CloudFront verifies RSA-SHA1 only: an EC key is a misconfiguration named in the log, not a stray TypeError."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    settings_env(SKYHAWK_CLOUDFRONT_DOMAIN="cdn.example.com", SKYHAWK_CLOUDFRONT_KEY_PAIR_ID="K2TESTKEY",
                 SKYHAWK_CLOUDFRONT_PRIVATE_KEY=pem)
    assert _download(client).status_code == 500
    assert "The CloudFront private key must be an RSA key" in caplog.text
