"""RSQL/FIQL parsing and evaluation (pure, no AWS)."""
from __future__ import annotations

import pytest

from chalicelib import errors
from chalicelib.domain import rsql

FIELDS = {"id", "name", "version", "description", "createdat", "locked", "type", "attribute.*", "metadata.*",
          "assignedds.name", "module.name"}

ENTITY = {
    "id": 7,
    "name": "Gateway-Firmware",
    "version": "1.2.0",
    "description": "a*b",
    "createdat": 1700000000000,
    "locked": True,
    "type": "os",
    "attribute": {"hwRev": "B2", "serial": "123"},
    "metadata": {"Color": "red"},
    "assignedds.name": "ds-one",
    "module.name": ["kernel", "rootfs"],
}


def matches(q: str, entity: dict = ENTITY) -> bool:
    return rsql.parse(q, FIELDS).matches(rsql.dict_lookup(entity))


@pytest.mark.parametrize("q,expected", [
    ("name==Gateway-Firmware", True),
    ("name==gateway-firmware", True),          # case-insensitive values
    ("NAME==Gateway-Firmware", True),          # case-insensitive fields
    ("name!=Gateway-Firmware", False),
    ("name==Gate*", True),
    ("name==*firm*", True),
    ("name==*Box", False),
    ("name!=*Box", True),
    ("description==a\\*b", True),               # escaped star is literal
    ("description==a\\*c", False),
    ("description=='a\\*b'", True),
    ("name=li=gate%", True),
    ("name=li=gate_ay*", True),
    ("name=li=gate_y*", False),
    ("id==7", True),
    ("id=gt=6", True),
    ("id=ge=7;id=le=7", True),
    ("id=lt=7", False),
    ("id>6", True),
    ("id<=6", False),
    ("createdat=gt=1600000000000", True),
    ("version=gt=1.10", True),                  # text compares as text
    ("locked==true", True),
    ("locked==false", False),
    ("type=in=(os,application)", True),
    ("type=in=os", True),
    ("type=out=(os,application)", False),
    ("type=out=(runtime)", True),
    ('name=="Gateway-Firmware"', True),
    ("name=='Gateway-Firmware'", True),
    ("name==Gateway-Firmware;version==1.2.0", True),
    ("name==Gateway-Firmware and version==2", False),
    ("name==x,version==1.2.0", True),
    ("name==x or version==1.2.0", True),
    ("(name==x,name==y);id==7", False),
    ("(name==x,name==Gateway*);id==7", True),
    ("name==x,name==y;id==7", False),            # ';' binds tighter than ','
    ("id==7,name==x;id==8", True),
    ("attribute.hwrev==B2", True),
    ("attribute.hwRev==b2", True),
    ("attribute.missing==x", False),
    ("attribute.missing!=x", True),
    ("metadata.color==red", True),
    ("assignedds.name==ds-one", True),
    ("module.name==rootfs", True),              # any element of a multi-valued field
    ("module.name!=rootfs", False),             # none may match
    ("module.name!=other", True),
    ("module.name=in=(x,kernel)", True),
    ("  name == Gateway-Firmware  ", True),
])
def test_evaluation(q, expected):
    assert matches(q) is expected


def test_quoted_value_keeps_reserved_characters():
    entity = {**ENTITY, "name": "a, b; (c)"}
    assert matches('name=="a, b; (c)"', entity)
    assert matches("name=='a, b; (c)'", entity)


def test_quoted_value_with_escaped_quote():
    entity = {**ENTITY, "name": 'say "hi"'}
    assert matches('name=="say \\"hi\\""', entity)


def test_comparison_exposes_field_and_arguments():
    node = rsql.parse("Name==abc*", FIELDS)
    assert isinstance(node, rsql.Comparison)
    assert node.field == "name" and node.operator == "==" and node.arguments == ["abc*"]
    assert rsql.parse("name==a;id==1", FIELDS).fields() == {"name", "id"}


@pytest.mark.parametrize("q", ["unknown==1", "attributes.x==1", "assignedds.version==1", "attribute==1"])
def test_unknown_field_is_invalid_field(q):
    with pytest.raises(errors.RsqlInvalidField) as caught:
        rsql.parse(q, FIELDS)
    assert caught.value.status == 400
    assert caught.value.code == "hawkbit.server.error.rest.param.rsqlInvalidField"


@pytest.mark.parametrize("q", [
    "", "   ", "name", "name==", "name==a;", ";name==a", "name==a,", "(name==a", "name==a)", "name=xx=a",
    "name=in=(a,b", "name==(a,b)", "name=='a", "==a", "name==a b", "name==a andy==b", "name~=a",
])
def test_bad_syntax(q):
    with pytest.raises(errors.RsqlSyntax) as caught:
        rsql.parse(q, FIELDS)
    assert caught.value.code == "hawkbit.server.error.rest.param.rsqlParamSyntax"


def test_lookup_receives_lower_cased_path():
    seen = []
    rsql.parse("Attribute.HwRev==x", FIELDS).matches(lambda path: seen.append(path))
    assert seen == ["attribute.hwrev"]


@pytest.mark.parametrize("q,value,expected", [
    ("name==*a*a*a*a*a*a*b", "a" * 60, False),
    ("name==*a*a*a*a*a*a*b", "a" * 60 + "b", True),
    ("name=li=%a%a%a%a%a%a%b", "a" * 60, False),
    ("name=li=%a_a%a_a%a_a%b", "a" * 60, False),
    ("name=li=*a_*_a*", "a" * 5000, True),
])
def test_wildcards_match_in_linear_time(q, value, expected):
    """A backtracking regex takes seconds on these (exponential in the stars); the matcher must not."""
    import time
    started = time.perf_counter()
    for _ in range(20):
        assert matches(q, {**ENTITY, "name": value}) is expected
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("q,value,expected", [
    ("name==*", "", True),
    ("name==*", "anything", True),
    ("name==**", "x", True),
    ("name==a*", "a", True),
    ("name==*a", "a", True),
    ("name==a*a", "a", False),                 # first and last piece may not overlap
    ("name==a*a", "aa", True),
    ("name==ab*bc", "abc", False),
    ("name==ab*bc", "abbc", True),
    ("name==*ab*ab*", "xabyab", True),
    ("name==*ab*ab*", "xaby", False),
    ("name==A*B", "a-b", True),                # case-insensitive
    ("name==a\\*b*", "a*bc", True),            # escaped star stays literal
    ("name==a\\*b*", "axbc", False),
    ("name=li=a_c", "abc", True),
    ("name=li=a_c", "ac", False),
    ("name=li=a_c", "abbc", False),
    ("name=li=%b_d%", "abcde", True),
    ("name=li=%b_d", "abcde", False),
    ("name=li=_", "", False),
    ("name=li=___", "abc", True),
    ("name=li=%__%x", "abx", True),
    ("name=li=%__%x", "ax", False),
    ("name=li=%ab_ab%", "abxxab_ab", True),    # the leftmost anchor hit fails, a later one matches
    ("name=li=%a%", "line\nbreak a", True),
])
def test_wildcard_semantics(q, value, expected):
    assert matches(q, {**ENTITY, "name": value}) is expected


def test_deep_nesting_is_a_syntax_error_not_a_crash():
    with pytest.raises(errors.RsqlSyntax):
        rsql.parse("(" * 400 + "name==a" + ")" * 400, FIELDS)
    nested = "(" * rsql.MAX_DEPTH + "name==Gateway-Firmware" + ")" * rsql.MAX_DEPTH
    assert matches(nested)
    with pytest.raises(errors.RsqlSyntax):
        rsql.parse("(" * (rsql.MAX_DEPTH + 1) + "name==a" + ")" * (rsql.MAX_DEPTH + 1), FIELDS)


def test_overlong_query_is_a_syntax_error():
    q = "name==" + "a" * (rsql.MAX_LENGTH - len("name=="))
    assert rsql.parse(q, FIELDS)
    with pytest.raises(errors.RsqlSyntax) as caught:
        rsql.parse(q + "a", FIELDS)
    assert caught.value.status == 400
