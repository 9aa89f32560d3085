"""Durations, memory and CPU amounts, globs and cron schedules."""

from __future__ import annotations

import pytest

from airflow_pachyderm.spec.cron import CronError, check_cron, every_seconds
from airflow_pachyderm.spec.glob import GlobError, check_glob
from airflow_pachyderm.spec.quantities import (
    QuantityError,
    format_duration,
    parse_cpu,
    parse_duration,
    parse_memory,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("1h30m", 5400), ("1.5h", 5400), ("250ms", 0.25), ("2h0m5s", 7205)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "10 m", "m10", "1d", "-5s", "1h30", "0s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_duration(text)


@pytest.mark.parametrize("value", [600, 1.5, True, None])
def test_durations_need_a_unit(value: object) -> None:
    with pytest.raises(QuantityError, match="unit"):
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30, "30s"), (600, "10m"), (5400, "1h30m"), (3600, "1h"), (0.25, "250ms"), (7205, "2h5s")],
)
def test_format_duration_round_trips(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512M", 512 * 10**6),
        ("2Gi", 2 * 2**30),
        ("1G", 10**9),
        ("100Ki", 102400),
        ("1.5Gi", 3 * 2**29),
        (1024, 1024),
        ("1e3", 1000),
        ("64k", 64000),
        # What Pachyderm users write: a trailing B, decimal or binary.
        ("256MB", 256 * 10**6),
        ("2GB", 2 * 10**9),
        ("1GiB", 2**30),
        ("500M", 500 * 10**6),
        ("1Gi", 2**30),
    ],
)
def test_parse_memory(text: object, size: int) -> None:
    assert parse_memory(text) == size


@pytest.mark.parametrize("text", ["2gb", "1 G", "lots", "-1G", "0", "1m", "1BB", True])
def test_bad_memory(text: object) -> None:
    with pytest.raises(QuantityError):
        parse_memory(text)


def test_bad_memory_says_what_to_write() -> None:
    with pytest.raises(QuantityError, match="'256MB' or '2Gi'"):
        parse_memory("512 mb")


@pytest.mark.parametrize(("value", "cores"), [(1, 1.0), (0.5, 0.5), ("500m", 0.5), ("2", 2.0)])
def test_parse_cpu(value: object, cores: float) -> None:
    assert parse_cpu(value) == cores


@pytest.mark.parametrize("value", [0, "0m", "two", "1.5 cores", False, -1])
def test_bad_cpu(value: object) -> None:
    with pytest.raises(QuantityError):
        parse_cpu(value)


@pytest.mark.parametrize(
    ("glob", "groups"),
    [
        ("/", 0),
        ("/*", 0),
        ("/**", 0),
        ("/(*).csv", 1),
        ("/(*)-(*)/{a,b}/[!x]*", 2),
        ("/[(]*", 0),
        ("/\\(x\\)", 0),
        ("/a,b", 0),
    ],
)
def test_valid_globs(glob: str, groups: int) -> None:
    assert check_glob(glob) == groups


@pytest.mark.parametrize(
    ("glob", "fragment"),
    [
        ("", "must start with '/'"),
        ("*", "must start with '/'"),
        ("/{a,b", "never closed"),
        ("/[ab", "never closed"),
        ("/(*", "never closed"),
        ("/*)", "unmatched ')'"),
        ("/{a]", "unmatched ']'"),
        ("/[]", "empty character class"),
        ("/x\\", "lone"),
    ],
)
def test_invalid_globs(glob: str, fragment: str) -> None:
    with pytest.raises(GlobError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        check_glob(glob)


@pytest.mark.parametrize(
    "schedule",
    [
        "@hourly",
        "@daily",
        "*/10 * * * *",
        "0 2 * * MON-FRI",
        "0 0 1 JAN,JUL *",
        "5 4 * * 7",
        "@every 90s",
        # croniter's extensions: Airflow's cron timetables run them, so specs may use them.
        "0 0 L * *",
        "0 9 * * 1#1",
    ],
)
def test_valid_cron(schedule: str) -> None:
    check_cron(schedule)


@pytest.mark.parametrize(
    ("schedule", "fragment"),
    [
        ("* * *", "has 3 fields"),
        ("60 * * * *", "out of range 0-59"),
        ("* 24 * * *", "out of range 0-23"),
        ("* * 0 * *", "out of range 1-31"),
        ("* * * FOO *", "'FOO' is out of range"),
        ("*/0 * * * *", "never fires"),
        ("@sometimes", "unknown schedule macro"),
        ("@every soon", "cannot read"),
        ("? * * * *", "cannot read minute"),
    ],
)
def test_invalid_cron(schedule: str, fragment: str) -> None:
    with pytest.raises(CronError, match=fragment):
        check_cron(schedule)


def test_every_seconds() -> None:
    assert every_seconds("@every 1h30m") == 5400
    assert every_seconds("@hourly") is None
