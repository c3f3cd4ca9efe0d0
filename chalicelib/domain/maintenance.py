"""Maintenance windows: when an assigned update may be installed (hawkBit's: set on assignment, honoured by the DDI
deployment).

A window is a Quartz cron `schedule` (when a window opens), a `duration` (`HH:mm:ss`, how long it stays
open) and a `timezone` (a fixed offset `±HH:mm` in which the cron is read). Outside a window the device is
told `update=skip`; as the next window approaches, polling speeds up (`polling_sleep_ms`).

Quartz cron, as supported here: 6 or 7 whitespace-separated fields

    seconds  minutes  hours  day-of-month  month  day-of-week  [year]
    0-59     0-59     0-23   1-31          1-12   1-7 (1=SUN)  1970-2199
                                           JAN-DEC SUN-SAT

Each field is `*`, a value, a range `a-b` (a range may wrap, e.g. `FRI-MON`, except for years), a step
`*/n`, `a/n` (a, a+n, ... up to the field's maximum) or `a-b/n`, or a comma list of these. Names are
case-insensitive. Exactly one of day-of-month / day-of-week is `?` ("no specific value"); `*` in one of
them is accepted too and then only the other one restricts the day. `L`, `W` and `#` are not supported.

Pure: epoch milliseconds in, epoch milliseconds out; no clock, no I/O.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MAX_SCHEDULE_LENGTH = 128
MAX_DURATION_LENGTH = 16
MAX_TIMEZONE_LENGTH = 8

FIRST_YEAR = 1970
# Quartz itself stops at 2099; searching a little further still answers "no future window" quickly.
LAST_YEAR = 2199

# java.time.ZoneOffset accepts offsets up to ±18:00.
_MAX_OFFSET_MINUTES = 18 * 60

_DURATION = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])")
_OFFSET = re.compile(r"([+-])([0-9]{2}):([0-5][0-9])")
_NUMBER = re.compile(r"[0-9]+")

# Naive datetimes below are wall-clock times at the window's offset; this is their epoch.
_LOCAL_EPOCH = datetime(1970, 1, 1)
_ONE_MS = timedelta(milliseconds=1)


class InvalidSchedule(ValueError):
    """A maintenance window hawkBit would refuse (`hawkbit.server.error.maintenanceScheduleInvalid`)."""


# --- Quartz cron ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FieldSpec:
    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for the value low + i
    wraps: bool = True  # whether a range written high-low wraps around (Quartz: all fields but the year)

    def value(self, token: str) -> int:
        upper = token.upper()
        if upper in self.names:
            return self.low + self.names.index(upper)
        if _NUMBER.fullmatch(token):
            number = int(token)
            if self.low <= number <= self.high:
                return number
            raise InvalidSchedule(f"schedule: {self.label} value '{token}' is outside {self.low}-{self.high}")
        if any(marker in upper for marker in "LW#"):
            raise InvalidSchedule(f"schedule: '{token}' in {self.label}: L, W and # are not supported")
        raise InvalidSchedule(f"schedule: '{token}' is not a valid {self.label} value")


_SECONDS = _FieldSpec("seconds", 0, 59)
_MINUTES = _FieldSpec("minutes", 0, 59)
_HOURS = _FieldSpec("hours", 0, 23)
_DAY_OF_MONTH = _FieldSpec("day-of-month", 1, 31)
_MONTH = _FieldSpec(
    "month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
)
_DAY_OF_WEEK = _FieldSpec("day-of-week", 1, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))
_YEAR = _FieldSpec("year", FIRST_YEAR, LAST_YEAR, wraps=False)

_ALL_YEARS = tuple(range(FIRST_YEAR, LAST_YEAR + 1))


def _expand_element(element: str, spec: _FieldSpec) -> set[int]:
    """One comma-separated element: `*`, `a`, `a-b`, each optionally followed by `/step`."""
    base, slash, step_text = element.partition("/")
    step = 1
    if slash:
        if not _NUMBER.fullmatch(step_text) or int(step_text) == 0:
            raise InvalidSchedule(f"schedule: '{element}' in {spec.label} needs a positive step after '/'")
        step = int(step_text)
    if base == "*":
        start, stop = spec.low, spec.high
    elif "-" in base:
        first, last = base.split("-", 1)
        start, stop = spec.value(first), spec.value(last)
    else:
        start = spec.value(base)
        stop = spec.high if slash else start  # Quartz: `a/n` runs from a to the field's maximum
    if stop < start and not spec.wraps:
        raise InvalidSchedule(f"schedule: {spec.label} range '{base}' runs backwards")
    # A backwards range (FRI-MON, 22-2) wraps past the field's maximum back to its minimum.
    size = spec.high - spec.low + 1
    count = (stop - start) % size + 1
    return {spec.low + (start - spec.low + i) % size for i in range(0, count, step)}


def _parse_field(text: str, spec: _FieldSpec) -> tuple[int, ...]:
    """A whole field as the sorted values it allows; `?` (no specific value) allows every value."""
    if text == "?":
        return tuple(range(spec.low, spec.high + 1))
    values: set[int] = set()
    for element in text.split(","):
        if element == "?":
            raise InvalidSchedule(f"schedule: '?' must stand alone in {spec.label}")
        values |= _expand_element(element, spec)
    return tuple(sorted(values))


def _next_allowed(allowed: tuple[int, ...], value: int) -> int | None:
    """The smallest allowed value >= value, or None when the field has to carry into the next larger one."""
    index = bisect_left(allowed, value)
    return allowed[index] if index < len(allowed) else None


def _quartz_weekday(year: int, month: int, day: int) -> int:
    """Quartz numbers weekdays 1=SUN..7=SAT; Python 0=MON..6=SUN."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


@dataclass(frozen=True)
class _QuartzCron:
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: tuple[int, ...]
    months: tuple[int, ...]
    days_of_week: tuple[int, ...]
    years: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> _QuartzCron:
        fields = text.split()
        if len(fields) not in (6, 7):
            raise InvalidSchedule(
                f"schedule: expected 6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]),"
                f" got {len(fields)}"
            )
        seconds, minutes, hours, day_of_month, month, day_of_week = fields[:6]
        year = fields[6] if len(fields) == 7 else "*"
        for text_, spec in ((seconds, _SECONDS), (minutes, _MINUTES), (hours, _HOURS), (month, _MONTH), (year, _YEAR)):
            if "?" in text_:
                raise InvalidSchedule(f"schedule: '?' is only allowed in day-of-month or day-of-week, not {spec.label}")
        _check_day_fields(day_of_month, day_of_week)
        return cls(
            seconds=_parse_field(seconds, _SECONDS),
            minutes=_parse_field(minutes, _MINUTES),
            hours=_parse_field(hours, _HOURS),
            days_of_month=_parse_field(day_of_month, _DAY_OF_MONTH),
            months=_parse_field(month, _MONTH),
            days_of_week=_parse_field(day_of_week, _DAY_OF_WEEK),
            years=_ALL_YEARS if year == "*" else _parse_field(year, _YEAR),
        )

    def first_at_or_after(self, start: datetime) -> datetime | None:
        """The first matching wall-clock second at or after `start`, or None if there is none up to LAST_YEAR.

        Advances one field at a time, largest first: a field with no allowed value left carries into the
        next larger one and resets the smaller ones, so a yearly schedule takes a handful of steps per year.
        """
        units = [start.year, start.month, start.day, start.hour, start.minute, start.second]
        smallest = (FIRST_YEAR, 1, 1, 0, 0, 0)
        position = 0  # 0=year .. 5=second
        while position < len(units):
            if units[0] > LAST_YEAR:
                return None
            allowed = self._next_allowed_unit(position, units)
            if allowed is None:
                if position == 0:
                    return None
                units[position - 1] += 1
                units[position:] = smallest[position:]
                position -= 1
                continue
            if allowed != units[position]:
                units[position] = allowed
                units[position + 1 :] = smallest[position + 1 :]
            position += 1
        year, month, day, hour, minute, second = units
        return datetime(year, month, day, hour, minute, second)

    def _next_allowed_unit(self, position: int, units: list[int]) -> int | None:
        if position == 2:
            return self._next_day(units[0], units[1], units[2])
        allowed = (self.years, self.months, None, self.hours, self.minutes, self.seconds)[position]
        assert allowed is not None  # the day (position 2) is handled above
        return _next_allowed(allowed, units[position])

    def _next_day(self, year: int, month: int, day: int) -> int | None:
        # Both day fields must match; the unrestricted one (`?` or `*`) allows every day.
        last_day = calendar.monthrange(year, month)[1]
        for candidate in range(day, last_day + 1):
            if candidate in self.days_of_month and _quartz_weekday(year, month, candidate) in self.days_of_week:
                return candidate
        return None


def _check_day_fields(day_of_month: str, day_of_week: str) -> None:
    """Quartz: one day field names the days, the other is `?`; a value in both (cron's "either") is refused."""
    if day_of_month == "?" and day_of_week == "?":
        raise InvalidSchedule("schedule: day-of-month and day-of-week cannot both be '?'")
    unrestricted = ("?", "*")
    if day_of_month not in unrestricted and day_of_week not in unrestricted:
        raise InvalidSchedule("schedule: give either day-of-month or day-of-week; the other must be '?'")


# --- the window -------------------------------------------------------------------------------------


def _given(value: str | None) -> bool:
    # hawkBit treats an empty string like an absent value when checking "all three or none".
    return value is not None and not (isinstance(value, str) and value.strip() == "")


def _require_text(value: object, name: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise InvalidSchedule(f"{name}: must be a string")
    if len(value) > max_length:
        raise InvalidSchedule(f"{name}: at most {max_length} characters")
    return value


def _parse_duration_ms(text: str) -> int:
    match = _DURATION.fullmatch(text)
    if not match:
        raise InvalidSchedule(f"duration: '{text}' is not HH:mm:ss between 00:00:01 and 23:59:59")
    hours, minutes, seconds = (int(group) for group in match.groups())
    duration_ms = ((hours * 60 + minutes) * 60 + seconds) * 1000
    if duration_ms == 0:
        raise InvalidSchedule("duration: must be at least 00:00:01")
    return duration_ms


def _parse_offset_minutes(text: str) -> int:
    match = _OFFSET.fullmatch(text)
    if not match:
        raise InvalidSchedule(f"timezone: '{text}' is not an offset of the form +HH:mm or -HH:mm")
    sign, hours, minutes = match.groups()
    offset = int(hours) * 60 + int(minutes)
    if offset > _MAX_OFFSET_MINUTES:
        raise InvalidSchedule(f"timezone: '{text}' is beyond ±18:00")
    return -offset if sign == "-" else offset


@dataclass(frozen=True)
class Window:
    """A maintenance window; times are epoch milliseconds (UTC), the cron is read at `offset_minutes`."""

    schedule: str
    duration_ms: int
    offset_minutes: int
    _cron: _QuartzCron = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cron", _QuartzCron.parse(self.schedule))

    @classmethod
    def parse(cls, schedule: str | None, duration: str | None, timezone: str | None) -> Window | None:
        """The API's {schedule, duration, timezone}: all three or none (None → no window)."""
        given = [_given(value) for value in (schedule, duration, timezone)]
        if not any(given):
            return None
        if not all(given):
            raise InvalidSchedule("schedule, duration and timezone must be given together")
        schedule = _require_text(schedule, "schedule", MAX_SCHEDULE_LENGTH)
        duration_ms = _parse_duration_ms(_require_text(duration, "duration", MAX_DURATION_LENGTH))
        offset_minutes = _parse_offset_minutes(_require_text(timezone, "timezone", MAX_TIMEZONE_LENGTH))
        return cls(schedule, duration_ms, offset_minutes)

    def next_start(self, after_ms: int) -> int | None:
        """The first window start strictly after `after_ms`, or None if the schedule has no further one."""
        offset_ms = self.offset_minutes * 60_000
        # Cron fires on whole seconds, so the first candidate is the next whole local second after `after_ms`.
        first_local_second = (after_ms + offset_ms) // 1000 + 1
        if first_local_second >= (datetime(LAST_YEAR + 1, 1, 1) - _LOCAL_EPOCH).total_seconds():
            return None
        # Nothing fires before FIRST_YEAR, so an earlier start may begin the search there.
        first_candidate = _LOCAL_EPOCH + timedelta(seconds=max(first_local_second, 0))
        start = self._cron.first_at_or_after(first_candidate)
        if start is None:
            return None
        return (start - _LOCAL_EPOCH) // _ONE_MS - offset_ms

    def current_or_next(self, now_ms: int) -> tuple[int, int] | None:
        """(start, end) of the window containing now (start <= now < end), else of the next one.

        As hawkBit does, search from `now - duration`: a window that opened up to `duration` ago still
        contains now. None when the schedule has lapsed.
        """
        start = self.next_start(now_ms - self.duration_ms)
        if start is None:
            return None
        return start, start + self.duration_ms

    def is_available(self, now_ms: int) -> bool:
        window = self.current_or_next(now_ms)
        return window is not None and window[0] <= now_ms < window[1]

    def has_future(self, now_ms: int) -> bool:
        """False once the schedule has lapsed (hawkBit then cancels the action)."""
        return self.current_or_next(now_ms) is not None


def polling_sleep_ms(window: Window | None, now_ms: int, polling_ms: int, min_polling_ms: int, poll_count: int) -> int:
    """Poll more often as a window approaches, so the device is told soon after it opens.

    Before the next window: (start - now) / poll_count, capped at the polling time and raised to at least
    the minimum polling time. Otherwise (no window, lapsed, or already open): the polling time.
    """
    if window is None:
        return polling_ms
    upcoming = window.current_or_next(now_ms)
    if upcoming is None or now_ms >= upcoming[0]:
        return polling_ms
    # A non-positive count is a configuration error; dividing by 1 keeps the poll answer usable.
    sleep_ms = (upcoming[0] - now_ms) // max(poll_count, 1)
    sleep_ms = min(sleep_ms, polling_ms)
    return max(sleep_ms, min_polling_ms)
