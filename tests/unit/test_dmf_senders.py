"""Who may send a tenant's DMF messages (chalicelib/domain/dmf.py: sender_ids, sender_allowed; the key
`dmf.senders` in chalicelib/domain/tenant_keys.py)."""
import pytest

from chalicelib.domain import dmf, tenant_keys

ROLE = "AROAEXAMPLEGATEWAY123"
USER = "AIDAEXAMPLEUSER000001"


def test_entries_are_separated_by_commas_or_white_space():
    assert dmf.sender_ids(f" {USER},{ROLE}:gw-1\n123456789012 ,, ") == (USER, f"{ROLE}:gw-1", "123456789012")
    assert dmf.sender_ids("") == ()


@pytest.mark.parametrize("bad", ["arn:aws:iam::123456789012:role/gw", "AIDA*", "x" * 129, "AIDA\u00e9"])
def test_what_cannot_be_a_sender_id_is_refused(bad):
    with pytest.raises(ValueError):
        dmf.sender_ids(f"{USER} {bad}")
    with pytest.raises(tenant_keys.InvalidValue):
        tenant_keys.coerce(tenant_keys.KEYS["dmf.senders"], bad)


@pytest.mark.parametrize("allowed, sender, required, expected", [
    ("", "anyone", False, True),
    ("", None, False, True),
    ("", "anyone", True, False),
    (USER, USER, True, True),
    (USER, USER + "2", False, False),
    (USER, None, False, False),
    (USER, "", False, False),
    (ROLE, f"{ROLE}:any-session", False, True),
    (f"{ROLE}:gw-1", f"{ROLE}:gw-1", False, True),
    (f"{ROLE}:gw-1", f"{ROLE}:gw-2", False, False),
    (f"{ROLE}:gw-1", ROLE, False, False),
    (f"{USER} {ROLE}", f"{ROLE}:x", False, True),
])
def test_sender_allowed(allowed, sender, required, expected):
    assert dmf.sender_allowed(allowed, sender, required) is expected


def test_the_key_is_a_text_defaulting_to_empty():
    key = tenant_keys.KEYS["dmf.senders"]
    assert (key.kind, key.default) == (str, "")
    assert tenant_keys.coerce(key, f"{USER}, {ROLE}") == f"{USER}, {ROLE}"
