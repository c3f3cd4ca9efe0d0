"""Token-bucket arithmetic of the request and failed-login limits (domain/rate_limits.py)."""
from chalicelib.domain.rate_limits import Buckets, retry_after_seconds


def test_a_burst_of_capacity_then_the_sustained_rate():
    buckets = Buckets(3)  # three a second
    assert [buckets.take("a", 0) for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a", 0) == 334  # a third of a second until the next token
    assert buckets.take("a", 333) > 0
    assert buckets.take("a", 334) == 0
    assert buckets.take("a", 334) > 0


def test_keys_are_counted_apart_and_refill_stops_at_capacity():
    buckets = Buckets(2)
    assert buckets.take("a", 0) == buckets.take("a", 0) == 0
    assert buckets.take("a", 0) > 0
    assert buckets.take("b", 0) == 0
    # an hour of rest fills the bucket, no more
    assert [buckets.take("a", 3_600_000) for _ in range(3)][:2] == [0, 0]
    assert buckets.take("a", 3_600_000) > 0


def test_a_refused_take_takes_nothing():
    buckets = Buckets(1, period_ms=10_000)  # one per ten seconds
    assert buckets.take("a", 0) == 0
    for now in (1000, 2000, 3000):
        assert buckets.take("a", now) == 10_000 - now
    assert buckets.take("a", 10_000) == 0


def test_wait_looks_without_taking():
    buckets = Buckets(1, period_ms=60_000)
    assert buckets.wait("a", 0) == 0
    assert buckets.take("a", 0) == 0
    assert buckets.wait("a", 0) == 60_000
    assert buckets.wait("a", 15_000) == 45_000
    assert buckets.take("a", 60_000) == 0


def test_memory_is_bounded_and_forgotten_buckets_start_full():
    buckets = Buckets(1, max_keys=2)
    for key in ("a", "b", "c"):
        assert buckets.take(key, 0) == 0
    assert buckets.take("b", 0) > 0 and buckets.take("c", 0) > 0
    assert buckets.take("a", 0) == 0  # dropped as least recently used: full again
    buckets.forget("a")
    assert buckets.take("a", 0) == 0


def test_retry_after_is_whole_seconds_and_never_zero():
    assert retry_after_seconds(1) == 1
    assert retry_after_seconds(1000) == 1
    assert retry_after_seconds(1001) == 2
    assert retry_after_seconds(299_500) == 300
