"""The body of `POST /rest/v1/rollouts` (hawkBit MgmtRolloutRestRequestBodyPost) as a parsed spec, or the refusal.

hawkBit's rules (docs/rollouts-hawkbit.md, "Creating a rollout"): a name, a target filter, either `amountGroups`
(default 1) or `groups`, never both, and never `groups` with `dynamic`; at most 500 groups; a group's
`targetPercentage` within [1, 100] (100 when absent). Conditions: the rollout level starts from the defaults
(success THRESHOLD 50 / NEXTGROUP, error THRESHOLD 50 / PAUSE) and a condition object given without an expression
means "100"; a group takes each of its own fields and fills the missing ones from the rollout level.

What skyhawk refuses that hawkBit lets through (README "Rollouts"): a condition expression that is
not a whole percentage (hawkBit stores it and the condition never fires), a `timeforced` rollout without
`forcetime` (as skyhawk's assignments), a dynamic group template without a positive `targetCount` (hawkBit answers
500). Past hawkBit, two optional objects: `rateControl` (new actions a minute, an exponential ramp-up, AWS IoT
Jobs' `jobExecutionsRolloutConfig`) and `actionTimeout` (an action still open that many minutes after it started
counts against the error condition, AWS IoT Jobs' `timeoutConfig`).

Filter syntax, the distribution set and the tenant's confirmation flow are the service's to check; this module
reads the body only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from chalicelib import errors
from chalicelib.domain import quotas
from chalicelib.domain.actions import ACTION_TYPES
from chalicelib.domain.numbers import is_int64
from chalicelib.lazy import lazy_import

catalog = lazy_import("chalicelib.domain.catalog")  # its text rules

NAME_MAX = 128  # hawkBit NamedEntity.NAME_MAX_SIZE
DESCRIPTION_MAX = 512
FILTER_MAX = 1024  # hawkBit TargetFilterQuery.QUERY_MAX_SIZE
EXPRESSION_MAX = 512  # hawkBit's condition and action expression columns
WEIGHT_MIN, WEIGHT_MAX = 0, 1000
PERCENT_MIN, PERCENT_MAX = 1.0, 100.0
NAME_SUFFIX_MAX = 64  # skyhawk's own bound: a dynamic group's name is "group-<n><suffix>", at most NAME_MAX
# Past hawkBit (AWS IoT Jobs' bounds where it has them)
RATE_MAX = 1_000_000
FACTOR_MIN, FACTOR_MAX = 1.1, 5.0
TIMEOUT_MINUTES_MAX = 10080  # 7 days

CONDITION_TYPES: tuple[str, ...] = ("THRESHOLD",)  # success and error conditions alike
SUCCESS_ACTIONS: tuple[str, ...] = ("NEXTGROUP", "PAUSE")
ERROR_ACTIONS: tuple[str, ...] = ("PAUSE",)
GIVEN_EXPRESSION_DEFAULT = "100"  # MgmtRolloutCondition.expression when the object omits it


@dataclass(frozen=True)
class Conditions:
    """A group's success and error rules; None: not given (a group fills it from the rollout level)."""

    success_condition: str | None = None
    success_expression: str | None = None
    success_action: str | None = None
    success_action_expression: str | None = None
    error_condition: str | None = None
    error_expression: str | None = None
    error_action: str | None = None
    error_action_expression: str | None = None

    def filled_from(self, defaults: "Conditions") -> "Conditions":
        """Each missing field taken from `defaults` (JpaRolloutManagement.prepareRolloutGroupWithDefaultConditions)."""
        return Conditions(
            **{name: value if value is not None else getattr(defaults, name) for name, value in self.__dict__.items()}
        )


DEFAULT_CONDITIONS = Conditions("THRESHOLD", "50", "NEXTGROUP", "", "THRESHOLD", "50", "PAUSE", "")


@dataclass(frozen=True)
class GroupSpec:
    name: str
    description: str | None = None
    target_filter_query: str | None = None
    target_percentage: float = PERCENT_MAX
    confirmation_required: bool | None = None
    conditions: Conditions = field(default_factory=Conditions)


@dataclass(frozen=True)
class RateControl:
    """At most `maximum_per_minute` new actions a minute; with a ramp, `base_per_minute` first, multiplied by
    `increment_factor` each time another `increase_every` actions started (or succeeded), up to the maximum."""

    maximum_per_minute: int
    base_per_minute: int | None = None
    increment_factor: float | None = None
    increase_every: int | None = None
    increase_on: str | None = None  # "started" | "succeeded"


@dataclass(frozen=True)
class RolloutSpec:
    name: str
    target_filter_query: str
    ds_id: int
    description: str | None = None
    action_type: str = "forced"
    force_time: int | None = None
    start_at: int | None = None
    weight: int | None = None
    dynamic: bool = False
    dynamic_group_suffix: str | None = None
    dynamic_group_size: int | None = None
    confirmation_required: bool | None = None
    amount_groups: int | None = None  # None with explicit groups
    groups: tuple[GroupSpec, ...] = ()
    conditions: Conditions = DEFAULT_CONDITIONS
    rate_control: RateControl | None = None
    action_timeout_minutes: int | None = None


def rollout_spec(body: Any) -> RolloutSpec:
    body = catalog._object(body, "rollout")
    target_filter = body.get("targetFilterQuery")
    if target_filter is None or (isinstance(target_filter, str) and not target_filter.strip()):
        # hawkBit answers a missing filter with the RSQL syntax error, "due to backwards compatibility"
        raise errors.RsqlSyntax("Cannot create a Rollout with an empty target query filter!", ["targetFilterQuery"])
    if not isinstance(target_filter, str):
        raise errors.BodyNotReadable("'targetFilterQuery' must be a string.", ["targetFilterQuery"])
    _max_length(target_filter, FILTER_MAX, "targetFilterQuery")
    dynamic = bool(catalog._flag(body, "dynamic", False))
    groups_raw = body.get("groups")
    amount = _integer(body, "amountGroups")
    suffix, size = _dynamic_template(body.get("dynamicGroupTemplate"))
    groups: tuple[GroupSpec, ...] = ()
    if groups_raw is not None:
        if dynamic:
            raise errors.ConstraintViolation("Dynamic rollouts are not supported with groups", ["groups"])
        if amount is not None:
            raise errors.ConstraintViolation(
                "If 'group' is set the 'amountGroups' must not be set in the request", ["amountGroups"]
            )
        if not isinstance(groups_raw, list):
            raise errors.BodyNotReadable("'groups' must be a list of group objects.", ["groups"])
        if not groups_raw:
            raise errors.ConstraintViolation("The amount of groups cannot be 0", ["groups"])
        check_group_count(len(groups_raw))
        groups = tuple(group_spec(raw) for raw in groups_raw)
        names = [g.name for g in groups]
        if len(set(names)) < len(names):
            raise errors.ConstraintViolation("Every group of a rollout needs its own name.", ["groups"])
    else:
        amount = 1 if amount is None else amount
        if amount < 0:
            raise errors.ConstraintViolation(
                "The amount of groups cannot be lower than or equal to zero for static rollouts", ["amountGroups"]
            )
        if amount == 0 and size is None:
            raise errors.ConstraintViolation(
                "When amount of groups is 0, the rollouts shall be dynamic and a dynamic "
                "group template must be provided",
                ["amountGroups"],
            )
        check_group_count(amount)
    if size is not None and not dynamic:
        raise errors.ConstraintViolation(
            "Dynamic group template is only allowed for dynamic rollouts", ["dynamicGroupTemplate"]
        )
    action_type = body.get("type")
    action_type = "forced" if action_type is None else action_type
    if action_type not in ACTION_TYPES:
        raise errors.BodyNotReadable(f"'type' must be one of {', '.join(ACTION_TYPES)}.", ["type"])
    force_time = _integer(body, "forcetime")
    if action_type == "timeforced" and force_time is None:
        raise errors.ConstraintViolation("forcetime is required for type timeforced.", ["forcetime"])
    weight = _integer(body, "weight")
    if weight is not None and not WEIGHT_MIN <= weight <= WEIGHT_MAX:
        raise errors.ConstraintViolation(f"weight must be between {WEIGHT_MIN} and {WEIGHT_MAX}.", ["weight"])
    return RolloutSpec(
        name=_name(body),
        description=catalog._text(body, "description", DESCRIPTION_MAX),
        target_filter_query=target_filter,
        ds_id=_integer(body, "distributionSetId") or 0,
        action_type=action_type,
        force_time=force_time if action_type == "timeforced" else None,
        start_at=_integer(body, "startAt"),
        weight=weight,
        dynamic=dynamic,
        dynamic_group_suffix=suffix,
        dynamic_group_size=size,
        confirmation_required=catalog._flag(body, "confirmationRequired"),
        amount_groups=amount if not groups else None,
        groups=groups,
        conditions=conditions(body, DEFAULT_CONDITIONS),
        rate_control=rate_control(body.get("rateControl")),
        action_timeout_minutes=action_timeout(body.get("actionTimeout")),
    )


@dataclass(frozen=True)
class RolloutChange:
    """PUT /rollouts/{id}: a new name and/or description (None name: kept; `has_description`: given, maybe null)."""

    name: str | None = None
    description: str | None = None
    has_description: bool = False


def rollout_change(body: Any) -> RolloutChange:
    body = catalog._object(body, "rollout")
    has_description = "description" in body
    return RolloutChange(
        name=_name(body) if body.get("name") is not None else None,
        description=catalog._text(body, "description", DESCRIPTION_MAX) if has_description else None,
        has_description=has_description,
    )


def group_spec(raw: Any) -> GroupSpec:
    body = catalog._object(raw, "rollout group")
    percentage = body.get("targetPercentage")
    if percentage is None:
        percentage = PERCENT_MAX
    if isinstance(percentage, bool) or not isinstance(percentage, (int, float)):
        raise errors.BodyNotReadable("'targetPercentage' must be a number.", ["targetPercentage"])
    if not PERCENT_MIN <= percentage <= PERCENT_MAX:
        raise errors.ConstraintViolation("Target percentage has to be between 1 and 100", ["targetPercentage"])
    group_filter = body.get("targetFilterQuery")
    if group_filter is not None:
        if not isinstance(group_filter, str):
            raise errors.BodyNotReadable("'targetFilterQuery' must be a string.", ["targetFilterQuery"])
        _max_length(group_filter, FILTER_MAX, "targetFilterQuery")
    return GroupSpec(
        name=_name(body),
        description=catalog._text(body, "description", DESCRIPTION_MAX),
        target_filter_query=group_filter or None,
        target_percentage=float(percentage),
        confirmation_required=catalog._flag(body, "confirmationRequired"),
        conditions=conditions(body, Conditions()),
    )


def check_group_count(count: int) -> None:
    """hawkBit's maxRolloutGroupsPerRollout, an AssignmentQuotaExceededException (403 in skyhawk, seed 002)."""
    if count > quotas.MAX_ROLLOUT_GROUPS_PER_ROLLOUT:
        raise errors.QuotaExceeded(
            f"The amount of groups cannot be greater than {quotas.MAX_ROLLOUT_GROUPS_PER_ROLLOUT}", [count]
        )


def conditions(body: Mapping[str, Any], base: Conditions) -> Conditions:
    """The four condition objects of a rollout or group body over `base` (the defaults, or nothing for a group)."""
    values = dict(base.__dict__)
    for key, kind in (("successCondition", "success"), ("errorCondition", "error")):
        given = _condition_object(body, key)
        if given is not None:
            values[f"{kind}_condition"] = _choice(given, "condition", "THRESHOLD", CONDITION_TYPES, key)
            values[f"{kind}_expression"] = _percentage_expression(given, key, GIVEN_EXPRESSION_DEFAULT)
    for key, kind, allowed, default in (
        ("successAction", "success", SUCCESS_ACTIONS, "NEXTGROUP"),
        ("errorAction", "error", ERROR_ACTIONS, "PAUSE"),
    ):
        given = _condition_object(body, key)
        if given is not None:
            values[f"{kind}_action"] = _choice(given, "action", default, allowed, key)
            expression = given.get("expression")
            if expression is not None:
                if not isinstance(expression, str):
                    raise errors.BodyNotReadable(f"'{key}.expression' must be a string.", [key])
                _max_length(expression, EXPRESSION_MAX, f"{key}.expression")
            values[f"{kind}_action_expression"] = expression
    return Conditions(**values)


def rate_control(raw: Any) -> RateControl | None:
    if raw is None:
        return None
    body = catalog._object(raw, "rateControl")
    maximum = _bounded(body, "maximumPerMinute", 1, RATE_MAX, "rateControl")
    ramp_raw = body.get("exponentialRate")
    if ramp_raw is None:
        return RateControl(maximum)
    ramp = catalog._object(ramp_raw, "rateControl.exponentialRate")
    base = _bounded(ramp, "baseRatePerMinute", 1, maximum, "rateControl.exponentialRate")
    factor = ramp.get("incrementFactor")
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not FACTOR_MIN <= factor <= FACTOR_MAX:
        raise errors.ConstraintViolation(
            f"'rateControl.exponentialRate.incrementFactor' must be a number between {FACTOR_MIN} and {FACTOR_MAX}.",
            ["rateControl"],
        )
    criteria = catalog._object(ramp.get("rateIncreaseCriteria"), "rateControl.exponentialRate.rateIncreaseCriteria")
    given = [key for key in ("numberOfStartedActions", "numberOfSucceededActions") if criteria.get(key) is not None]
    if len(given) != 1:
        raise errors.ConstraintViolation(
            "'rateIncreaseCriteria' takes exactly one of numberOfStartedActions and numberOfSucceededActions.",
            ["rateControl"],
        )
    every = _bounded(criteria, given[0], 1, RATE_MAX, "rateControl.exponentialRate.rateIncreaseCriteria")
    return RateControl(
        maximum, base, float(factor), every, "started" if given[0] == "numberOfStartedActions" else "succeeded"
    )


def action_timeout(raw: Any) -> int | None:
    if raw is None:
        return None
    body = catalog._object(raw, "actionTimeout")
    return _bounded(body, "inProgressMinutes", 1, TIMEOUT_MINUTES_MAX, "actionTimeout")


# --- field readers ------------------------------------------------------------------------------------------
def _name(body: Mapping[str, Any]) -> str:
    return catalog._text(body, "name", NAME_MAX, required=True)


def _max_length(text: str, limit: int, field_name: str) -> None:
    if len(text) > limit:
        raise errors.ConstraintViolation(f"'{field_name}' must be at most {limit} characters long.", [field_name])


def _integer(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if not is_int64(value):
        raise errors.BodyNotReadable(f"'{key}' must be a whole number.", [key])
    return int(value)


def _bounded(body: Mapping[str, Any], key: str, low: int, high: int, where: str) -> int:
    """A required whole number within [low, high]."""
    value = _integer(body, key)
    if value is None:
        raise errors.ConstraintViolation(f"'{where}.{key}' is required.", [where])
    if not low <= value <= high:
        raise errors.ConstraintViolation(f"'{where}.{key}' must be between {low} and {high}.", [where])
    return value


def _condition_object(body: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = body.get(key)
    return None if value is None else catalog._object(value, key)


def _choice(body: Mapping[str, Any], key: str, default: str, allowed: tuple[str, ...], where: str) -> str:
    value = body.get(key)
    if value is None:
        return default
    if value not in allowed:
        raise errors.BodyNotReadable(f"'{where}.{key}' must be one of {', '.join(allowed)}.", [where])
    return str(value)


def _percentage_expression(body: Mapping[str, Any], where: str, default: str) -> str:
    """A threshold: a whole percentage 0..100 as hawkBit's Integer.parseInt reads it (a number is taken too)."""
    value = body.get("expression")
    if value is None:
        return default
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None or not text.lstrip("+").isdigit() or not 0 <= int(text) <= 100:
        raise errors.ConstraintViolation(f"'{where}.expression' must be a whole percentage from 0 to 100.", [where])
    return str(int(text))


def _dynamic_template(raw: Any) -> tuple[str | None, int | None]:
    if raw is None:
        return None, None
    body = catalog._object(raw, "dynamicGroupTemplate")
    suffix = catalog._text(body, "nameSuffix", NAME_SUFFIX_MAX) or ""
    size = _integer(body, "targetCount")
    if size is None or size < 1:
        raise errors.ConstraintViolation(
            "'dynamicGroupTemplate.targetCount' must be at least 1.", ["dynamicGroupTemplate"]
        )
    return suffix, size
