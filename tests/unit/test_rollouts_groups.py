"""A rollout's groups and which targets each takes (chalicelib/domain/rollout_groups.py), as hawkBit fills them."""
import pytest

from chalicelib import errors
from chalicelib.domain import rollout_groups as rg
from chalicelib.domain import rollout_spec
from chalicelib.domain import rollouts as r
from chalicelib.domain.rollout_groups import signature as sig

BASE = {"name": "r", "targetFilterQuery": "name==*", "distributionSetId": 7}


def make(body: dict, confirmation_flow: bool = False) -> tuple[r.Rollout, list[r.RolloutGroup]]:
    parsed = rollout_spec.rollout_spec({**BASE, **body})
    rollout = r.new_rollout("T", 5, parsed, 1, "amy")
    ids = list(range(100, 100 + rg.group_count(parsed)))
    return rollout, rg.groups_of(rollout, parsed, ids, confirmation_flow, 1)


def test_amount_groups_are_named_group_n_with_equal_percentages_and_the_rollouts_conditions():
    _, groups = make({"amountGroups": 4, "successCondition": {"expression": "80"}, "confirmationRequired": True})
    assert [(g.name, g.description, g.position, g.id) for g in groups] == [
        (f"group-{i + 1}", f"group-{i + 1}", i, 100 + i) for i in range(4)]
    assert [g.target_percentage for g in groups] == [25.0] * 4
    assert all((g.status, g.target_filter_query, g.dynamic) == ("CREATING", "", False) for g in groups)
    assert all((g.success_expression, g.success_action, g.error_expression) == ("80", "NEXTGROUP", "50")
               for g in groups)
    assert all(g.confirmation_required for g in groups)
    assert groups[2].sk == r.group_sk(5, 2)


def test_confirmation_defaults_to_the_tenants_confirmation_flow():
    _, groups = make({"amountGroups": 2}, confirmation_flow=True)
    assert all(g.confirmation_required for g in groups)
    _, groups = make({"groups": [{"name": "a", "confirmationRequired": False}, {"name": "b"}],
                      "confirmationRequired": True}, confirmation_flow=False)
    assert [g.confirmation_required for g in groups] == [False, True]


def test_explicit_groups_keep_their_own_fields_and_fill_the_rest_from_the_rollout():
    _, groups = make({"errorCondition": {"expression": "10"}, "groups": [
        {"name": "canary", "description": "few", "targetFilterQuery": "tag==canary",
         "successAction": {"action": "PAUSE"}},
        {"name": "rest", "targetPercentage": 50}]})
    canary, rest = groups
    assert (canary.name, canary.description, canary.target_filter_query, canary.target_percentage) == (
        "canary", "few", "tag==canary", 100.0)
    assert (canary.success_action, canary.error_expression, rest.success_action) == ("PAUSE", "10", "NEXTGROUP")
    assert (rest.target_filter_query, rest.target_percentage) == ("", 50.0)


def test_a_dynamic_template_adds_a_ready_dynamic_group_after_the_static_ones():
    _, groups = make({"amountGroups": 2, "dynamic": True, "dynamicGroupTemplate": {"nameSuffix": "-dyn",
                                                                                    "targetCount": 30}})
    assert [(g.name, g.dynamic, g.status) for g in groups] == [
        ("group-1", False, "CREATING"), ("group-2", False, "CREATING"), ("group-3-dyn", True, "READY")]
    assert groups[2].target_percentage == 30.0  # a dynamic group keeps its target count there (hawkBit)
    rollout, only_dynamic = make({"amountGroups": 0, "dynamic": True, "dynamicGroupTemplate": {"targetCount": 5}})
    assert [g.name for g in only_dynamic] == ["group-1"]
    following = rg.next_dynamic_group(rollout, groups[2], 200, r.GroupStatus.SCHEDULED, 9)
    assert (following.name, following.position, following.target_percentage, following.status, following.id) == (
        "group-4-dyn", 3, 30.0, "SCHEDULED", 200)
    after_static = rg.next_dynamic_group(rollout, r.RolloutGroup(
        tenant="T", sk="x", id=1, rollout_id=5, position=1, name="group-2", total_targets=12), 201,
        r.GroupStatus.READY, 9)
    assert (after_static.name, after_static.target_percentage, after_static.dynamic) == ("group-3", 12.0, True)
    assert rg.dynamic_room(groups[2]) == 30
    groups[2].total_targets = 29
    assert rg.dynamic_room(groups[2]) == 1


def test_the_group_ids_must_fit_the_groups():
    parsed = rollout_spec.rollout_spec({**BASE, "amountGroups": 3})
    with pytest.raises(ValueError):
        rg.groups_of(r.new_rollout("T", 5, parsed, 1, "amy"), parsed, [1, 2], False, 1)


def test_a_percentage_is_of_what_is_left_among_groups_with_the_same_filter():
    _, four = make({"amountGroups": 4})
    assert [round(rg.percent_of_rest(four, i), 2) for i in range(4)] == [25.0, 33.33, 50.0, 100.0]
    _, mixed = make({"groups": [{"name": "a", "targetPercentage": 10}, {"name": "b", "targetFilterQuery": "x==1",
                                                                        "targetPercentage": 50},
                                {"name": "c", "targetPercentage": 20}, {"name": "d", "targetPercentage": 90}]})
    assert [round(rg.percent_of_rest(mixed, i), 2) for i in range(4)] == [10.0, 50.0, 22.22, 100.0]


def test_java_rounding_takes_halves_up():
    assert [rg.java_round(v) for v in (2.5, 3.5, 2.49, -0.5)] == [3, 4, 2, 0]


def test_amount_groups_split_all_targets_with_the_last_group_taking_the_rest():
    _, groups = make({"amountGroups": 4})
    allocation = rg.allocate(groups, {sig(range(4)): 10})
    assert (allocation.sizes, allocation.unassigned, allocation.total) == ([3, 2, 3, 2], 0, 10)
    rg.check_allocation(allocation, 4, 10)


def test_groups_with_filters_take_their_targets_first_and_a_catch_all_takes_the_rest():
    _, groups = make({"groups": [{"name": "canary", "targetFilterQuery": "tag==canary"}, {"name": "rest"}]})
    allocation = rg.allocate(groups, {sig([0, 1]): 5, sig([1]): 95})
    assert allocation.sizes == [5, 95] and allocation.unassigned == 0
    assert allocation.shares[0] == {sig([0, 1]): 5}


def test_a_group_takes_the_targets_fewer_later_groups_could_take_first():
    _, groups = make({"groups": [{"name": "a", "targetPercentage": 50}, {"name": "b", "targetFilterQuery": "x==1"}]})
    # 4 targets match both groups' filters, 4 only the first group's: a takes half of all 8, the 4 only it can take
    allocation = rg.allocate(groups, {sig([0, 1]): 4, sig([0]): 4})
    assert allocation.shares == [{sig([0]): 4}, {sig([0, 1]): 4}]
    assert allocation.unassigned == 0


def test_targets_left_in_no_group_refuse_the_rollout():
    _, groups = make({"groups": [{"name": "a", "targetPercentage": 10}, {"name": "b", "targetPercentage": 20}]})
    allocation = rg.allocate(groups, {sig([0, 1]): 100})
    assert (allocation.sizes, allocation.unassigned) == ([10, 20], 70)
    with pytest.raises(errors.ConstraintViolation) as caught:
        rg.check_allocation(allocation, None, 100)
    assert caught.value.message == "Rollout groups don't match all targets that are targeted by the rollout"
    _, filtered = make({"groups": [{"name": "a", "targetFilterQuery": "x==1"}]})
    assert rg.allocate(filtered, {sig([]): 3, sig([0]): 2}).unassigned == 3


def test_no_matching_target_refuses_the_rollout():
    _, groups = make({"amountGroups": 2})
    with pytest.raises(errors.ConstraintViolation) as caught:
        rg.check_allocation(rg.allocate(groups, {}), 2, 0)
    assert caught.value.message == "Rollout does not match any existing targets"


def test_a_group_past_20000_targets_is_a_quota():
    _, groups = make({"amountGroups": 5})
    rg.check_allocation(rg.allocate(groups, {sig(range(5)): 100_000}), 5, 100_000)
    _, four = make({"amountGroups": 4})
    with pytest.raises(errors.QuotaExceeded):  # hawkBit checks total / amountGroups: 25,000
        rg.check_allocation(rg.allocate(four, {sig(range(4)): 100_000}), 4, 100_000)
    _, explicit = make({"groups": [{"name": "a", "targetPercentage": 10}, {"name": "b"}]})
    with pytest.raises(errors.QuotaExceeded):
        rg.check_allocation(rg.allocate(explicit, {sig([0, 1]): 30_000}), None, 30_000)


def test_the_placer_hands_out_each_signatures_share_in_group_order_and_survives_a_round_trip():
    _, groups = make({"amountGroups": 2})
    placer = rg.Placer.of(rg.allocate(groups, {sig([0, 1]): 3}))
    assert placer.place(sig([0, 1])) == 0
    resumed = rg.Placer.from_state(placer.state())
    assert [resumed.place(sig([0, 1])) for _ in range(3)] == [0, 1, None]
    assert resumed.place(sig([1])) is None
    assert resumed.state() == [[], []]
