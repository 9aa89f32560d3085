"""Spec errors that point at the exact place in the user's file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from airflow_pachyderm.errors import PipelineSpecError


@dataclass(frozen=True, order=True)
class SpecError:
    """One problem in a spec file, formatted as ``FILE:LINE:COL: field.path: message``.

    ``line`` and ``column`` are 1-based; ``field_path`` is the dotted path inside the
    pipeline spec (``input.cross[0].pfs.glob``), empty when the problem concerns the
    whole document.
    """

    file: str
    line: int
    column: int
    field_path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        if self.field_path:
            return f"{where}: {self.field_path}: {self.message}"
        return f"{where}: {self.message}"


class SpecErrors(PipelineSpecError):
    """Every error found while loading or checking specs; ``str()`` lists them all."""

    def __init__(self, errors: Iterable[SpecError]) -> None:
        self.errors: list[SpecError] = sorted(set(errors), key=_error_order)
        super().__init__("\n".join(str(error) for error in self.errors))

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


def _error_order(error: SpecError) -> tuple[str, int, int, str, str]:
    return (error.file, error.line, error.column, error.field_path, error.message)


def format_warning(warning: SpecError) -> str:
    """``FILE:LINE:COL: warning: field.path: message``."""
    where = f"{warning.file}:{warning.line}:{warning.column}: warning"
    return f"{where}: {warning.field_path}: {warning.message}"


def format_path(path: Iterable[str | int]) -> str:
    """``("input", "cross", 0, "pfs")`` -> ``input.cross[0].pfs``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
