from alert_ingestion.domain.rate_limit import RateLimiter, new_bucket


def test_burst_then_steady_rate():
    bucket = new_bucket(60, now=0.0)  # one a second, 60 at once
    assert all(bucket.take(0.0) == 0.0 for _ in range(60))
    assert bucket.take(0.0) == 1.0
    assert bucket.take(0.5) == 0.5
    assert bucket.take(1.0) == 0.0
    assert bucket.take(1.0) > 0


def test_refill_is_capped_at_capacity():
    bucket = new_bucket(6, now=0.0)
    bucket.take(0.0)
    bucket.take(1_000_000.0)
    assert bucket.tokens == 5


def test_a_refused_group_takes_nothing():
    bucket = new_bucket(3, now=0.0)
    assert bucket.take(0.0, 4) > 0
    assert bucket.take(0.0, 3) == 0.0


def test_the_limiter_keeps_a_bucket_per_key_and_zero_turns_it_off():
    limiter = RateLimiter(60)
    assert all(limiter.check("10.0.0.1", now=0.0) == 0.0 for _ in range(60))
    assert limiter.check("10.0.0.1", now=0.0) == 1.0
    assert limiter.check("10.0.0.2", now=0.0) == 0.0  # another sender's own minute
    off = RateLimiter(0)
    assert all(off.check("10.0.0.1", now=0.0) == 0.0 for _ in range(1000))
