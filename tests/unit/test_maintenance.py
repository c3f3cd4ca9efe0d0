"""Maintenance windows: Quartz cron parsing, next window start, availability and polling (pure)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.maintenance import InvalidSchedule, Window, polling_sleep_ms

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_MS = 3_600_000


def ms(year, month, day, hour=0, minute=0, second=0, millisecond=0, tz=UTC) -> int:
    moment = datetime(year, month, day, hour, minute, second, millisecond * 1000, tzinfo=tz)
    return (moment - EPOCH) // timedelta(milliseconds=1)


def utc(epoch_ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=epoch_ms)


def window(schedule, duration="02:00:00", tz="+00:00") -> Window:
    return Window.parse(schedule, duration, tz)


NOW_2026 = ms(2026, 3, 10, 12)  # a Tuesday


# --- parsing ----------------------------------------------------------------------------------------


def test_parse_builds_the_window():
    assert Window.parse("0 0 3 ? * *", "02:00:00", "+01:00") == Window("0 0 3 ? * *", 2 * HOUR_MS, 60)


def test_no_window_when_nothing_given():
    assert Window.parse(None, None, None) is None
    assert Window.parse("", "", "") is None  # hawkBit treats empty like absent


@pytest.mark.parametrize("triple", [
    ("0 0 3 ? * *", None, None),
    ("0 0 3 ? * *", "02:00:00", None),
    (None, "02:00:00", "+01:00"),
    (None, None, "+01:00"),
    ("", "02:00:00", "+01:00"),
])
def test_partial_triples_are_refused(triple):
    with pytest.raises(InvalidSchedule, match="must be given together"):
        Window.parse(*triple)


def test_invalid_schedule_is_a_value_error():
    assert issubclass(InvalidSchedule, ValueError)


@pytest.mark.parametrize("schedule", [
    "0 0 3 ? * *",
    "0 15 10 * * ? 2018",
    "0 */5 * * * ?",
    "0 0 9 ? * MON-FRI",
    "0 0 9 ? * mon,Wed,FRI",
    "0 0 12 1 JAN,jul ?",
    "0 0 12 1 jan-MAR ?",
    "0 0 0 ? * 1,7",
    "0/15 0-30/10 1-5 * * ?",
    "5/20 10/15 * * * ?",
    "0 0 22-2 * * ?",
    "0 0 0 ? * FRI-MON",
    "0 0 0 31 * ?",
    "0 0 0 29 2 ?",
    "0 0 3 * * *",
    "0 0 3 1 * *",
    "0 0 3 * * MON",
    "0 0 3 ? * * 2030-2040/2",
    "  0\t0  3 ? * *  ",
])
def test_valid_schedules(schedule):
    assert window(schedule).schedule == schedule


@pytest.mark.parametrize("schedule, message", [
    ("0", "6 or 7 fields"),
    ("0 0 3 * *", "6 or 7 fields"),
    ("0 0 3 ? * * 2030 x", "6 or 7 fields"),
    ("60 0 3 ? * *", "seconds value '60' is outside 0-59"),
    ("0 60 3 ? * *", "minutes value"),
    ("0 0 24 ? * *", "hours value"),
    ("0 0 0 0 * ?", "day-of-month value"),
    ("0 0 0 32 * ?", "day-of-month value"),
    ("0 0 0 ? 13 *", "month value"),
    ("0 0 0 ? * 0", "day-of-week value '0' is outside 1-7"),
    ("0 0 0 ? * 8", "day-of-week value"),
    ("0 0 0 ? * FOO", "not a valid day-of-week"),
    ("0 0 0 ? MONDAY *", "not a valid month"),
    ("0 0 0 * * * 1969", "year value"),
    ("0 0 0 * * * 2200", "year value"),
    ("0 0 0 * * * 2030-2020", "runs backwards"),
    ("0 0 0 1 * MON", "either day-of-month or day-of-week"),
    ("0 0 0 1-5 * 2", "either day-of-month or day-of-week"),
    ("0 0 0 */2 * MON", "either day-of-month or day-of-week"),
    ("0 0 0 ? * ?", "cannot both be '?'"),
    ("? 0 0 ? * *", "only allowed in day-of-month or day-of-week"),
    ("0 0 0 ? * * ?", "only allowed in day-of-month or day-of-week"),
    ("0 0 0 1,? * *", "must stand alone"),
    ("0 */0 * * * ?", "positive step"),
    ("0 */x * * * ?", "positive step"),
    ("0 5/ * * * ?", "positive step"),
    ("0 1,,2 * * * ?", "not a valid minutes"),
    ("0 a * * * ?", "not a valid minutes"),
    ("0 1- * * * ?", "not a valid minutes"),
    ("0 -1 * * * ?", "not a valid minutes"),
    ("0 ٣ * * * ?", "not a valid minutes"),  # non-ASCII digit
])
def test_invalid_schedules(schedule, message):
    with pytest.raises(InvalidSchedule, match=message):
        window(schedule)


@pytest.mark.parametrize("schedule", [
    "0 0 0 L * ?", "0 0 0 LW * ?", "0 0 0 15W * ?", "0 0 0 ? * 6L", "0 0 0 ? * 6#3", "0 0 0 L-3 * ?",
])
def test_l_w_and_hash_are_not_supported(schedule):
    with pytest.raises(InvalidSchedule, match="^schedule: .*not supported"):
        window(schedule)


def test_schedule_length():
    padded = "0 0 3 ? * *" + " " * (128 - len("0 0 3 ? * *"))
    assert window(padded) is not None
    with pytest.raises(InvalidSchedule, match="^schedule: at most 128 characters"):
        window(padded + " ")


def test_constructor_checks_the_schedule_too():
    with pytest.raises(InvalidSchedule, match="^schedule"):
        Window("0 0 3 * *", HOUR_MS, 0)


@pytest.mark.parametrize("duration, expected_ms", [
    ("00:00:01", 1000),
    ("02:00:00", 2 * HOUR_MS),
    ("23:59:59", (24 * 3600 - 1) * 1000),
])
def test_valid_durations(duration, expected_ms):
    assert window("0 0 3 ? * *", duration=duration).duration_ms == expected_ms


@pytest.mark.parametrize("duration", [
    "00:00:00", "24:00:00", "2:00:00", "00:60:00", "00:00:60", "1h", "02:00", "02:00:00.0", " 02:00:00",
    "x" * 17,
])
def test_invalid_durations(duration):
    with pytest.raises(InvalidSchedule, match="^duration: "):
        window("0 0 3 ? * *", duration=duration)


@pytest.mark.parametrize("tz, minutes", [
    ("+01:00", 60), ("-05:30", -330), ("+00:00", 0), ("-00:00", 0), ("+18:00", 1080), ("-18:00", -1080),
])
def test_valid_timezones(tz, minutes):
    assert window("0 0 3 ? * *", tz=tz).offset_minutes == minutes


@pytest.mark.parametrize("tz", [
    "Z", "UTC", "01:00", "+1:00", "+01", "+0100", "+01:60", "+18:01", "+19:00", "+01:00:00", "Europe/Berlin",
])
def test_invalid_timezones(tz):
    with pytest.raises(InvalidSchedule, match="^timezone: "):
        window("0 0 3 ? * *", tz=tz)


def test_non_string_values_are_refused():
    with pytest.raises(InvalidSchedule, match="^duration: must be a string"):
        Window.parse("0 0 3 ? * *", 7200, "+01:00")


# --- next_start -------------------------------------------------------------------------------------


def test_daily_at_three():
    daily = window("0 0 3 ? * *")
    assert daily.next_start(NOW_2026) == ms(2026, 3, 11, 3)
    assert daily.next_start(ms(2026, 3, 10, 2, 59, 59, 999)) == ms(2026, 3, 10, 3)
    assert daily.next_start(ms(2026, 3, 10, 2, 59, 59, 500)) == ms(2026, 3, 10, 3)


def test_next_start_is_strictly_after():
    assert window("0 0 3 ? * *").next_start(ms(2026, 3, 10, 3)) == ms(2026, 3, 11, 3)


def test_year_in_the_past_has_no_next_start():
    lapsed = window("0 15 10 * * ? 2018")
    assert lapsed.next_start(NOW_2026) is None
    assert lapsed.current_or_next(NOW_2026) is None
    assert not lapsed.has_future(NOW_2026)
    assert not lapsed.is_available(NOW_2026)
    assert lapsed.next_start(ms(2017, 6, 1)) == ms(2018, 1, 1, 10, 15)


def test_every_five_minutes():
    every_five = window("0 */5 * * * ?")
    assert every_five.next_start(ms(2026, 3, 10, 12, 3, 7)) == ms(2026, 3, 10, 12, 5)
    assert every_five.next_start(ms(2026, 3, 10, 12, 5)) == ms(2026, 3, 10, 12, 10)
    assert every_five.next_start(ms(2026, 3, 10, 23, 57)) == ms(2026, 3, 11, 0, 0)


def test_steps_from_a_value_and_within_a_range():
    cron = window("5/20 10-40/15 * * * ?")  # seconds 5,25,45; minutes 10,25,40
    assert cron.next_start(ms(2026, 3, 10, 12, 0)) == ms(2026, 3, 10, 12, 10, 5)
    assert cron.next_start(ms(2026, 3, 10, 12, 10, 45)) == ms(2026, 3, 10, 12, 25, 5)
    assert cron.next_start(ms(2026, 3, 10, 12, 40, 45)) == ms(2026, 3, 10, 13, 10, 5)


def test_weekdays_only():
    friday = ms(2026, 3, 13, 10)
    assert utc(friday).strftime("%a") == "Fri"
    weekdays = window("0 0 9 ? * MON-FRI")
    monday = weekdays.next_start(friday)
    assert monday == ms(2026, 3, 16, 9)
    assert utc(monday).strftime("%a") == "Mon"
    assert weekdays.next_start(monday) == ms(2026, 3, 17, 9)


def test_quartz_numbers_sunday_as_one():
    friday = ms(2026, 3, 13, 10)
    assert window("0 0 9 ? * 1").next_start(friday) == ms(2026, 3, 15, 9)  # Sunday
    assert window("0 0 9 ? * 7").next_start(friday) == ms(2026, 3, 14, 9)  # Saturday
    assert window("0 0 9 ? * sun").next_start(friday) == ms(2026, 3, 15, 9)


def test_wrapping_ranges():
    friday = ms(2026, 3, 13, 10)
    fri_to_mon = window("0 0 9 ? * FRI-MON")
    assert fri_to_mon.next_start(friday) == ms(2026, 3, 14, 9)
    assert fri_to_mon.next_start(ms(2026, 3, 16, 10)) == ms(2026, 3, 20, 9)  # Monday → Friday
    assert window("0 0 22-2 * * ?").next_start(ms(2026, 3, 10, 3)) == ms(2026, 3, 10, 22)


def test_month_names():
    months = window("0 0 12 1 JAN,jul ?")
    assert months.next_start(ms(2026, 2, 1)) == ms(2026, 7, 1, 12)
    assert months.next_start(ms(2026, 7, 1, 12)) == ms(2027, 1, 1, 12)


def test_day_of_month_with_star_day_of_week():
    assert window("0 0 3 15 * *").next_start(NOW_2026) == ms(2026, 3, 15, 3)


def test_day_of_week_with_star_day_of_month():
    assert window("0 0 3 * * MON").next_start(NOW_2026) == ms(2026, 3, 16, 3)


def test_last_second_of_the_day_and_year():
    last_second = window("59 59 23 * * ?")
    assert last_second.next_start(ms(2026, 12, 31, 23, 59, 58)) == ms(2026, 12, 31, 23, 59, 59)
    assert last_second.next_start(ms(2026, 12, 31, 23, 59, 59)) == ms(2027, 1, 1, 23, 59, 59)
    new_year = window("0 0 0 1 1 ?")
    assert new_year.next_start(ms(2026, 12, 31, 23, 59, 59, 999)) == ms(2027, 1, 1)


def test_day_31_skips_short_months():
    thirty_first = window("0 0 0 31 * ?")
    assert thirty_first.next_start(ms(2026, 1, 31)) == ms(2026, 3, 31)
    assert thirty_first.next_start(ms(2026, 4, 1)) == ms(2026, 5, 31)
    assert thirty_first.next_start(ms(2026, 8, 31)) == ms(2026, 10, 31)


def test_february_29_only_in_leap_years():
    leap_day = window("0 0 0 29 2 ?")
    assert leap_day.next_start(ms(2026, 1, 1)) == ms(2028, 2, 29)
    assert leap_day.next_start(ms(2028, 2, 29)) == ms(2032, 2, 29)
    assert leap_day.next_start(ms(2096, 3, 1)) == ms(2104, 2, 29)  # 2100 is not a leap year


def test_rare_and_impossible_schedules_are_answered_fast():
    started = time.perf_counter()
    assert window("0 0 0 1 1 ? 2199").next_start(NOW_2026) == ms(2199, 1, 1)
    assert window("0 0 0 30 2 ?").next_start(NOW_2026) is None  # February 30th never comes
    assert window("0 0 0 31 4 ?").has_future(NOW_2026) is False
    assert window("59 59 23 31 12 ? 2199").next_start(NOW_2026) == ms(2199, 12, 31, 23, 59, 59)
    assert time.perf_counter() - started < 1.0


def test_search_ends_after_the_last_year():
    assert window("0 0 3 ? * *").next_start(ms(2199, 12, 31, 4)) is None
    assert window("0 0 3 ? * *").next_start(ms(9000, 1, 1)) is None


def test_positive_offset_moves_the_start_earlier_in_utc():
    berlin = window("0 0 3 ? * *", tz="+01:00")  # 03:00 local = 02:00 UTC
    assert berlin.next_start(ms(2026, 3, 10)) == ms(2026, 3, 10, 2)
    assert berlin.next_start(ms(2026, 3, 10)) == ms(2026, 3, 10, 3, tz=timezone(timedelta(hours=1)))


def test_negative_offset_moves_the_start_later_in_utc():
    india_west = window("0 0 3 ? * *", tz="-05:30")
    assert india_west.next_start(ms(2026, 3, 10)) == ms(2026, 3, 10, 8, 30)


def test_offset_decides_the_local_day():
    plus_five = window("0 0 3 ? * *", tz="+05:00")
    # 23:00 UTC is already 04:00 local on the 11th, so the next 03:00 local is on the 12th.
    assert plus_five.next_start(ms(2026, 3, 10, 23)) == ms(2026, 3, 11, 22)


def test_offset_decides_the_local_weekday():
    monday_local = window("0 30 0 ? * MON", tz="+02:00")
    start = monday_local.next_start(ms(2026, 3, 10))
    assert start == ms(2026, 3, 15, 22, 30)  # Sunday in UTC, Monday 00:30 at +02:00
    assert utc(start).strftime("%a") == "Sun"


# --- current window, availability -------------------------------------------------------------------


BERLIN_NIGHTLY = ("0 0 3 ? * *", "02:00:00", "+01:00")  # opens 02:00 UTC, closes 04:00 UTC


def test_window_that_already_began_is_current():
    nightly = Window.parse(*BERLIN_NIGHTLY)
    now = ms(2026, 3, 10, 3)
    assert nightly.current_or_next(now) == (ms(2026, 3, 10, 2), ms(2026, 3, 10, 4))
    assert nightly.is_available(now)
    assert nightly.has_future(now)


def test_window_bounds_include_start_and_exclude_end():
    nightly = Window.parse(*BERLIN_NIGHTLY)
    assert nightly.is_available(ms(2026, 3, 10, 2))
    assert nightly.is_available(ms(2026, 3, 10, 3, 59, 59, 999))
    assert not nightly.is_available(ms(2026, 3, 10, 4))
    assert nightly.current_or_next(ms(2026, 3, 10, 4)) == (ms(2026, 3, 11, 2), ms(2026, 3, 11, 4))


def test_before_the_window_the_next_one_is_returned():
    nightly = Window.parse(*BERLIN_NIGHTLY)
    now = ms(2026, 3, 10, 1)
    assert nightly.current_or_next(now) == (ms(2026, 3, 10, 2), ms(2026, 3, 10, 4))
    assert not nightly.is_available(now)
    assert nightly.has_future(now)


def test_last_window_of_a_lapsing_schedule_stays_current_until_it_closes():
    once = window("0 0 10 1 6 ? 2026", duration="01:00:00")
    assert once.is_available(ms(2026, 6, 1, 10, 30))
    assert once.has_future(ms(2026, 6, 1, 10, 59, 59))
    assert not once.has_future(ms(2026, 6, 1, 11))


# --- polling ----------------------------------------------------------------------------------------


POLLING_MS = HOUR_MS
MIN_POLLING_MS = 30_000


def sleep(win, now):
    return polling_sleep_ms(win, now, POLLING_MS, MIN_POLLING_MS, 3)


def test_polling_without_a_window():
    assert sleep(None, NOW_2026) == POLLING_MS


def test_polling_when_the_schedule_has_lapsed():
    assert sleep(window("0 15 10 * * ? 2018"), NOW_2026) == POLLING_MS


def test_polling_inside_the_window():
    assert sleep(Window.parse(*BERLIN_NIGHTLY), ms(2026, 3, 10, 3)) == POLLING_MS


def test_polling_far_before_the_window_is_capped_at_the_polling_time():
    assert sleep(Window.parse(*BERLIN_NIGHTLY), ms(2026, 3, 9, 12)) == POLLING_MS


def test_polling_divides_the_time_left_by_the_poll_count():
    now = ms(2026, 3, 10, 1, 30)  # 30 minutes before the window opens
    assert sleep(Window.parse(*BERLIN_NIGHTLY), now) == 10 * 60_000


def test_polling_just_before_the_window_is_raised_to_the_minimum():
    now = ms(2026, 3, 10, 1, 59, 30)  # 30 s before: 10 s would be below the minimum
    assert sleep(Window.parse(*BERLIN_NIGHTLY), now) == MIN_POLLING_MS


def test_polling_truncates_like_integer_division():
    now = ms(2026, 3, 10, 2) - 100_000
    assert polling_sleep_ms(Window.parse(*BERLIN_NIGHTLY), now, POLLING_MS, 1_000, 3) == 33_333
