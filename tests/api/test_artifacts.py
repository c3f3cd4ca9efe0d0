"""Artifacts: multipart upload, server-side hashes, checksum checks, quotas, locks, 302 download."""
from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.api.catalog_helpers import (
    SM,
    body,
    bucket_keys,
    create_sm,
    delete,
    error_code,
    get,
    put,
    upload,
    usage,
    user_with,
)
from tests.conftest import ADMIN

DATA = b"\x00\x01firmware\r\n\xff" * 100


def _module_state(client, sm_id: int) -> tuple[list, int, list[str]]:
    """(artifact list, ARTIFACT_STORAGE usage, S3 keys)."""
    return body(get(client, f"{SM}/{sm_id}/artifacts")), usage("ARTIFACT_STORAGE"), bucket_keys()


def test_upload_computes_hashes_and_stores_bytes(client):
    sm = create_sm(client)
    resp = upload(client, sm["id"], DATA, part_name="fw.bin")
    assert resp.status_code == 201, resp.body
    artifact = body(resp)
    assert artifact["providedFilename"] == "fw.bin" and artifact["size"] == len(DATA)
    assert artifact["hashes"] == {"sha1": hashlib.sha1(DATA).hexdigest(), "md5": hashlib.md5(DATA).hexdigest(),
                                  "sha256": hashlib.sha256(DATA).hexdigest()}
    assert isinstance(artifact["id"], int) and isinstance(artifact["createdAt"], int)
    assert artifact["createdBy"] == "admin"
    href = f"/rest/v1/softwaremodules/{sm['id']}/artifacts/{artifact['id']}"
    assert artifact["_links"]["self"]["href"].endswith(href)
    assert artifact["_links"]["download"]["href"].endswith(href + "/download")
    listed, storage, keys = _module_state(client, sm["id"])
    assert [a["id"] for a in listed] == [artifact["id"]] and storage == len(DATA) and len(keys) == 1
    from chalicelib.store import blobs
    assert blobs.get_bytes(keys[0]) == DATA and blobs.head(keys[0]) == len(DATA)
    assert body(get(client, href)) == artifact


def test_filename_from_form_field_or_query_parameter(client):
    sm = create_sm(client)
    assert body(upload(client, sm["id"], b"a", part_name="part.bin", other_field="x"))  # unknown field ignored
    assert body(upload(client, sm["id"], b"b", part_name="part2.bin", filename="from-form.bin"))[
        "providedFilename"] == "from-form.bin"
    assert body(upload(client, sm["id"], b"c", part_name="part3.bin", query="?filename=from-query.bin"))[
        "providedFilename"] == "from-query.bin"
    names = [a["providedFilename"] for a in body(get(client, f"{SM}/{sm['id']}/artifacts"))]
    assert names == ["part.bin", "from-form.bin", "from-query.bin"]


def test_matching_client_checksums_are_accepted(client):
    sm = create_sm(client)
    resp = upload(client, sm["id"], DATA, md5sum=hashlib.md5(DATA).hexdigest(),
                  sha1sum=hashlib.sha1(DATA).hexdigest().upper(),
                  query=f"?sha256sum={hashlib.sha256(DATA).hexdigest()}")
    assert resp.status_code == 201


@pytest.mark.parametrize("algorithm,field", [("md5", "md5sum"), ("sha1", "sha1sum"), ("sha256", "sha256sum")])
def test_checksum_mismatch_stores_nothing(client, algorithm, field):
    sm = create_sm(client)
    resp = upload(client, sm["id"], DATA, **{field: "0" * 32})
    assert resp.status_code == 400
    assert error_code(resp) == f"hawkbit.server.error.artifact.uploadFailed.checksum.{algorithm}.match"
    assert _module_state(client, sm["id"]) == ([], 0, [])
    from chalicelib.services import software_modules
    assert int(software_modules.get_software_module("DEFAULT", sm["id"]).artifact_count) == 0


def test_checksum_mismatch_given_as_query_parameter(client):
    sm = create_sm(client)
    resp = upload(client, sm["id"], DATA, query="?md5sum=deadbeef")
    assert resp.status_code == 400 and "md5" in error_code(resp)
    assert _module_state(client, sm["id"]) == ([], 0, [])


def test_duplicate_filename_is_409_and_keeps_one_object(client):
    sm = create_sm(client)
    assert upload(client, sm["id"], b"one", part_name="fw.bin").status_code == 201
    resp = upload(client, sm["id"], b"two", part_name="fw.bin")
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    listed, storage, keys = _module_state(client, sm["id"])
    assert len(listed) == 1 and storage == 3 and len(keys) == 1
    # the same filename in another module is fine
    other = create_sm(client, name="other")
    assert upload(client, other["id"], b"two", part_name="fw.bin").status_code == 201


def test_upload_to_locked_module_is_423(client):
    sm = create_sm(client)
    put(client, f"{SM}/{sm['id']}", {"locked": True})
    resp = upload(client, sm["id"], DATA)
    assert resp.status_code == 423 and error_code(resp) == "hawkbit.server.error.locked"
    assert _module_state(client, sm["id"]) == ([], 0, [])


def test_upload_errors(client):
    sm = create_sm(client)
    assert upload(client, 999, DATA).status_code == 404
    resp = client.http.post(f"{SM}/{sm['id']}/artifacts", headers={**ADMIN, "Content-Type": "application/json"},
                            body=b'{"file": "x"}')
    assert resp.status_code == 415 and error_code(resp) == "hawkbit.server.error.unsupportedMediaType"
    from tests.api.catalog_helpers import multipart
    payload, content_type = multipart({"md5sum": "abc"})
    resp = client.http.post(f"{SM}/{sm['id']}/artifacts", headers={**ADMIN, "Content-Type": content_type},
                            body=payload)
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.rest.body.notReadable"
    resp = client.http.post(f"{SM}/{sm['id']}/artifacts",
                            headers={**ADMIN, "Content-Type": "multipart/form-data; boundary=zzz"}, body=b"garbage")
    assert resp.status_code == 400
    resp = upload(client, sm["id"], DATA, part_name=None)  # a file part without a name and no filename field
    assert resp.status_code == 400
    reader = user_with(client, "reader", "READ_REPOSITORY")
    assert upload(client, sm["id"], DATA, headers=reader).status_code == 403
    assert _module_state(client, sm["id"]) == ([], 0, [])


def test_artifact_size_quota(client, monkeypatch):
    from chalicelib.domain import quotas
    monkeypatch.setattr(quotas, "MAX_ARTIFACT_SIZE", 10)
    sm = create_sm(client)
    resp = upload(client, sm["id"], b"x" * 11)
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.fileSizeExceeded"
    assert _module_state(client, sm["id"]) == ([], 0, [])
    assert upload(client, sm["id"], b"x" * 10).status_code == 201


def test_storage_quota_counts_bytes(client, monkeypatch):
    monkeypatch.setenv("SKYHAWK_QUOTA_ARTIFACT_STORAGE", "10")
    sm = create_sm(client)
    assert upload(client, sm["id"], b"small", part_name="a.bin").status_code == 201
    assert upload(client, sm["id"], b"fits!", part_name="b.bin").status_code == 201  # exactly 10 bytes
    resp = upload(client, sm["id"], b"1", part_name="c.bin")
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.storageExceeded"
    listed, storage, keys = _module_state(client, sm["id"])
    assert [a["providedFilename"] for a in listed] == ["a.bin", "b.bin"] and storage == 10 and len(keys) == 2
    quota = body(get(client, "/rest/v1/system/quota/ARTIFACT_STORAGE"))
    assert (quota["limit"], quota["used"]) == (10, 10)


def test_storage_quota_default_is_one_gibibyte_in_bytes(client):
    sm = create_sm(client)
    upload(client, sm["id"], DATA)
    quota = body(get(client, "/rest/v1/system/quota/ARTIFACT_STORAGE"))
    assert (quota["limit"], quota["used"]) == (1024 ** 3, len(DATA))


def test_artifacts_per_module_quota(client, monkeypatch):
    from chalicelib.domain import quotas
    monkeypatch.setattr(quotas, "MAX_ARTIFACTS_PER_SOFTWARE_MODULE", 1)
    sm = create_sm(client)
    assert upload(client, sm["id"], b"1", part_name="a.bin").status_code == 201
    resp = upload(client, sm["id"], b"2", part_name="b.bin")
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert len(bucket_keys()) == 1


def test_failed_transaction_removes_the_uploaded_object(client, monkeypatch):
    """The bytes go to S3 before the recording transaction; a refused transaction deletes them again."""
    from chalicelib import errors
    from chalicelib.store import tx

    sm = create_sm(client)

    def refuse(self):
        raise errors.ConcurrentModification()

    monkeypatch.setattr(tx.Tx, "commit", refuse)
    assert upload(client, sm["id"], DATA).status_code == 409
    monkeypatch.undo()
    assert _module_state(client, sm["id"]) == ([], 0, [])


def test_download_redirects_to_a_signed_url(client):
    sm = create_sm(client)
    artifact = body(upload(client, sm["id"], DATA, part_name="fw image.bin"))
    resp = get(client, f"{SM}/{sm['id']}/artifacts/{artifact['id']}/download")
    assert resp.status_code == 302 and resp.body in (b"", "")
    location = resp.headers["Location"]
    query = parse_qs(urlparse(location).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["response-content-disposition"] == ['attachment; filename="fw image.bin"']
    downloaded = requests.get(location, timeout=10)
    assert downloaded.status_code == 200 and downloaded.content == DATA


def test_download_permission_and_not_found(client):
    sm = create_sm(client)
    artifact = body(upload(client, sm["id"], DATA))
    reader = user_with(client, "reader", "READ_REPOSITORY")
    resp = get(client, f"{SM}/{sm['id']}/artifacts/{artifact['id']}/download", headers=reader)
    assert resp.status_code == 403
    downloader = user_with(client, "loader", "DOWNLOAD_REPOSITORY_ARTIFACT")
    assert get(client, f"{SM}/{sm['id']}/artifacts/{artifact['id']}/download", headers=downloader).status_code == 302
    assert get(client, f"{SM}/{sm['id']}/artifacts/999/download").status_code == 404
    assert get(client, f"{SM}/{sm['id']}/artifacts/999").status_code == 404
    assert get(client, f"{SM}/999/artifacts").status_code == 404


def test_delete_artifact(client):
    sm = create_sm(client)
    artifact = body(upload(client, sm["id"], DATA))
    assert delete(client, f"{SM}/{sm['id']}/artifacts/{artifact['id']}").status_code == 200
    assert _module_state(client, sm["id"]) == ([], 0, [])
    assert delete(client, f"{SM}/{sm['id']}/artifacts/{artifact['id']}").status_code == 404
    # the filename is free again
    assert upload(client, sm["id"], DATA).status_code == 201


def test_delete_artifact_of_locked_module_is_423(client):
    sm = create_sm(client)
    artifact = body(upload(client, sm["id"], DATA))
    put(client, f"{SM}/{sm['id']}", {"locked": True})
    assert delete(client, f"{SM}/{sm['id']}/artifacts/{artifact['id']}").status_code == 423
    assert len(bucket_keys()) == 1


def test_deleting_a_module_deletes_its_artifacts(client):
    sm = create_sm(client)
    upload(client, sm["id"], b"1", part_name="a.bin")
    upload(client, sm["id"], b"2", part_name="b.bin")
    keep = create_sm(client, name="keep")
    upload(client, keep["id"], b"3", part_name="a.bin")
    assert usage("ARTIFACT_STORAGE") == 3
    assert delete(client, f"{SM}/{sm['id']}").status_code == 200
    assert usage("ARTIFACT_STORAGE") == 1 and len(bucket_keys()) == 1
    assert get(client, f"{SM}/{sm['id']}").status_code == 404


def test_presigned_urls_are_capped_at_seven_days(aws_env):
    from chalicelib.store import blobs
    url = blobs.presigned_get("some/key", 30 * 24 * 3600, filename="ü.bin")
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["604800"]
    assert "filename*=UTF-8''%C3%BC.bin" in query["response-content-disposition"][0]
    assert parse_qs(urlparse(blobs.presigned_get("k", 60)).query)["X-Amz-Expires"] == ["60"]
    assert parse_qs(urlparse(blobs.presigned_put("k", 10 ** 9)).query)["X-Amz-Expires"] == ["604800"]
    assert blobs.head("missing") is None and blobs.get_bytes("missing") is None


def test_undecodable_multipart_is_400_not_500(client):
    sm = create_sm(client)
    url = f"{SM}/{sm['id']}/artifacts"
    payload = (b"--zzz\r\n"
               b'Content-Disposition: form-data; name="filename"\r\n'
               b"Content-Type: text/plain; charset=bogus\r\n\r\n"
               b"fw.bin\r\n"
               b"--zzz\r\n"
               b'Content-Disposition: form-data; name="file"; filename="fw.bin"\r\n'
               b"Content-Type: application/octet-stream\r\n\r\n"
               b"data\r\n"
               b"--zzz--\r\n")
    resp = client.http.post(url, headers={**ADMIN, "Content-Type": "multipart/form-data; boundary=zzz"},
                            body=payload)
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.rest.body.notReadable"
    resp = client.http.post(url, headers={**ADMIN, "Content-Type": "multipart/form-data; boundary=zzz; x=\u20ac"},
                            body=payload)
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.rest.body.notReadable"
    assert _module_state(client, sm["id"]) == ([], 0, [])


@pytest.mark.parametrize("filename", [
    pytest.param("\U0001F600" * 256, id="256-emoji"),   # 1,024 bytes: was a 500 (sort key too long)
    pytest.param("\U0001F600" * 64, id="64-emoji"),     # 256 UTF-8 bytes
    pytest.param("x" * 256, id="256-ascii"),
    "a/b.bin", "a\\b.bin", "a?b.bin", "a#b.bin", "a%2e.bin",
    "fw.bin\r\nX-Injected: 1", "fw\x00.bin", "fw\x7f.bin", "fw\tbin",
])
def test_invalid_filenames_are_400(client, filename):
    sm = create_sm(client)
    resp = upload(client, sm["id"], DATA, filename=filename)
    assert resp.status_code == 400, resp.body
    assert error_code(resp) == "hawkbit.server.error.repo.constraintViolation"
    assert body(resp)["parameters"] == ["filename"]
    assert _module_state(client, sm["id"]) == ([], 0, [])


@pytest.mark.parametrize("filename", [
    pytest.param("\U0001F600" * 63, id="63-emoji"), pytest.param("x" * 255, id="255-ascii"),
    "Prüfung Ω 1.0 (final).bin", "日本語.img",
])
def test_filenames_up_to_255_bytes_with_spaces_and_unicode(client, filename):
    sm = create_sm(client)
    resp = upload(client, sm["id"], DATA, filename=filename)
    assert resp.status_code == 201, resp.body
    assert body(resp)["providedFilename"] == filename
    assert [a["providedFilename"] for a in body(get(client, f"{SM}/{sm['id']}/artifacts"))] == [filename]


def test_soft_deleted_module_keeps_serving_its_artifacts_to_devices(client):
    """An assigned (locked) module is only soft-deleted: its actions still download the bytes."""
    from tests.api import steps

    steps.enable_target_tokens(client)
    steps.create_target(client, "dev1", "tok-dev1")
    ds_id, sm_id = steps.release(client, data=DATA, filename="fw.bin")
    steps.assign(client, ds_id, "dev1")
    assert delete(client, f"{SM}/{sm_id}").status_code == 200
    assert body(get(client, f"{SM}/{sm_id}"))["deleted"] is True
    listed, storage, keys = _module_state(client, sm_id)
    assert [a["providedFilename"] for a in listed] == ["fw.bin"] and storage == len(DATA) and len(keys) == 1
    resp = client.http.get(f"/DEFAULT/controller/v1/dev1/softwaremodules/{sm_id}/artifacts/fw.bin",
                           headers=steps.device("tok-dev1"))
    assert resp.status_code == 302
    downloaded = requests.get(resp.headers["Location"], timeout=10)
    assert downloaded.status_code == 200 and downloaded.content == DATA


def test_failed_module_delete_keeps_the_artifacts(client, monkeypatch):
    """The module's transaction comes first: when it fails, artifacts, usage and bytes are untouched."""
    from chalicelib import errors
    from chalicelib.store import tx
    from chalicelib.store.tables import SoftwareModule

    sm = create_sm(client)
    upload(client, sm["id"], b"1", part_name="a.bin")
    before = _module_state(client, sm["id"])
    commit = tx.Tx.commit

    def refuse_module_changes(self):
        if any(isinstance(args[0], SoftwareModule) for args, _, _ in self._deletes + self._updates):
            raise errors.ConcurrentModification()
        return commit(self)

    monkeypatch.setattr(tx.Tx, "commit", refuse_module_changes)
    assert delete(client, f"{SM}/{sm['id']}").status_code == 409
    monkeypatch.undo()
    assert _module_state(client, sm["id"]) == before
    assert body(get(client, f"{SM}/{sm['id']}"))["deleted"] is False
    # a hard delete then removes items, usage and bytes
    assert delete(client, f"{SM}/{sm['id']}").status_code == 200
    assert usage("ARTIFACT_STORAGE") == 0 and bucket_keys() == []


def test_direct_upload_through_a_presigned_put(client):
    import json

    from chalicelib import config
    from chalicelib.store import aws
    resp = client.http.post("/rest/v1/softwaremodules", headers=ADMIN,
                            body=json.dumps([{"name": "big", "version": "1", "type": "os"}]))
    sm_id = json.loads(resp.body)[0]["id"]
    started = client.http.post(f"/rest/v1/softwaremodules/{sm_id}/uploads", headers=ADMIN,
                               body=json.dumps({"filename": "big image.bin"}))
    assert started.status_code == 201
    upload = json.loads(started.body)
    data = b"\x00\x01" * 300_000
    assert requests.put(upload["uploadUrl"], data=data).status_code == 200  # moto answers the signed URL
    path = "/" + upload["_links"]["complete"]["href"].split("://", 1)[1].split("/", 1)[1]
    wrong = client.http.post(path, headers=ADMIN, body=json.dumps({"sha1sum": "0" * 40}))
    assert wrong.status_code == 400
    assert json.loads(wrong.body)["errorCode"] == "hawkbit.server.error.artifact.uploadFailed.checksum.sha1.match"
    # a refused upload is gone: the client uploads again
    assert client.http.post(path, headers=ADMIN).status_code == 404
    again = json.loads(client.http.post(f"/rest/v1/softwaremodules/{sm_id}/uploads", headers=ADMIN,
                                        body=json.dumps({"filename": "big image.bin"})).body)
    assert requests.put(again["uploadUrl"], data=data).status_code == 200
    path = "/" + again["_links"]["complete"]["href"].split("://", 1)[1].split("/", 1)[1]
    done = client.http.post(path, headers=ADMIN, body=json.dumps({"sha256sum": hashlib.sha256(data).hexdigest()}))
    assert done.status_code == 201
    artifact = json.loads(done.body)
    assert artifact["size"] == len(data) and artifact["providedFilename"] == "big image.bin"
    assert artifact["hashes"]["md5"] == hashlib.md5(data).hexdigest()
    listed = aws.s3().list_objects_v2(Bucket=config.settings().bucket, Prefix="uploads/")
    assert listed.get("KeyCount", 0) == 0  # the staging object is gone
    assert client.http.post(f"/rest/v1/softwaremodules/{sm_id}/uploads", headers=ADMIN,
                            body=json.dumps({"filename": "big image.bin"})).status_code == 409
