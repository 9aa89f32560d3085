"""Turning a transform's output bytes into masked, datum-prefixed log lines."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

MAX_LINE_BYTES = 16 * 1024  # longer lines are split, so memory stays bounded
TAIL_LINES = 20


class SecretMasker:
    """Replaces every secret value with ``***``; longest first, so overlaps stay hidden."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


class LineLogger:
    """Splits a byte stream into lines, masks them, logs them with a prefix, keeps a tail."""

    def __init__(self, prefix: str, log: Callable[[str], None], mask: SecretMasker) -> None:
        self._prefix = prefix
        self._log = log
        self._mask = mask
        self._pending = b""
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)

    def feed(self, chunk: bytes) -> None:
        data = self._pending + chunk
        *lines, self._pending = data.split(b"\n")
        for line in lines:
            self._emit(line)
        while len(self._pending) > MAX_LINE_BYTES:
            self._emit(self._pending[:MAX_LINE_BYTES])
            self._pending = self._pending[MAX_LINE_BYTES:]

    def close(self) -> None:
        if self._pending:
            self._emit(self._pending)
            self._pending = b""

    def note(self, message: str) -> None:
        """Log a runner message about this datum (not part of the tail)."""
        self._log(f"{self._prefix} {self._mask(message)}")

    def _emit(self, raw: bytes) -> None:
        line = self._mask(raw.decode("utf-8", errors="replace").rstrip("\r"))
        self.tail.append(line)
        self._log(f"{self._prefix} {line}")
