"""The provider's exceptions form one tree under PachydermError, one class per name."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import airflow_pachyderm
from airflow_pachyderm import errors
from airflow_pachyderm.lakefs import errors as lakefs_errors

# The embedded server's errors become HTTP answers, never Python errors of a client.
OUTSIDE_THE_TREE = ("airflow_pachyderm.server",)


def _exception_classes() -> list[type[BaseException]]:
    for info in pkgutil.walk_packages(airflow_pachyderm.__path__, "airflow_pachyderm."):
        if not info.name.startswith(OUTSIDE_THE_TREE) and not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    found: list[type[BaseException]] = []
    todo: list[type[BaseException]] = [BaseException]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("airflow_pachyderm.") and not sub.__module__.startswith(
                OUTSIDE_THE_TREE
            ):
                found.append(sub)
    return sorted(set(found), key=lambda c: (c.__module__, c.__qualname__))


def test_every_exception_class_is_in_the_tree_and_named_once() -> None:
    classes = _exception_classes()
    assert len(classes) > 20
    outside = [f"{c.__module__}.{c.__qualname__}" for c in classes
               if not issubclass(c, errors.PachydermError)]
    assert outside == []
    names = [c.__name__ for c in classes]
    assert sorted({n for n in names if names.count(n) > 1}) == []


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.PipelineSpecError, ValueError),
        (errors.DatumError, ValueError),
        (errors.JobInputError, ValueError),
        (errors.JobStateMissingError, LookupError),
        (errors.DatumFailedError, RuntimeError),
        (errors.RunnerError, RuntimeError),
        (errors.EgressError, ValueError),
    ],
)
def test_errors_are_also_the_builtins_callers_catch(cls: type, builtin: type) -> None:
    assert issubclass(cls, builtin)


def test_a_glob_error_is_a_spec_error_and_a_datum_error() -> None:
    from airflow_pachyderm.datums.errors import GlobError as datum_glob
    from airflow_pachyderm.spec.glob import GlobError as spec_glob
    from airflow_pachyderm.spec.glob import check_glob

    assert datum_glob is spec_glob is errors.GlobError
    with pytest.raises(errors.PipelineSpecError, match="must start with '/'"):
        check_glob("*.txt")
    with pytest.raises(errors.DatumError):
        check_glob("/[")


def test_a_moved_output_branch_is_a_job_error_not_an_http_one() -> None:
    from airflow_pachyderm.jobs.commit import OutputBranchMovedError

    assert issubclass(OutputBranchMovedError, errors.JobError)
    assert not issubclass(OutputBranchMovedError, errors.LakeFSError)


def test_retryable_splits_bad_input_from_passing_trouble() -> None:
    assert errors.is_permanent(errors.JobInputError("no such ref"))
    assert errors.is_permanent(lakefs_errors.BadRequestError("bad name"))
    assert not errors.is_permanent(lakefs_errors.ServerError("down", status=503))
    assert not errors.is_permanent(errors.DatumFailedError("flaky"))
    assert not errors.is_permanent(ValueError("not ours"))
