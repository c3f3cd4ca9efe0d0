"""DCS files, head and revisions: content addressing, If-Match, Accept, paging, permissions, device access."""
from __future__ import annotations

import hashlib
import json

from tests.api.dcs_steps import (
    DCS,
    JSON_HEADERS,
    body,
    bearer,
    content_uri,
    create_file,
    create_task,
    error_code,
    file_with_head,
    head_uri,
    make_device,
    patch_head,
    release,
)
from tests.conftest import ADMIN, basic

SAMPLE = b'{"sampleRate": 100}'


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_create_get_and_list_by_path_prefix_with_paging(client):
    # Given files under two prefixes (paths are not normalised: '/a/x' and '/a/x/' differ)
    for path in ("/dev1/a.json", "/dev1/b.json", "/dev1/c.json", "/dev2/a.json", "/dev1/a.json/"):
        create_file(client, path, description=f"cfg {path}")
    # When listing the prefix '/dev1/' two per page
    resp = client.http.get(f"{DCS}/files?pathPrefix=/dev1/&size=2&page=1", headers=ADMIN)
    # Then the second page holds the next paths in path order, with DCS paging metadata
    page = body(resp)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    assert [f["path"] for f in page["content"]] == ["/dev1/b.json", "/dev1/c.json"]
    assert page["page"] == {"size": 2, "totalElements": 4, "totalPages": 2, "number": 1}
    desc = body(client.http.get(f"{DCS}/files?pathPrefix=/dev1/&sort=path,desc", headers=ADMIN))
    assert desc["content"][0]["path"] == "/dev1/c.json" and desc["page"]["size"] == 10
    one = desc["content"][0]
    assert set(one) == {"id", "path", "description", "head"} and one["head"] is None
    got = body(client.http.get(f"{DCS}/files/{one['id']}", headers=ADMIN))
    assert got == one


def test_duplicate_path_is_409_and_bad_bodies_400(client):
    create_file(client, "/same")
    resp = client.http.post(f"{DCS}/files", headers=JSON_HEADERS, body=json.dumps({"path": "/same"}))
    assert resp.status_code == 409 and error_code(resp) == "mdsp.core.deviceconfiguration.conflict"
    for bad in ("{nope", "[]", json.dumps({"description": "x"}), json.dumps({"path": ""}),
                json.dumps({"path": "p" * 1001}), json.dumps({"path": "/p", "description": 3})):
        resp = client.http.post(f"{DCS}/files", headers=JSON_HEADERS, body=bad)
        assert resp.status_code == 400, bad
        assert error_code(resp) == "mdsp.core.deviceconfiguration.invalidRequest"
    bad_sort = client.http.get(f"{DCS}/files?sort=size", headers=ADMIN)
    assert bad_sort.status_code == 400


def test_head_patch_creates_revision_and_moves_head_with_if_match(client):
    # Given a file with a first head
    created = create_file(client, "/d/cfg.json")
    first = patch_head(client, created["id"], SAMPLE)
    assert first.status_code == 200
    assert body(first)["head"] == sha(SAMPLE) and first.headers["ETag"] == f'"{sha(SAMPLE)}"'
    # When the head is read, it carries its bytes, content type and ETag
    head = client.http.get(f"{DCS}/files/{created['id']}/head", headers={**ADMIN, "Accept": "*/*"})
    assert head.status_code == 200 and head.body == SAMPLE
    assert head.headers["Content-Type"] == "application/json" and head.headers["ETag"] == f'"{sha(SAMPLE)}"'
    # When PATCHing with the current ETag, the head moves
    second = patch_head(client, created["id"], b'{"sampleRate": 200}', if_match=head.headers["ETag"])
    assert second.status_code == 200 and body(second)["head"] == sha(b'{"sampleRate": 200}')
    # When PATCHing with the stale ETag, 412 and nothing changes
    stale = patch_head(client, created["id"], b'{"sampleRate": 300}', if_match=head.headers["ETag"])
    assert stale.status_code == 412 and error_code(stale) == "mdsp.core.deviceconfiguration.preconditionFailed"
    assert body(client.http.get(f"{DCS}/files/{created['id']}", headers=ADMIN))["head"] == sha(b'{"sampleRate": 200}')
    revisions = body(client.http.get(f"{DCS}/files/{created['id']}/revisions", headers=ADMIN))
    assert revisions["page"]["totalElements"] == 2  # the refused bytes made no revision
    # If-Match '*' needs an existing head
    assert patch_head(client, create_file(client, "/empty")["id"], b"x", if_match="*").status_code == 412


def test_revisions_are_content_addressed_and_do_not_move_head(client):
    created = create_file(client, "/d/x.bin")
    data = bytes(range(256))  # not UTF-8: exact bytes must survive
    resp = client.http.post(f"{DCS}/files/{created['id']}/revisions",
                            headers={**ADMIN, "Content-Type": "application/octet-stream"}, body=data)
    assert resp.status_code == 201
    rev = body(resp)
    assert rev == {"hash": sha(data), "fileId": created["id"], "contentLength": 256,
                   "contentType": "application/octet-stream"}
    # identical bytes again: same hash, nothing new
    again = client.http.post(f"{DCS}/files/{created['id']}/revisions",
                             headers={**ADMIN, "Content-Type": "application/octet-stream"}, body=data)
    assert again.status_code == 200 and body(again)["hash"] == rev["hash"]
    # head did not move
    assert body(client.http.get(f"{DCS}/files/{created['id']}", headers=ADMIN))["head"] is None
    assert client.http.get(f"{DCS}/files/{created['id']}/head", headers={**ADMIN, "Accept": "*/*"}).status_code == 404
    # metadata and content
    meta = client.http.get(f"{DCS}/files/{created['id']}/revisions/{rev['hash']}", headers=ADMIN)
    assert body(meta) == rev
    content = client.http.get(f"{DCS}/files/{created['id']}/revisions/{rev['hash']}/content",
                              headers={**ADMIN, "Accept": "application/octet-stream"})
    assert content.status_code == 200 and content.body == data
    # the same bytes in another file share the hash
    other = create_file(client, "/d/y.bin")
    shared = client.http.post(f"{DCS}/files/{other['id']}/revisions",
                              headers={**ADMIN, "Content-Type": "application/octet-stream"}, body=data)
    assert shared.status_code == 201 and body(shared)["hash"] == rev["hash"]


def test_content_accept_is_checked(client):
    f = file_with_head(client, "/d/a.json", SAMPLE)
    url = f"{DCS}/files/{f['id']}/revisions/{f['head']}/content"
    assert client.http.get(url, headers={**ADMIN, "Accept": "application/json"}).body == SAMPLE
    assert client.http.get(url, headers={**ADMIN, "Accept": "application/*"}).status_code == 200
    assert client.http.get(url, headers=ADMIN).status_code == 200  # no Accept: any type
    refused = client.http.get(url, headers={**ADMIN, "Accept": "text/plain"})
    assert refused.status_code == 406 and error_code(refused) == "mdsp.core.deviceconfiguration.notAcceptable"
    head = client.http.get(f"{DCS}/files/{f['id']}/head", headers={**ADMIN, "Accept": "image/png"})
    assert head.status_code == 406


def test_text_upload_keeps_exact_bytes(client):
    created = create_file(client, "/d/t.txt")
    text = "température=21\n".encode("utf-8")
    assert patch_head(client, created["id"], text, content_type="text/plain; charset=utf-8").status_code == 200
    head = client.http.get(f"{DCS}/files/{created['id']}/head", headers={**ADMIN, "Accept": "text/plain"})
    assert head.body == text and head.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_revision_list_paging_and_sort(client, aws_env):
    from chalicelib import clock
    clock.set_now(1_700_000_000_000)
    created = create_file(client, "/d/r")
    hashes = []
    for i in range(3):
        clock.advance(1000)
        data = f"v{i}".encode()
        client.http.post(f"{DCS}/files/{created['id']}/revisions", headers={**ADMIN, "Content-Type": "text/plain"},
                         body=data)
        hashes.append(sha(data))
    newest_first = body(client.http.get(f"{DCS}/files/{created['id']}/revisions?size=2", headers=ADMIN))
    assert [r["hash"] for r in newest_first["content"]] == [hashes[2], hashes[1]]
    assert newest_first["page"] == {"size": 2, "totalElements": 3, "totalPages": 2, "number": 0}
    oldest = body(client.http.get(f"{DCS}/files/{created['id']}/revisions?sort=createdAt,asc", headers=ADMIN))
    assert [r["hash"] for r in oldest["content"]] == hashes


def test_delete_is_idempotent_and_keeps_shared_bytes(client, aws_env):
    from chalicelib import config
    from chalicelib.store import aws
    a = file_with_head(client, "/d/a", SAMPLE)
    b = file_with_head(client, "/d/b", SAMPLE)
    assert client.http.delete(f"{DCS}/files/{a['id']}", headers=ADMIN).status_code == 204
    assert client.http.delete(f"{DCS}/files/{a['id']}", headers=ADMIN).status_code == 204
    assert client.http.delete(f"{DCS}/files/never-existed", headers=ADMIN).status_code == 204
    assert client.http.get(f"{DCS}/files/{a['id']}", headers=ADMIN).status_code == 404
    assert client.http.get(f"{DCS}/files/{a['id']}/revisions/{a['head']}", headers=ADMIN).status_code == 404
    # b still reads the shared bytes; its path may be reused
    assert client.http.get(f"{DCS}/files/{b['id']}/head", headers={**ADMIN, "Accept": "*/*"}).body == SAMPLE
    create_file(client, "/d/a")
    # deleting the last user removes the bytes
    client.http.delete(f"{DCS}/files/{b['id']}", headers=ADMIN)
    listed = aws.s3().list_objects_v2(Bucket=config.settings().bucket, Prefix="DEFAULT/config-files/")
    assert listed.get("KeyCount", 0) == 0


def test_unknown_file_and_revision_are_404(client):
    f = file_with_head(client, "/d/a", SAMPLE)
    for url in (f"{DCS}/files/nope", f"{DCS}/files/nope/head", f"{DCS}/files/nope/revisions",
                f"{DCS}/files/{f['id']}/revisions/{'0' * 64}", f"{DCS}/files/{f['id']}/revisions/{'0' * 64}/content"):
        resp = client.http.get(url, headers={**ADMIN, "Accept": "*/*"})
        assert resp.status_code == 404, url
        assert error_code(resp) == "mdsp.core.deviceconfiguration.notFound"
    assert patch_head(client, "nope", b"x").status_code == 404
    assert client.http.post(f"{DCS}/files/nope/revisions", headers=ADMIN, body=b"x").status_code == 404


def test_too_large_revision_is_413(client):
    from chalicelib.domain import config_model
    created = create_file(client, "/d/big")
    resp = patch_head(client, created["id"], b"x" * (config_model.MAX_REVISION_BYTES + 1), "application/octet-stream")
    assert resp.status_code == 413 and error_code(resp) == "mdsp.core.deviceconfiguration.payloadTooLarge"


def test_permissions_401_and_403(client):
    from chalicelib.services import tenants
    tenants.create_user("DEFAULT", "reader", "pw", ["READ_DEVICE_CONFIGURATION"])
    tenants.create_user("DEFAULT", "nobody", "pw", ["READ_TARGET"])
    f = file_with_head(client, "/d/a", SAMPLE)
    assert client.http.get(f"{DCS}/files?pathPrefix=/", headers=basic("reader", "pw")).status_code == 200
    no_auth = client.http.get(f"{DCS}/files?pathPrefix=/")
    assert no_auth.status_code == 401 and error_code(no_auth) == "mdsp.core.deviceconfiguration.unauthorized"
    assert client.http.get(f"{DCS}/files", headers=basic("admin", "wrong")).status_code == 401
    forbidden = client.http.get(f"{DCS}/files", headers=basic("nobody", "pw"))
    assert forbidden.status_code == 403 and error_code(forbidden) == "mdsp.core.deviceconfiguration.forbidden"
    read_only = basic("reader", "pw")
    assert client.http.post(f"{DCS}/files", headers={**read_only, "Content-Type": "application/json"},
                            body=json.dumps({"path": "/x"})).status_code == 403
    assert client.http.patch(f"{DCS}/files/{f['id']}/head", headers=read_only, body=b"x").status_code == 403
    assert client.http.delete(f"{DCS}/files/{f['id']}", headers=read_only).status_code == 403


def test_device_downloads_only_what_its_open_tasks_reference(client):
    # Given two devices and two files, a task for dev-1 naming file A's revision and file B's head
    token1, token2 = make_device("dev-1"), make_device("dev-2")
    a = file_with_head(client, "/dev-1/a.json", SAMPLE)
    b = file_with_head(client, "/dev-1/b.json", b"b")
    c = file_with_head(client, "/other/c.json", b"c")
    task = create_task(client, "dev-1", [{"name": "a", "uri": content_uri(a["id"], a["head"])},
                                         {"name": "b", "uri": head_uri(b["id"])}])
    a_content = f"{DCS}/files/{a['id']}/revisions/{a['head']}/content"
    accept = {"Accept": "*/*"}
    # While CREATED the task is not open: the device cannot download
    assert client.http.get(a_content, headers={**bearer(token1), **accept}).status_code == 404
    release(client, "dev-1", task["id"])
    # Then dev-1 downloads with Bearer and with TargetToken
    got = client.http.get(a_content, headers={**bearer(token1), **accept})
    assert got.status_code == 200 and got.body == SAMPLE
    assert client.http.get(a_content, headers={"Authorization": f"TargetToken {token1}", **accept}).body == SAMPLE
    assert client.http.get(f"{DCS}/files/{b['id']}/head", headers={**bearer(token1), **accept}).body == b"b"
    assert client.http.get(f"{DCS}/files/{a['id']}/revisions/{a['head']}", headers=bearer(token1)).status_code == 200
    # but not a file the task does not name, and dev-2 nothing at all
    assert client.http.get(f"{DCS}/files/{c['id']}/head", headers={**bearer(token1), **accept}).status_code == 404
    assert client.http.get(a_content, headers={**bearer(token2), **accept}).status_code == 404
    # without or with a wrong token: 401
    assert client.http.get(a_content, headers=accept).status_code == 401
    wrong = client.http.get(a_content, headers={**bearer("wrong-token"), **accept})
    assert wrong.status_code == 401 and error_code(wrong) == "mdsp.core.deviceconfiguration.unauthorized"
    # devices may not use operator endpoints
    assert client.http.get(f"{DCS}/files?pathPrefix=/", headers=bearer(token1)).status_code == 403
    assert client.http.patch(f"{DCS}/files/{a['id']}/head", headers=bearer(token1), body=b"x").status_code == 403


def test_bytes_go_through_the_projects_s3_adapter(client, monkeypatch):
    from chalicelib.store import blobs
    from chalicelib.store import config_files as store
    calls = []

    def spy(name):
        original = getattr(blobs, name)

        def recorded(key, *args, **kwargs):
            calls.append((name, key))
            return original(key, *args, **kwargs)
        return recorded

    for name in ("put_bytes", "get_bytes", "delete"):
        monkeypatch.setattr(blobs, name, spy(name))
    f = file_with_head(client, "/d/adapter", SAMPLE)
    key = f"DEFAULT/config-files/{f['head']}"
    assert client.http.get(f"{DCS}/files/{f['id']}/head", headers={**ADMIN, "Accept": "*/*"}).body == SAMPLE
    assert client.http.delete(f"{DCS}/files/{f['id']}", headers=ADMIN).status_code == 204
    assert calls == [("put_bytes", key), ("get_bytes", key), ("delete", key)]
    assert blobs.head(key) is None
    assert not hasattr(store, "aws")  # no S3 client of its own


def test_headers_are_read_case_insensitively_from_the_request(client):
    from chalicelib.api import dcs_wire
    # no header lookup of its own (auth has one; chalice's request headers are case-insensitive already)
    assert not hasattr(dcs_wire, "header")
    created = create_file(client, "/d/case")
    resp = client.http.patch(f"{DCS}/files/{created['id']}/head", body=SAMPLE,
                             headers={**ADMIN, "CONTENT-TYPE": "application/json"})
    assert resp.status_code == 200
    head = body(resp)["head"]
    stale = client.http.patch(f"{DCS}/files/{created['id']}/head", body=b"{}",
                              headers={**ADMIN, "content-type": "application/json", "IF-MATCH": '"stale"'})
    assert stale.status_code == 412
    got = client.http.get(f"{DCS}/files/{created['id']}/head", headers={**ADMIN, "ACCEPT": "text/plain"})
    assert got.status_code == 406
    resp = client.http.post(f"{DCS}/files/{created['id']}/revisions", body=b"abc",
                            headers={**ADMIN, "cOnTeNt-TyPe": "text/plain"})
    assert resp.status_code == 201 and body(resp)["contentType"] == "text/plain"
    content = client.http.get(f"{DCS}/files/{created['id']}/revisions/{head}/content",
                              headers={**ADMIN, "accept": "application/json"})
    assert content.status_code == 200 and content.body == SAMPLE
