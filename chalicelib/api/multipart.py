"""multipart/form-data bodies, parsed with the standard library's email parser.

app.py lists multipart/form-data among the binary types, so chalice hands over the raw bytes
(`current_request.raw_body`); the parser keeps binary parts byte-exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib import errors


@dataclass(frozen=True)
class FilePart:
    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, FilePart] = field(default_factory=dict)


def parse_form(content_type: str | None, body: bytes | None) -> Form:
    """Parse a multipart/form-data body; anything else is a 400 (body not readable)."""
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise errors.BodyNotReadable("The request must be multipart/form-data with a 'file' part.")
    if not isinstance(body, (bytes, bytearray)) or not body:
        raise errors.BodyNotReadable("The multipart request body is empty.")
    try:
        header = content_type.encode("latin-1")  # HTTP header values are Latin-1 at most
    except UnicodeEncodeError as exc:
        raise errors.BodyNotReadable("The Content-Type header contains characters outside Latin-1.") from exc
    try:
        return _parse(header, bytes(body))
    except (LookupError, UnicodeError) as exc:  # e.g. `charset=bogus` on a part
        raise errors.BodyNotReadable(f"The multipart request body cannot be decoded: {exc}.") from exc


def _parse(content_type: bytes, body: bytes) -> Form:
    import email.parser  # only uploads need the (slow to import) email package
    import email.policy

    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise errors.BodyNotReadable("The multipart request body is not well formed.")
    fields: dict[str, str] = {}
    files: dict[str, FilePart] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue  # absent, or an RFC 2231 tuple no browser sends
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None or name == "file":
            files[name] = FilePart(filename, part.get_content_type(), data)
        else:
            fields[name] = data.decode(part.get_content_charset() or "utf-8", errors="replace")
    return Form(fields, files)
