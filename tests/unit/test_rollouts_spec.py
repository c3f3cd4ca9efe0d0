"""The create body of a rollout (chalicelib/domain/rollout_spec.py): hawkBit's defaults, rules and refusals."""
import pytest

from chalicelib import errors
from chalicelib.domain import rollout_spec as spec
from chalicelib.domain.rollout_spec import Conditions, RateControl

BASE = {"name": "r1", "targetFilterQuery": "name==dev-*", "distributionSetId": 7}


def parse(**fields):
    return spec.rollout_spec({**BASE, **fields})


def refused(error_class, **fields) -> errors.SkyhawkError:
    with pytest.raises(error_class) as caught:
        parse(**fields)
    assert type(caught.value) is error_class
    return caught.value


def test_a_minimal_body_is_one_forced_group_with_hawkbits_default_conditions():
    parsed = spec.rollout_spec(BASE)
    assert (parsed.name, parsed.target_filter_query, parsed.ds_id) == ("r1", "name==dev-*", 7)
    assert (parsed.amount_groups, parsed.groups, parsed.action_type, parsed.dynamic) == (1, (), "forced", False)
    assert parsed.conditions == Conditions("THRESHOLD", "50", "NEXTGROUP", "", "THRESHOLD", "50", "PAUSE", "")
    assert (parsed.weight, parsed.start_at, parsed.confirmation_required, parsed.rate_control) == (None,) * 4


def test_a_body_that_is_no_object_is_not_readable():
    with pytest.raises(errors.BodyNotReadable):
        spec.rollout_spec(["r1"])


@pytest.mark.parametrize("value", [None, "", "  "])
def test_a_missing_or_blank_filter_is_hawkbits_rsql_syntax_error(value):
    body = {**BASE, "targetFilterQuery": value}
    with pytest.raises(errors.RsqlSyntax) as caught:
        spec.rollout_spec(body)
    assert caught.value.code == "hawkbit.server.error.rest.param.rsqlParamSyntax"


def test_filter_type_and_length_are_checked():
    refused(errors.BodyNotReadable, targetFilterQuery=5)
    refused(errors.ConstraintViolation, targetFilterQuery="x" * 1025)
    assert parse(targetFilterQuery="x" * 1024).target_filter_query == "x" * 1024


def test_name_is_required_and_at_most_128_characters():
    with pytest.raises(errors.ConstraintViolation):
        spec.rollout_spec({k: v for k, v in BASE.items() if k != "name"})
    refused(errors.ConstraintViolation, name="n" * 129)
    refused(errors.ConstraintViolation, description="d" * 513)


def test_groups_and_amount_groups_exclude_each_other_and_groups_exclude_dynamic():
    error = refused(errors.ConstraintViolation, groups=[{"name": "g"}], amountGroups=2)
    assert error.message == "If 'group' is set the 'amountGroups' must not be set in the request"
    error = refused(errors.ConstraintViolation, groups=[{"name": "g"}], dynamic=True)
    assert error.message == "Dynamic rollouts are not supported with groups"
    assert refused(errors.ConstraintViolation, groups=[]).message == "The amount of groups cannot be 0"
    refused(errors.BodyNotReadable, groups={"name": "g"})


def test_at_most_500_groups_is_a_quota():
    assert parse(amountGroups=500).amount_groups == 500
    error = refused(errors.QuotaExceeded, amountGroups=501)
    assert (error.status, error.code) == (403, "hawkbit.server.error.quota.tooManyEntries")
    refused(errors.QuotaExceeded, groups=[{"name": f"g{i}"} for i in range(501)])


def test_zero_groups_need_a_dynamic_template_and_a_template_needs_a_dynamic_rollout():
    refused(errors.ConstraintViolation, amountGroups=-1)
    refused(errors.ConstraintViolation, amountGroups=0)
    template = {"nameSuffix": "-dyn", "targetCount": 20}
    parsed = parse(amountGroups=0, dynamic=True, dynamicGroupTemplate=template)
    assert (parsed.amount_groups, parsed.dynamic_group_suffix, parsed.dynamic_group_size) == (0, "-dyn", 20)
    error = refused(errors.ConstraintViolation, dynamicGroupTemplate=template)
    assert error.message == "Dynamic group template is only allowed for dynamic rollouts"
    refused(errors.ConstraintViolation, dynamic=True, dynamicGroupTemplate={"targetCount": 0})
    assert parse(dynamic=True, dynamicGroupTemplate={"targetCount": 3}).dynamic_group_suffix == ""


def test_type_forcetime_and_weight():
    refused(errors.BodyNotReadable, type="FORCED")
    refused(errors.ConstraintViolation, type="timeforced")
    assert parse(type="timeforced", forcetime=5).force_time == 5
    assert parse(type="soft", forcetime=5).force_time is None  # only a time-forced action has a force time
    assert parse(type="downloadonly").action_type == "downloadonly"
    assert parse(weight=0).weight == 0 and parse(weight=1000).weight == 1000
    refused(errors.ConstraintViolation, weight=1001)
    refused(errors.BodyNotReadable, weight="5")
    refused(errors.BodyNotReadable, startAt=1.5)
    refused(errors.BodyNotReadable, dynamic="yes")
    assert parse(startAt=1700000000000, confirmationRequired=True).start_at == 1700000000000


def test_a_condition_object_without_expression_means_100_and_replaces_the_default():
    parsed = parse(successCondition={}, errorCondition={"condition": "THRESHOLD"})
    assert (parsed.conditions.success_expression, parsed.conditions.error_expression) == ("100", "100")
    parsed = parse(successCondition={"expression": "80"}, errorCondition={"expression": 20},
                   successAction={"action": "PAUSE"}, errorAction={"expression": "x"})
    assert parsed.conditions == Conditions("THRESHOLD", "80", "PAUSE", None, "THRESHOLD", "20", "PAUSE", "x")
    assert parse(successCondition=None).conditions == spec.DEFAULT_CONDITIONS


@pytest.mark.parametrize("expression", ["abc", "50.5", "101", "-1", True, ""])
def test_a_threshold_must_be_a_whole_percentage(expression):
    refused(errors.ConstraintViolation, successCondition={"expression": expression})


def test_unknown_conditions_and_actions_are_not_readable():
    refused(errors.BodyNotReadable, successCondition={"condition": "PERCENT"})
    refused(errors.BodyNotReadable, errorAction={"action": "NEXTGROUP"})
    refused(errors.BodyNotReadable, successAction={"action": "STOP"})
    refused(errors.BodyNotReadable, successCondition="50")
    refused(errors.ConstraintViolation, successAction={"expression": "e" * 513})


def test_a_group_fills_what_it_does_not_say_from_the_rollout_level_field_by_field():
    parsed = parse(successCondition={"expression": "90"}, groups=[
        {"name": "canary", "targetFilterQuery": "tag==canary", "targetPercentage": 50,
         "successCondition": {"expression": "70"}, "errorAction": {}},
        {"name": "rest"}])
    canary, rest = parsed.groups
    assert (canary.target_filter_query, canary.target_percentage) == ("tag==canary", 50.0)
    assert canary.conditions == Conditions("THRESHOLD", "70", None, None, None, None, "PAUSE", None)
    assert canary.conditions.filled_from(parsed.conditions) == Conditions(
        "THRESHOLD", "70", "NEXTGROUP", "", "THRESHOLD", "50", "PAUSE", "")
    assert (rest.target_filter_query, rest.target_percentage, rest.conditions) == (None, 100.0, Conditions())
    assert rest.conditions.filled_from(parsed.conditions) == parsed.conditions


@pytest.mark.parametrize("percentage", [0.5, 0, 100.1, -5])
def test_a_group_percentage_lies_between_1_and_100(percentage):
    error = refused(errors.ConstraintViolation, groups=[{"name": "g", "targetPercentage": percentage}])
    assert error.message == "Target percentage has to be between 1 and 100"


def test_group_fields_are_checked():
    refused(errors.BodyNotReadable, groups=[{"name": "g", "targetPercentage": "50"}])
    refused(errors.ConstraintViolation, groups=[{"targetPercentage": 50}])
    refused(errors.ConstraintViolation, groups=[{"name": "g"}, {"name": "g"}])
    refused(errors.BodyNotReadable, groups=["g"])
    refused(errors.BodyNotReadable, groups=[{"name": "g", "targetFilterQuery": 1}])
    refused(errors.BodyNotReadable, groups=[{"name": "g", "confirmationRequired": "no"}])
    assert parse(groups=[{"name": "g", "targetFilterQuery": ""}]).groups[0].target_filter_query is None


def test_rate_control_and_its_exponential_ramp():
    assert parse(rateControl={"maximumPerMinute": 100}).rate_control == RateControl(100)
    ramp = {"baseRatePerMinute": 10, "incrementFactor": 2, "rateIncreaseCriteria": {"numberOfSucceededActions": 50}}
    assert parse(rateControl={"maximumPerMinute": 100, "exponentialRate": ramp}).rate_control == RateControl(
        100, 10, 2.0, 50, "succeeded")
    started = {**ramp, "rateIncreaseCriteria": {"numberOfStartedActions": 5}}
    assert parse(rateControl={"maximumPerMinute": 100, "exponentialRate": started}).rate_control.increase_on \
        == "started"


@pytest.mark.parametrize("rate", [
    {}, {"maximumPerMinute": 0}, {"maximumPerMinute": 1_000_001},
    {"maximumPerMinute": 10, "exponentialRate": {"baseRatePerMinute": 11, "incrementFactor": 2,
                                                 "rateIncreaseCriteria": {"numberOfStartedActions": 1}}},
    {"maximumPerMinute": 10, "exponentialRate": {"baseRatePerMinute": 1, "incrementFactor": 1.0,
                                                 "rateIncreaseCriteria": {"numberOfStartedActions": 1}}},
    {"maximumPerMinute": 10, "exponentialRate": {"baseRatePerMinute": 1, "incrementFactor": 2,
                                                 "rateIncreaseCriteria": {}}},
    {"maximumPerMinute": 10, "exponentialRate": {"baseRatePerMinute": 1, "incrementFactor": 2, "rateIncreaseCriteria": {
        "numberOfStartedActions": 1, "numberOfSucceededActions": 1}}},
])
def test_bad_rate_control_is_refused(rate):
    refused(errors.ConstraintViolation, rateControl=rate)


def test_action_timeout_minutes():
    assert parse(actionTimeout={"inProgressMinutes": 60}).action_timeout_minutes == 60
    refused(errors.ConstraintViolation, actionTimeout={"inProgressMinutes": 0})
    refused(errors.ConstraintViolation, actionTimeout={"inProgressMinutes": 10081})
    refused(errors.ConstraintViolation, actionTimeout={})
    refused(errors.BodyNotReadable, actionTimeout=60)
