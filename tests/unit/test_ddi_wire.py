"""DDI content negotiation and CBOR decoding (api.ddi_wire), without HTTP."""
import cbor2
import pytest

from chalicelib import errors
from chalicelib.api import ddi_wire


@pytest.mark.parametrize("accept, media", [
    (None, ddi_wire.HAL_JSON), ("", ddi_wire.HAL_JSON), ("*/*", ddi_wire.HAL_JSON),
    ("application/*", ddi_wire.HAL_JSON), ("application/*+json", ddi_wire.HAL_JSON),
    ("application/json", ddi_wire.JSON), ("APPLICATION/CBOR", ddi_wire.CBOR),
    ("text/plain", None), ("text/*", None), ("application/xml", None), ("application/cbor;q=0", None),
    ("application/json;q=0.5, application/cbor", ddi_wire.CBOR),
    ("*/*, application/cbor", ddi_wire.CBOR),  # the more specific range first at equal quality
    ("application/json, application/cbor", ddi_wire.JSON),  # equal: as given
    ("application/cbor;q=abc", ddi_wire.CBOR),  # an unreadable quality counts as 1
])
def test_negotiate(accept, media):
    assert ddi_wire.negotiate(accept) == media


def test_decode_cbor_takes_exactly_one_item():
    assert ddi_wire.decode_cbor(cbor2.dumps({"a": [1, "b", None]})) == {"a": [1, "b", None]}
    for raw in (b"\xa1", cbor2.dumps(1) + cbor2.dumps(2), b"\x1f", b"\xbf\x61a"):
        with pytest.raises(errors.BodyNotReadable):
            ddi_wire.decode_cbor(raw)


def test_deeply_nested_cbor_is_refused_not_crashed():
    with pytest.raises(errors.BodyNotReadable):
        ddi_wire.decode_cbor(b"\x81" * 100_000 + b"\x00")


def test_ddi_paths():
    assert ddi_wire.is_ddi_path("/DEFAULT/controller/v1/dev/confirmationBase")
    assert not ddi_wire.is_ddi_path("/rest/v1/targets") and not ddi_wire.is_ddi_path("/api/deviceconfiguration/v3/x")
