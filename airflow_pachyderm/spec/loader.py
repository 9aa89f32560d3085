"""Load spec files and directories into checked :class:`PipelineSpec` objects.

Every error of every document of every file is collected, each with the position of the
offending node, so one ``validate`` run shows everything to fix.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from airflow_pachyderm.spec.checks import check_spec
from airflow_pachyderm.spec.errors import SpecError, SpecErrors, format_path
from airflow_pachyderm.spec.messages import UNSUPPORTED, human_message
from airflow_pachyderm.spec.models import PipelineSpec
from airflow_pachyderm.spec.warnings import spec_warnings
from airflow_pachyderm.spec.yaml_source import Document, YamlProblem, read_documents

SPEC_SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 10 * 1024 * 1024

FieldPath = tuple[str | int, ...]
# locate(path, key) -> (line, column); key=True asks for the key of a mapping entry.
Locator = Callable[[FieldPath, bool], tuple[int, int]]

# (display name, absolute path) -> (mtime_ns, size, specs, errors): DAG files are parsed
# again and again in one process; unchanged spec files are not read twice.
_cache: dict[tuple[str, str], tuple[int, int, list[PipelineSpec], list[SpecError]]] = {}


def load_specs(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> list[PipelineSpec]:
    """Load every pipeline of the given files and directories.

    Directories are searched recursively (hidden entries skipped) for ``*.yaml``,
    ``*.yml`` and ``*.json``, in sorted order. Raises :class:`SpecErrors` with every
    problem found in every file.
    """
    specs, errors = collect_specs(paths)
    if errors:
        raise SpecErrors(errors)
    return specs


def collect_specs(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> tuple[list[PipelineSpec], list[SpecError]]:
    """Like :func:`load_specs` but returns the valid specs and the errors separately."""
    files, errors = spec_files(paths)
    specs: list[PipelineSpec] = []
    for display, path in files:
        file_specs, file_errors = load_file(display, path)
        specs.extend(file_specs)
        errors.extend(file_errors)
    return specs, errors


def spec_files(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> tuple[list[tuple[str, Path]], list[SpecError]]:
    """The spec files named by ``paths`` as (display name, path), and path errors."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[tuple[str, Path]] = []
    errors: list[SpecError] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                candidate
                for candidate in path.rglob("*")
                if candidate.suffix in SPEC_SUFFIXES
                and candidate.is_file()
                and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
            )
            if not found:
                errors.append(
                    SpecError(
                        str(given), 1, 1, "", "directory holds no *.yaml, *.yml or *.json file"
                    )
                )
        elif path.is_file():
            found = [path]
        else:
            errors.append(SpecError(str(given), 1, 1, "", "no such file or directory"))
            continue
        for candidate in found:
            resolved = candidate.resolve()
            if resolved not in seen:
                seen.add(resolved)
                files.append((str(candidate), candidate))
    return files, errors


def load_file(display: str, path: Path) -> tuple[list[PipelineSpec], list[SpecError]]:
    """All pipelines of one file, and its errors (cached while the file is unchanged)."""
    try:
        stat = path.stat()
    except OSError as exc:
        return [], [SpecError(display, 1, 1, "", f"cannot read file: {exc.strerror}")]
    key = (display, str(path.resolve()))
    cached = _cache.get(key)
    if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
        return list(cached[2]), list(cached[3])
    specs, errors = _load_file(display, path, stat.st_size)
    _cache[key] = (stat.st_mtime_ns, stat.st_size, specs, errors)
    return list(specs), list(errors)


def _load_file(display: str, path: Path, size: int) -> tuple[list[PipelineSpec], list[SpecError]]:
    if size > MAX_FILE_BYTES:
        return [], [SpecError(display, 1, 1, "", f"file is larger than {MAX_FILE_BYTES} bytes")]
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [], [SpecError(display, 1, 1, "", f"file is not UTF-8 text: {exc.reason}")]
    except OSError as exc:
        return [], [SpecError(display, 1, 1, "", f"cannot read file: {exc.strerror}")]
    try:
        documents = list(read_documents(text))
    except YamlProblem as problem:
        return [], [SpecError(display, problem.line, problem.column, "", problem.message)]
    specs: list[PipelineSpec] = []
    errors: list[SpecError] = []
    for document in documents:
        for problem_path, line, column, message in document.problems:
            errors.append(SpecError(display, line, column, format_path(problem_path), message))
        if document.data is None and document.problems:
            continue  # already reported; a null document (`~`) is reported below
        # A value YAML could not read is reported once, not again as a wrong value.
        reported = {(line, column) for _, line, column, _ in document.problems}
        for prefix, data in _pipelines_of(display, document, errors):
            spec, spec_errors = _build(data, display, _document_locator(document, prefix))
            errors.extend(e for e in spec_errors if (e.line, e.column) not in reported)
            # A document with YAML problems (duplicate keys...) never yields a spec.
            if spec is not None and not document.problems:
                spec._source_line = document.locate(prefix)[0][0]
                spec._source_text = _source_text(text, document, prefix)
                specs.append(spec)
    if not documents:
        errors.append(SpecError(display, 1, 1, "", "file holds no pipeline spec"))
    return specs, errors


def _pipelines_of(
    display: str, document: Document, errors: list[SpecError]
) -> Iterable[tuple[FieldPath, Any]]:
    data = document.data
    line, column = document.start
    if not isinstance(data, dict):
        errors.append(
            SpecError(
                display,
                line,
                column,
                "",
                "expected a pipeline spec (a mapping with pipeline, input, transform...) "
                "or `pipelines:` followed by a list of them",
            )
        )
        return []
    if "pipelines" not in data:
        return [((), data)]
    listed = data["pipelines"]
    others = [key for key in data if key != "pipelines"]
    for key in others:
        (key_line, key_column), _ = document.locate((key,), key=True)
        errors.append(
            SpecError(
                display,
                key_line,
                key_column,
                str(key),
                "a document with `pipelines:` holds only that list: move this key into "
                "each pipeline",
            )
        )
    if not isinstance(listed, list):
        (list_line, list_column), _ = document.locate(("pipelines",))
        errors.append(
            SpecError(display, list_line, list_column, "pipelines", "expected a list of specs")
        )
        return []
    return [(("pipelines", index), item) for index, item in enumerate(listed)]


def _document_locator(document: Document, prefix: FieldPath) -> Locator:
    def locate(path: FieldPath, key: bool = False) -> tuple[int, int]:
        return document.locate((*prefix, *path), key=key)[0]

    return locate


def _source_text(text: str, document: Document, prefix: FieldPath) -> str:
    if not prefix:
        return text[document.start_index : document.end_index].strip("\n") + "\n"
    span = document.spans.get(prefix)
    if span is None:
        return ""
    start, end, column = span
    # The first line starts at the node, later lines keep the list's indentation.
    return textwrap.dedent(" " * (column - 1) + text[start:end].rstrip()) + "\n"


def spec_from_data(data: Any, *, file: str, locate: Locator | None = None) -> PipelineSpec:
    """Validate one spec given as data; raises :class:`SpecErrors`."""
    spec, errors = _build(data, file, locate or (lambda path, key=False: (1, 1)))
    if errors or spec is None:
        raise SpecErrors(errors)
    return spec


def _build(data: Any, file: str, locate: Locator) -> tuple[PipelineSpec | None, list[SpecError]]:
    errors: list[SpecError] = []
    if isinstance(data, dict) and "spout" in data:
        # One precise refusal rather than "input is missing" and "unknown key".
        line, column = locate(("spout",), True)
        return None, [SpecError(file, line, column, "spout", UNSUPPORTED["spout"])]
    try:
        spec = PipelineSpec.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            at_key = error["type"] == "extra_forbidden"
            if loc and loc[-1] == "[key]":
                # An invalid mapping key (e.g. an env var name): point at the key.
                loc, at_key = loc[:-1], True
            line, column = locate(loc, at_key)
            message = human_message(error, data)
            errors.append(SpecError(file, line, column, format_path(loc), message))
        return None, errors
    spec._source_file = file
    spec._locate = lambda path: locate(path, False)
    spec._warnings = [
        SpecError(file, *locate(path, True), format_path(path), message)
        for path, message in spec_warnings(data)
    ]
    for path, message in check_spec(spec):
        line, column = locate(path, False)
        errors.append(SpecError(file, line, column, format_path(path), message))
    return (None if errors else spec), errors


def clear_cache() -> None:
    """Forget cached files (tests, long-lived processes that want a fresh read)."""
    _cache.clear()
