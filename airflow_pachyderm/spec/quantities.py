"""Durations (``1h30m``), memory quantities (``512M``, ``2Gi``) and CPU amounts (``500m``).

Pachyderm writes durations the Go way and resources the Kubernetes way; specs keep that
syntax and the models store normalised numbers (seconds, bytes, cores).
"""

from __future__ import annotations

import re

from airflow_pachyderm.errors import QuantityError

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}

# Kubernetes quantities ("512M", "2Gi"), plus the trailing "B" people write ("256MB", "1GiB").
_MEMORY = re.compile(r"(\d+(?:\.\d+)?(?:[eE]\d+)?)([KMGTPE]i|[kKMGTPE])?B?")
_MEMORY_UNITS = {
    None: 1,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}

_CPU = re.compile(r"(\d+(?:\.\d+)?)(m)?")

# What Docker and Kubernetes can hold: bytes and nano-CPUs are signed 64-bit integers. Any
# real machine is far below; a spec above is a typo and is refused while validating.
MAX_MEMORY_BYTES = 2**63 - 1
MAX_CPU_CORES = 65536
_MAX_NUMBER_CHARS = 40


def parse_duration(value: object) -> float:
    """``"1h30m"`` -> ``5400.0`` seconds. Bare numbers are refused: the unit is ambiguous."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise QuantityError(
            f"expected a duration such as '30s', '10m' or '1h30m', got {value!r}; "
            "write the unit (h, m, s or ms)"
        )
    text = value.strip()
    position = 0
    seconds = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise QuantityError(
            f"cannot read duration {value!r}: write a number and a unit (h, m, s or ms), "
            "for example '30s', '10m' or '1h30m'"
        )
    if seconds <= 0:
        raise QuantityError(f"duration {value!r} must be longer than zero")
    return seconds


def format_duration(seconds: float) -> str:
    """``5400.0`` -> ``"1h30m"``; the inverse of :func:`parse_duration`."""
    if seconds != int(seconds):
        millis = round(seconds * 1000)
        if millis % 1000:
            return f"{millis}ms"
        seconds = millis // 1000
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = ""
    if hours:
        text += f"{hours}h"
    if minutes:
        text += f"{minutes}m"
    if secs or not text:
        text += f"{secs}s"
    return text


def parse_memory(value: object) -> int:
    """``"2Gi"`` -> ``2147483648`` bytes; plain integers are bytes (as in Kubernetes)."""
    if isinstance(value, bool):
        raise QuantityError(f"expected a memory amount such as '512M' or '2Gi', got {value!r}")
    if isinstance(value, int):
        amount = value
    elif isinstance(value, str):
        match = _MEMORY.fullmatch(value.strip())
        if match is None:
            raise QuantityError(
                f"cannot read memory amount {value!r}: write a number with an optional "
                f"suffix K, M, G, T (powers of 1000) or Ki, Mi, Gi, Ti (powers of 1024), "
                f"optionally followed by B, for example '512M', '256MB' or '2Gi'"
            )
        if len(match.group(1)) > _MAX_NUMBER_CHARS:
            raise QuantityError(f"memory amount {value[:20]!r}... is too large")
        amount = float(match.group(1)) * _MEMORY_UNITS[match.group(2)]
    else:
        raise QuantityError(f"expected a memory amount such as '512M' or '2Gi', got {value!r}")
    if amount <= 0:
        raise QuantityError(f"memory amount {value!r} must be more than zero bytes")
    if amount > MAX_MEMORY_BYTES:
        raise QuantityError(
            f"memory amount {_short(value)} is more than Docker or Kubernetes accept "
            f"(at most {MAX_MEMORY_BYTES} bytes, about 8Ei)"
        )
    return int(amount)


def parse_cpu(value: object) -> float:
    """``"500m"`` -> ``0.5`` cores; numbers are cores."""
    if isinstance(value, bool):
        raise QuantityError(f"expected a number of CPU cores such as 1, 0.5 or '500m', got {value}")
    if isinstance(value, (int, float)):
        # min() first: a huge int has no float
        cores = float(min(value, MAX_CPU_CORES + 1)) if value == value else value
    elif isinstance(value, str) and (match := _CPU.fullmatch(value.strip())):
        cores = float(match.group(1)) / (1000 if match.group(2) else 1)
    else:
        raise QuantityError(
            f"cannot read CPU amount {value!r}: write cores (1, 0.5) or millicores ('500m')"
        )
    if cores <= 0:
        raise QuantityError(f"CPU amount {value!r} must be more than zero")
    if not cores <= MAX_CPU_CORES:  # also catches inf and nan
        raise QuantityError(
            f"CPU amount {_short(value)} is more than any machine has: at most "
            f"{MAX_CPU_CORES} cores"
        )
    return cores


def _short(value: object) -> str:
    if isinstance(value, int) and value.bit_length() > 128:
        return "of more than 38 digits"
    text = repr(value)
    return text if len(text) <= 40 else text[:30] + "..."
