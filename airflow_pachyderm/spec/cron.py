"""Syntax check of cron input schedules (Pachyderm's ``cron.spec``)."""

from __future__ import annotations

import re

from airflow_pachyderm.errors import CronError
from airflow_pachyderm.spec.quantities import QuantityError, parse_duration

MACROS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {m: i for i, m in enumerate(_MONTHS, 1)},
    ),
    ("day of week", 0, 7, {d: i for i, d in enumerate(_DAYS)}),
)
_ITEM = re.compile(r"(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/(\d+))?")


def every_seconds(schedule: str) -> float | None:
    """Seconds between runs for ``@every <duration>`` (robfig/cron syntax), else ``None``."""
    if not schedule.startswith("@every"):
        return None
    try:
        return parse_duration(schedule[len("@every") :].strip())
    except QuantityError as exc:
        raise CronError(f"cannot read {schedule!r}: {exc}") from None


def check_cron(schedule: str) -> None:
    """Accept 5-field cron expressions, the ``@daily``-style macros and ``@every 10m``."""
    text = schedule.strip()
    if text.startswith("@"):
        if text in MACROS or every_seconds(text) is not None:
            return
        raise CronError(
            f"unknown schedule macro {text!r}: use one of {', '.join(sorted(MACROS))} "
            "or '@every <duration>' such as '@every 10m'"
        )
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise CronError(
            f"cron schedule {schedule!r} has {len(fields)} fields; write 5 "
            "(minute hour day-of-month month day-of-week), e.g. '0 * * * *' for hourly"
        )
    for field, (label, low, high, names) in zip(fields, _FIELDS, strict=True):
        for item in field.split(","):
            _check_item(schedule, item, label, low, high, names)


def _check_item(
    schedule: str, item: str, label: str, low: int, high: int, names: dict[str, int]
) -> None:
    match = _ITEM.fullmatch(item)
    if match is None:
        raise CronError(f"cron schedule {schedule!r}: cannot read {label} field {item!r}")
    if match.group(1) != "*":
        for bound in match.group(1).split("-"):
            number = names.get(bound.upper()) if not bound.isdigit() else int(bound)
            if number is None or not low <= number <= high:
                raise CronError(
                    f"cron schedule {schedule!r}: {label} {bound!r} is out of range {low}-{high}"
                )
    if match.group(2) is not None and int(match.group(2)) == 0:
        raise CronError(f"cron schedule {schedule!r}: step '/0' in {label} field never fires")
