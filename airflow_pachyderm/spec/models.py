"""Pydantic models of a pipeline spec, in Pachyderm's shape.

Keys are Pachyderm's camelCase (``joinOn``, ``parallelismSpec``); the snake_case spelling
(``join_on``) is accepted too. Quantities are stored normalised: durations in seconds,
memory in bytes, CPU in cores. Checks that involve several fields or the position of an
input in the tree live in :mod:`airflow_pachyderm.spec.checks`.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from airflow_pachyderm.lakefs.names import BRANCH_NAME
from airflow_pachyderm.spec.cron import CronError, check_cron
from airflow_pachyderm.spec.glob import GlobError, check_glob
from airflow_pachyderm.spec.names import (
    DEFAULT_PROJECT,
    INPUT_NAME,
    OUTPUT_DIR_NAME,
    NameMappingError,
    check_pachyderm_name,
    lakefs_repo_name,
    template_message,
)
from airflow_pachyderm.spec.quantities import (
    QuantityError,
    format_duration,
    parse_cpu,
    parse_duration,
    parse_memory,
)

# The custom error type whose message is shown to the user as written.
SPEC_ERROR = "spec"


def spec_error(message: str) -> PydanticCustomError:
    # The message goes through the context so that braces in it are not templates.
    return PydanticCustomError(SPEC_ERROR, "{detail}", {"detail": message})


def _quantity(parse: Any) -> Any:
    def validate(value: object) -> Any:
        try:
            return parse(value)
        except QuantityError as exc:
            raise spec_error(str(exc)) from None

    return validate


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DAG_ID_CHARS = re.compile(r"[A-Za-z0-9_.-]*")


def _check_repo(value: str) -> str:
    # A Pachyderm name; the lakeFS repository it maps to is checked with its project.
    try:
        check_pachyderm_name(value, "repo")
    except NameMappingError as exc:
        raise spec_error(str(exc)) from None
    return value


def _check_mapping(name: str, project: str | None) -> None:
    try:
        lakefs_repo_name(name, project)
    except NameMappingError as exc:
        raise spec_error(str(exc)) from None


def _check_project(value: Any) -> Any:
    # Pachyderm writes a pipeline's project as {name: ...} and an input's as a string.
    if isinstance(value, dict) and set(value) == {"name"}:
        value = value["name"]
    if isinstance(value, str):
        try:
            check_pachyderm_name(value, "project")
        except NameMappingError as exc:
            raise spec_error(str(exc)) from None
    return value


def _check_branch(value: str) -> str:
    if not BRANCH_NAME.fullmatch(value):
        raise spec_error(
            f"{value!r} is not a valid lakeFS branch name: use letters, digits, '_' and '-', "
            "starting with a letter, digit or '_'"
        )
    return value


def _check_input_name(value: str) -> str:
    template = template_message(value)
    if template is not None:
        raise spec_error(template)
    if not INPUT_NAME.fullmatch(value):
        suggestion = re.sub(r"[^A-Za-z0-9_-]+", "_", value).strip("_-") or "data"
        raise spec_error(
            f"{value!r} is not a valid input name: it becomes the directory /pfs/<name> and the "
            "environment variable <name>, so use letters, digits, '_' and '-', not starting "
            "with '-' (inputs are named after their repo unless `name:` is set); "
            f"for example name: {suggestion}"
        )
    if value == OUTPUT_DIR_NAME:
        raise spec_error(
            "input name 'out' is reserved for the output directory /pfs/out; set another `name:`"
        )
    return value


def _check_env_name(value: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise spec_error(
            f"{value!r} is not a valid environment variable name: use letters, digits and '_', "
            "not starting with a digit"
        )
    return value


def _rooted_glob(value: Any) -> Any:
    # Pachyderm cleans a glob to an absolute path: "urls/*" is "/urls/*".
    if isinstance(value, str) and value and not value.startswith("/"):
        return "/" + value
    return value


def _check_glob(value: str) -> str:
    try:
        check_glob(value)
    except GlobError as exc:
        raise spec_error(str(exc)) from None
    return value


def _check_cron(value: str) -> str:
    try:
        check_cron(value)
    except CronError as exc:
        raise spec_error(str(exc)) from None
    return value


DEFAULT_IMAGE = "airflow-pachyderm/python:latest"


def _check_image(value: str) -> str:
    _check_not_blank(value)
    template = template_message(value)
    if template is not None:
        raise spec_error(template)
    return value


def _check_not_blank(value: str) -> str:
    if not value.strip():
        raise spec_error("must not be empty")
    return value


RepoName = Annotated[str, AfterValidator(_check_repo)]
BranchName = Annotated[str, AfterValidator(_check_branch)]
InputName = Annotated[str, AfterValidator(_check_input_name)]
EnvName = Annotated[str, AfterValidator(_check_env_name)]
Glob = Annotated[str, BeforeValidator(_rooted_glob), AfterValidator(_check_glob)]
ProjectName = Annotated[
    str,
    BeforeValidator(_check_project),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "object", "properties": {"name": {"type": "string"}}},
            ],
            "description": "A Pachyderm project: a name, or {name: ...} as Pachyderm writes it "
            "for pipelines.",
        }
    ),
]
CronSchedule = Annotated[str, AfterValidator(_check_cron)]
NonEmptyStr = Annotated[str, AfterValidator(_check_not_blank)]

Duration = Annotated[
    float,
    BeforeValidator(_quantity(parse_duration)),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([0-9]+(\.[0-9]+)?(ms|h|m|s))+$",
            "description": "A duration such as '30s', '10m' or '1h30m'.",
        }
    ),
]
# A transform needs a few processes (shell, interpreter, supervisor); the kernel's pid_max
# caps the rest.
MIN_PIDS = 16
MAX_PIDS = 4_194_304
_MEMORY_PATTERN = r"^[0-9]+(\.[0-9]+)?([eE][0-9]+)?([KMGTPE]i|[kKMGTPE])?B?$"
Memory = Annotated[
    int,
    BeforeValidator(_quantity(parse_memory)),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": _MEMORY_PATTERN},
            ],
            "description": "Bytes, or a quantity such as '512M' or '512MB' (10^6) or '2Gi' (2^30).",
        }
    ),
]
Cpu = Annotated[
    float,
    BeforeValidator(_quantity(parse_cpu)),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?m?$"},
            ],
            "description": "Cores (1, 0.5) or millicores ('500m').",
        }
    ),
]


def pachyderm(equivalent: str) -> dict[str, str]:
    """Field metadata naming the Pachyderm spec field this one corresponds to."""
    return {"x-pachyderm": equivalent}


class SpecModel(BaseModel):
    """Shared configuration: camelCase keys, snake_case accepted, unknown keys refused."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        alias_generator=to_camel,
        frozen=True,
        str_strip_whitespace=False,
    )


class PFSInput(SpecModel):
    """Files of a branch of a lakeFS repository, split into datums by a glob."""

    name: InputName = Field(
        description="Name of the input: the directory /pfs/<name> and the environment "
        "variables <name> and <name>_COMMIT (a name that is not a shell identifier, such as "
        "'raw-data', also gets them as 'raw_data'). Defaults to the repo name as written.",
        json_schema_extra=pachyderm("input.pfs.name"),
    )
    project: ProjectName | None = Field(
        None,
        description="Pachyderm project of the repo; defaults to the pipeline's project. "
        "'default' adds no prefix.",
        json_schema_extra=pachyderm("input.pfs.project"),
    )
    repo: RepoName = Field(
        description="Repo to read (an input repo or another pipeline's output), as Pachyderm "
        "names it; the lakeFS repository is the mapped name (lower-case, '_' -> '-', "
        "'<project>-' in front with a project).",
        json_schema_extra=pachyderm("input.pfs.repo"),
    )
    branch: BranchName = Field(
        "main",
        description="Branch whose head commit is read; a new commit on it triggers the pipeline.",
        json_schema_extra=pachyderm("input.pfs.branch"),
    )
    glob: Glob = Field(
        description="Glob pattern splitting the files into datums: '/' is the whole repo as one "
        "datum, '/*' one datum per top-level entry. '( )' are capture groups for joinOn/groupBy.",
        json_schema_extra=pachyderm("input.pfs.glob"),
    )
    empty_files: bool = Field(
        False,
        description="Materialise files empty (names only) instead of with their content.",
        json_schema_extra=pachyderm("input.pfs.emptyFiles"),
    )
    lazy: bool = Field(
        False,
        description="Only false is accepted: files are materialised (hard links from a local "
        "cache) before the command starts; fetching on first read is not supported.",
        json_schema_extra=pachyderm("input.pfs.lazy"),
    )
    join_on: str | None = Field(
        None,
        description="Inside a join: the key built from the glob's capture groups, e.g. '$1'.",
        json_schema_extra=pachyderm("input.pfs.joinOn"),
    )
    outer_join: bool = Field(
        False,
        description="Inside a join: also emit datums for files that match no other input.",
        json_schema_extra=pachyderm("input.pfs.outerJoin"),
    )
    group_by: str | None = Field(
        None,
        description="Inside a group: the key built from the glob's capture groups, e.g. '$1'.",
        json_schema_extra=pachyderm("input.pfs.groupBy"),
    )

    @model_validator(mode="before")
    @classmethod
    def _name_defaults_to_repo(cls, data: Any) -> Any:
        if isinstance(data, dict) and "name" not in data and isinstance(data.get("repo"), str):
            return {**data, "name": data["repo"]}
        return data

    @field_validator("lazy")
    @classmethod
    def _not_lazy(cls, value: bool) -> bool:
        if value:
            raise spec_error(
                "lazy: true is not supported: input files are materialised before the command "
                "starts (hard links from a local cache, each file downloaded once per worker); "
                "remove it, or use emptyFiles: true if the code only needs the file names"
            )
        return value

    @field_validator("repo")
    @classmethod
    def _maps_to_a_repo(cls, value: str, info: ValidationInfo) -> str:
        _check_mapping(value, info.data.get("project"))
        return value

    @property
    def capture_groups(self) -> int:
        """Number of ``( )`` groups in the glob."""
        return check_glob(self.glob)

    @property
    def lakefs_repo(self) -> str:
        """The lakeFS repository this input reads (see :mod:`airflow_pachyderm.spec.names`)."""
        return lakefs_repo_name(self.repo, self.project)

    @property
    def qualified_repo(self) -> str:
        """``project/repo`` as written (just ``repo`` without a project): for messages."""
        return qualified_name(self.repo, self.project)


class CronInput(SpecModel):
    """A tick on a schedule: the pipeline runs on time, not only on new data."""

    name: InputName = Field(
        description="Name of the input (directory /pfs/<name> holds a file named after the tick "
        "time).",
        json_schema_extra=pachyderm("input.cron.name"),
    )
    spec: CronSchedule = Field(
        validation_alias=AliasChoices("spec", "schedule"),
        description="When to run: 5-field cron ('*/10 * * * *'), a macro ('@daily') or "
        "'@every 10m'. 'schedule' is accepted as another spelling.",
        json_schema_extra=pachyderm("input.cron.spec"),
    )
    overwrite: bool = Field(
        False,
        description="Replace the previous tick instead of adding one (only the latest tick "
        "is a datum).",
        json_schema_extra=pachyderm("input.cron.overwrite"),
    )


class Input(SpecModel):
    """An input node: exactly one of pfs, cross, union, join, group, cron."""

    pfs: PFSInput | None = Field(
        None, description="Files of one repo branch.", json_schema_extra=pachyderm("input.pfs")
    )
    cross: list[Input] | None = Field(
        None,
        min_length=1,
        description="Cartesian product: every combination of one datum of each input.",
        json_schema_extra=pachyderm("input.cross"),
    )
    union: list[Input] | None = Field(
        None,
        min_length=1,
        description="The datums of all inputs, one after the other.",
        json_schema_extra=pachyderm("input.union"),
    )
    join: list[Input] | None = Field(
        None,
        min_length=1,
        description="Datums of pfs inputs whose joinOn keys are equal.",
        json_schema_extra=pachyderm("input.join"),
    )
    group: list[Input] | None = Field(
        None,
        min_length=1,
        description="One datum per groupBy key, holding every matching file of every input.",
        json_schema_extra=pachyderm("input.group"),
    )
    cron: CronInput | None = Field(
        None, description="A schedule.", json_schema_extra=pachyderm("input.cron")
    )

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Input:
        kinds = [kind for kind in INPUT_KINDS if getattr(self, kind) is not None]
        if len(kinds) != 1:
            found = "none" if not kinds else " and ".join(kinds)
            hint = (
                "; nest them in a cross or union to combine them"
                if kinds
                else ': write for example `pfs: {repo: data, glob: "/*"}`'
            )
            raise spec_error(
                f"an input needs exactly one of {', '.join(INPUT_KINDS)}; found {found}{hint}"
            )
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in INPUT_KINDS if getattr(self, kind) is not None)

    @property
    def children(self) -> list[Input]:
        """The nested inputs of a cross/union/join/group, empty for pfs and cron."""
        value = getattr(self, self.kind)
        return value if isinstance(value, list) else []

    def walk(self, path: tuple[str | int, ...] = ("input",)) -> Iterator[tuple[tuple, Input]]:
        """Every node of the input tree with its path in the spec, depth first."""
        yield path, self
        for index, child in enumerate(self.children):
            yield from child.walk((*path, self.kind, index))


INPUT_KINDS = ("pfs", "cross", "union", "join", "group", "cron")


def _check_mount_path(value: str) -> str:
    template = template_message(value)
    if template is not None:
        raise spec_error(template)
    parts = value.split("/")
    if not value.startswith("/") or any(part in (".", "..") for part in parts):
        raise spec_error(
            f"mount_path {value!r} must be an absolute directory path without '.' or '..', "
            "e.g. /secrets/db"
        )
    top = next((part for part in parts if part), "")
    if not top or top in ("pfs", "proc", "sys", "dev", ".airflow-pachyderm"):
        raise spec_error(
            f"mount_path {value!r} would hide a directory the container needs: use a "
            "directory of its own, e.g. /secrets/db"
        )
    return value.rstrip("/")


class Secret(SpecModel):
    """A value from an Airflow connection or variable, given to the container as an
    environment variable (``env_var``) or as read-only files (``mount_path``)."""

    name: NonEmptyStr = Field(
        description="Airflow variable key (without `key`) or connection id (with `key`).",
        json_schema_extra=pachyderm("transform.secrets.name (a Kubernetes secret there)"),
    )
    env_var: EnvName | None = Field(
        None,
        alias="env_var",
        validation_alias=AliasChoices("env_var", "envVar"),
        description="Environment variable that receives the value.",
        json_schema_extra=pachyderm("transform.secrets.env_var"),
    )
    mount_path: Annotated[str, AfterValidator(_check_mount_path)] | None = Field(
        None,
        alias="mount_path",
        validation_alias=AliasChoices("mount_path", "mountPath"),
        description="Directory where the secret appears as read-only files, as a Kubernetes "
        "secret volume: with `key`, the file <mount_path>/<key> holds that connection field; "
        "without it the Airflow variable `name` must be a JSON object and each entry becomes "
        "the file <mount_path>/<entry>. The files live in the job's scratch space, are "
        "bind-mounted read-only into that batch's container only, and are deleted with it.",
        json_schema_extra=pachyderm("transform.secrets.mount_path"),
    )
    key: str | None = Field(
        None,
        description="Field of the Airflow connection: password, login, host, port, schema, "
        "uri, or extra.<name>. Without it the Airflow variable `name` is read.",
        json_schema_extra=pachyderm("transform.secrets.key"),
    )

    @model_validator(mode="after")
    def _one_target(self) -> Secret:
        if (self.env_var is None) == (self.mount_path is None):
            raise spec_error(
                "a secret needs exactly one of env_var (an environment variable) and "
                "mount_path (a directory of read-only files)"
            )
        if self.mount_path is not None and self.key is not None and "/" in self.key:
            raise spec_error(f"key {self.key!r} becomes a file name under mount_path: no '/'")
        return self


class Transform(SpecModel):
    """What runs for each datum (or batch of datums): a container image and a command."""

    image: Annotated[str, AfterValidator(_check_image)] = Field(
        DEFAULT_IMAGE,
        description="Container image, e.g. 'python:3.12-slim' or 'registry/name@sha256:...'. "
        f"Without it the pipeline runs on {DEFAULT_IMAGE} (python3 on Debian), with a "
        "validation warning.",
        json_schema_extra=pachyderm("transform.image"),
    )
    cmd: list[str] = Field(
        description="Command and arguments, as a list (no shell unless you run one).",
        json_schema_extra=pachyderm("transform.cmd"),
    )
    stdin: list[str] | None = Field(
        None,
        description="Lines written to the command's standard input (e.g. a shell script).",
        json_schema_extra=pachyderm("transform.stdin"),
    )
    err_cmd: list[str] | None = Field(
        None,
        description="Command run for a datum that failed every try; if it succeeds the datum "
        "counts as skipped instead of failed.",
        json_schema_extra=pachyderm("transform.errCmd"),
    )
    err_stdin: list[str] | None = Field(
        None,
        description="Lines written to errCmd's standard input.",
        json_schema_extra=pachyderm("transform.errStdin"),
    )
    env: dict[EnvName, str] = Field(
        default_factory=dict,
        description="Environment variables (string values; quote numbers).",
        json_schema_extra=pachyderm("transform.env"),
    )
    secrets: list[Secret] = Field(
        default_factory=list,
        description="Values from Airflow connections/variables exposed as environment variables.",
        json_schema_extra=pachyderm("transform.secrets (Kubernetes secrets there)"),
    )
    working_dir: str | None = Field(
        None,
        description="Working directory of the command inside the container.",
        json_schema_extra=pachyderm("transform.workingDir"),
    )
    user: str | None = Field(
        None,
        description="User (name or uid[:gid]) the command runs as.",
        json_schema_extra=pachyderm("transform.user"),
    )
    accept_return_code: list[Annotated[int, Field(ge=1, le=255)]] = Field(
        default_factory=list,
        description="Exit codes other than 0 that still count as success (the datum's "
        "outputs are kept). A timed-out datum fails whatever its exit code.",
        json_schema_extra=pachyderm("transform.acceptReturnCode"),
    )
    image_pull_secrets: Any = Field(
        None,
        exclude=True,
        description="Accepted and ignored, with a warning: images come from the Docker "
        "daemon's own registry credentials.",
        json_schema_extra=pachyderm("transform.imagePullSecrets (Kubernetes only)"),
    )
    network: bool = Field(
        False,
        description="Give the container network access. Off by default: the container only sees "
        "/pfs. Pachyderm has no such switch (its pods always have a network).",
        json_schema_extra=pachyderm("(none; airflow-pachyderm addition)"),
    )

    @field_validator("cmd", mode="before")
    @classmethod
    def _cmd_is_a_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                suggestion = json.dumps(shlex.split(value))
            except ValueError:
                suggestion = '["sh", "-c", "..."]'
            raise spec_error(f"write cmd as a list of arguments, e.g. cmd: {suggestion}")
        if isinstance(value, list) and not value:
            raise spec_error(
                'cmd is empty: write the command to run as a list, e.g. cmd: ["python3", '
                '"/code/main.py"]'
            )
        return value

    @field_validator("cmd")
    @classmethod
    def _cmd_has_a_program(cls, value: list[str]) -> list[str]:
        if not value[0].strip():
            raise spec_error("the first element of cmd is the program to run and cannot be blank")
        return value


class ParallelismSpec(SpecModel):
    """How many batches of one job may run at the same time."""

    constant: int = Field(
        1,
        ge=1,
        description="Number of concurrent workers (mapped process tasks running at once).",
        json_schema_extra=pachyderm("parallelismSpec.constant"),
    )


class DatumSetSpec(SpecModel):
    """How datums are grouped into batches (one process task each)."""

    number: int = Field(
        1,
        ge=1,
        description="Datums per batch.",
        json_schema_extra=pachyderm("datumSetSpec.number"),
    )


class GPU(SpecModel):
    """GPUs for the container, given by a Docker device request."""

    type: Literal["nvidia.com/gpu"] = Field(
        "nvidia.com/gpu",
        description="GPU resource type; Docker device requests give NVIDIA GPUs only. A "
        "daemon without a GPU runtime fails the job with a message saying so.",
        json_schema_extra=pachyderm("resourceLimits.gpu.type"),
    )
    number: int = Field(
        ge=1,
        description="Number of GPUs.",
        json_schema_extra=pachyderm("resourceLimits.gpu.number"),
    )


def _gpu_shorthand(value: Any) -> Any:
    # `gpu: 1` is the short form of `gpu: {number: 1}`.
    if isinstance(value, int) and not isinstance(value, bool):
        return {"number": value}
    return value


class Resources(SpecModel):
    """CPU, memory and GPU for each container (Docker: see resourceLimits/resourceRequests)."""

    cpu: Cpu | None = Field(
        None,
        description="CPU cores. Limit: Docker --cpus. Request: Docker --cpu-shares "
        "(cores x 1024), a weight that only counts when CPUs are contended.",
        json_schema_extra=pachyderm("resourceLimits.cpu"),
    )
    memory: Memory | None = Field(
        None,
        description="Memory in bytes. Limit: Docker --memory (no swap on top). Request: "
        "Docker --memory-reservation, a soft limit the kernel reclaims towards under memory "
        "pressure (nothing is reserved ahead).",
        json_schema_extra=pachyderm("resourceLimits.memory"),
    )
    gpu: Annotated[GPU, BeforeValidator(_gpu_shorthand)] | None = Field(
        None,
        description="GPUs: a number or {type, number}.",
        json_schema_extra=pachyderm("resourceLimits.gpu"),
    )
    disk: Memory | None = Field(
        None,
        description="Not supported (refused): Docker cannot cap what a container writes to "
        "/pfs/out, a host directory.",
        json_schema_extra=pachyderm("resourceLimits.disk"),
    )
    pids: int | None = Field(
        None,
        ge=MIN_PIDS,
        le=MAX_PIDS,
        description="Processes and threads each container may run (the Docker runner's "
        "default is 1024). Not in Pachyderm's spec.",
    )

    @field_validator("disk")
    @classmethod
    def _no_disk(cls, value: int | None) -> int | None:
        if value is not None:
            raise spec_error(
                "disk is not supported: the Docker runner cannot cap what a container writes "
                "to /pfs/out (a host directory) or its scratch space; remove it (outputs are "
                "checked and uploaded per datum, and the job's scratch space is removed after "
                "each batch)"
            )
        return value


class SQLFileFormat(SpecModel):
    """How the output files of a SQL egress are read."""

    type: Literal["CSV", "JSON"] = Field(
        description="CSV: comma-separated rows; JSON: one JSON object per line.",
        json_schema_extra=pachyderm("egress.sqlDatabase.fileFormat.type"),
    )
    columns: list[NonEmptyStr] = Field(
        default_factory=list,
        description="CSV: the files start with a header naming these columns; JSON: the keys "
        "to read. Empty: CSV rows hold every column of the table, in table order (no header), "
        "JSON objects are read by the table's column names.",
        json_schema_extra=pachyderm("egress.sqlDatabase.fileFormat.columns"),
    )


class SQLSecret(SpecModel):
    """Where the database password comes from."""

    name: NonEmptyStr = Field(
        description="Airflow variable holding a JSON object, as a Kubernetes secret holds keys.",
        json_schema_extra=pachyderm("egress.sqlDatabase.secret.name"),
    )
    key: NonEmptyStr = Field(
        description="Entry of that JSON object holding the password, e.g. "
        "PACHYDERM_SQL_PASSWORD.",
        json_schema_extra=pachyderm("egress.sqlDatabase.secret.key"),
    )


class SQLDatabaseEgress(SpecModel):
    """Load the output commit into database tables: each top-level directory of the output is
    a table, its files are rows. Every table written is emptied first, all in one
    transaction, as Pachyderm does."""

    url: NonEmptyStr = Field(
        description="Database URL without the password, e.g. "
        "'postgres://user@host:5432/db' or 'sqlite:////data/out.db' (any SQLAlchemy "
        "dialect installed on the workers; postgres:// means postgresql://).",
        json_schema_extra=pachyderm("egress.sqlDatabase.url"),
    )
    file_format: SQLFileFormat = Field(
        description="How the files are read.",
        json_schema_extra=pachyderm("egress.sqlDatabase.fileFormat"),
    )
    secret: SQLSecret = Field(
        description="Where the password comes from.",
        json_schema_extra=pachyderm("egress.sqlDatabase.secret"),
    )

    @field_validator("url")
    @classmethod
    def _has_scheme(cls, value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9+]*://", value):
            raise spec_error(
                f"sqlDatabase URL {value!r} needs a scheme, e.g. 'postgres://user@host/db'"
            )
        return value


class Egress(SpecModel):
    """Where the output commit is also copied after each job: exactly one of URL and
    sqlDatabase."""

    url: NonEmptyStr | None = Field(
        None,
        alias="URL",
        validation_alias=AliasChoices("URL", "url"),
        description="Destination URL: s3://bucket/prefix (through the Airflow AWS connection) "
        "or file:///absolute/directory.",
        json_schema_extra=pachyderm("egress.URL"),
    )
    sql_database: SQLDatabaseEgress | None = Field(
        None,
        description="Load the output files into database tables instead.",
        json_schema_extra=pachyderm("egress.sqlDatabase"),
    )

    @model_validator(mode="after")
    def _one_destination(self) -> Egress:
        if (self.url is None) == (self.sql_database is None):
            raise spec_error(
                "egress needs exactly one of URL (s3://bucket/prefix or file:///directory) "
                "and sqlDatabase"
            )
        return self

    @field_validator("url")
    @classmethod
    def _has_scheme(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not re.match(r"^[a-z][a-z0-9+.-]*://\S+$", value):
            raise spec_error(f"egress URL {value!r} needs a scheme, e.g. 's3://bucket/prefix'")
        scheme = value.split("://", 1)[0]
        if scheme not in ("s3", "file"):
            raise spec_error(
                f"egress URL {value!r}: scheme {scheme!r} is not supported; use "
                "s3://bucket/prefix or file:///absolute/directory"
            )
        if scheme == "file" and not value.startswith("file:///"):
            raise spec_error(f"egress URL {value!r}: write file:///absolute/directory")
        return value


class AirflowSettings(BaseModel):
    """How the pipeline's DAG looks in Airflow (not part of Pachyderm's spec)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: NonEmptyStr = Field("airflow", description="DAG owner shown in the Airflow UI.")
    tags: list[NonEmptyStr] = Field(
        default_factory=list, description="DAG tags ('pachyderm' is always added)."
    )
    retries: int = Field(0, ge=0, description="Retries of each task of the pipeline's DAG.")
    pool: str | None = Field(None, description="Airflow pool the process tasks run in.")
    max_active_runs: int = Field(
        1, ge=1, description="Jobs of this pipeline that may run at the same time."
    )
    dag_id_prefix: str = Field("", description="Prefix of the DAG id (dag_id = prefix + name).")

    @field_validator("dag_id_prefix")
    @classmethod
    def _dag_id_chars(cls, value: str) -> str:
        if not _DAG_ID_CHARS.fullmatch(value):
            raise spec_error(
                f"{value!r} cannot start a DAG id: use letters, digits, '_', '-' and '.'"
            )
        return value


class PipelineName(SpecModel):
    """The pipeline's identity; its name is also its output repo."""

    project: ProjectName | None = Field(
        None,
        description="Pachyderm project (2.5+): prefixes the output repo and, by default, the "
        "repos of the pfs inputs. 'default' adds no prefix.",
        json_schema_extra=pachyderm("pipeline.project.name"),
    )
    name: RepoName = Field(
        description="Pipeline name as Pachyderm writes it (capitals and '_' allowed); its "
        "output lakeFS repository is the mapped name (lower-case, '_' -> '-', "
        "'<project>-' in front with a project).",
        json_schema_extra=pachyderm("pipeline.name"),
    )

    @field_validator("name")
    @classmethod
    def _maps_to_a_repo(cls, value: str, info: ValidationInfo) -> str:
        _check_mapping(value, info.data.get("project"))
        return value


def _kubernetes_only(key: str) -> Any:
    return Field(
        None,
        exclude=True,
        description=f"Kubernetes only: accepted and ignored, with a warning ({key}).",
        json_schema_extra=pachyderm(key),
    )


# Pachyderm keys that only configure Kubernetes: accepted with a warning that they do nothing.
KUBERNETES_ONLY = {
    "autoscaling": "workers are Airflow tasks, started per batch",
    "pod_patch": "there is no pod: containers run on Docker",
    "pod_spec": "there is no pod: containers run on Docker",
    "scheduling_spec": "Airflow schedules the tasks (use airflow.pool)",
    "tolerations": "there are no Kubernetes nodes to tolerate",
    "sidecar_resource_limits": "there is no storage sidecar",
    "sidecar_resource_requests": "there is no storage sidecar",
    "metadata": "there are no pods to annotate or label",
    "standby": "workers are Airflow tasks and never idle",
    "max_queue_size": "batches are sized with datumSetSpec.number",
    "memory_volume": "inputs are host directories bind-mounted read-only",
}


class PipelineSpec(SpecModel):
    """One pipeline: inputs, transform, and how jobs run. The root of a spec document."""

    pipeline: PipelineName = Field(
        description="The pipeline's name.", json_schema_extra=pachyderm("pipeline")
    )
    description: str | None = Field(
        None,
        description="Free text shown in the DAG's docs.",
        json_schema_extra=pachyderm("description"),
    )
    input: Input = Field(
        description="What the pipeline reads, and how it is split into datums.",
        json_schema_extra=pachyderm("input"),
    )
    transform: Transform = Field(
        description="The container to run.", json_schema_extra=pachyderm("transform")
    )
    parallelism_spec: ParallelismSpec = Field(
        default_factory=ParallelismSpec,
        description="How many batches run at the same time.",
        json_schema_extra=pachyderm("parallelismSpec"),
    )
    datum_batching: bool = Field(
        False,
        description="Start the container once per batch of datums instead of once per datum "
        "(it then loops over the datums itself). Also accepted inside transform, as in "
        "Pachyderm.",
        json_schema_extra=pachyderm("transform.datumBatching"),
    )
    # None (not a default DatumSetSpec) when unset, so that it stays unset through
    # to_dict()/from_dict() on its way to the tasks: unset, batches follow parallelismSpec.
    datum_set_spec: DatumSetSpec | None = Field(
        None,
        description="How many datums make a batch (one process task); unset: as many "
        "batches as parallelismSpec.constant allows.",
        json_schema_extra=pachyderm("datumSetSpec"),
    )
    resource_requests: Resources | None = Field(
        None,
        description="Resources each container should get, mapped to what Docker can do: cpu "
        "-> --cpu-shares, memory -> --memory-reservation, gpu -> a device request. Docker "
        "schedules nothing ahead; a request above its limit is an error.",
        json_schema_extra=pachyderm("resourceRequests"),
    )
    resource_limits: Resources | None = Field(
        None,
        description="Resources each container may use at most.",
        json_schema_extra=pachyderm("resourceLimits"),
    )
    datum_tries: int = Field(
        3,
        ge=1,
        description="Attempts per datum before it counts as failed.",
        json_schema_extra=pachyderm("datumTries"),
    )
    datum_timeout: Duration | None = Field(
        None,
        description="Longest time one datum may run, e.g. '10m'.",
        json_schema_extra=pachyderm("datumTimeout"),
    )
    job_timeout: Duration | None = Field(
        None,
        description="Longest time a whole job may run, e.g. '2h'.",
        json_schema_extra=pachyderm("jobTimeout"),
    )
    reprocess_spec: Literal["until_success", "every_job"] = Field(
        "until_success",
        description="'until_success' skips datums that already succeeded with the same inputs; "
        "'every_job' reprocesses every datum in every job.",
        json_schema_extra=pachyderm("reprocessSpec"),
    )
    output_branch: BranchName = Field(
        "main",
        description="Branch of the output repo that receives each job's commit.",
        json_schema_extra=pachyderm("outputBranch"),
    )
    egress: Egress | None = Field(
        None,
        description="Copy each output commit to external storage.",
        json_schema_extra=pachyderm("egress"),
    )
    salt: str | None = Field(
        None,
        description="Mixed into every datum hash: change it to reprocess everything.",
        json_schema_extra=pachyderm("salt"),
    )
    autoscaling: Any = _kubernetes_only("autoscaling")
    pod_patch: Any = _kubernetes_only("podPatch")
    pod_spec: Any = _kubernetes_only("podSpec")
    scheduling_spec: Any = _kubernetes_only("schedulingSpec")
    tolerations: Any = _kubernetes_only("tolerations")
    sidecar_resource_limits: Any = _kubernetes_only("sidecarResourceLimits")
    sidecar_resource_requests: Any = _kubernetes_only("sidecarResourceRequests")
    metadata: Any = _kubernetes_only("metadata")
    standby: Any = _kubernetes_only("standby")
    max_queue_size: Any = _kubernetes_only("maxQueueSize")
    memory_volume: Any = _kubernetes_only("memoryVolume")
    airflow: AirflowSettings = Field(
        default_factory=AirflowSettings,
        description="Airflow DAG settings (owner, tags, retries, pool, max_active_runs, "
        "dag_id_prefix).",
        json_schema_extra=pachyderm("(none; airflow-pachyderm addition)"),
    )

    _source_file: str = PrivateAttr("<memory>")
    _source_line: int = PrivateAttr(1)
    _source_text: str | None = PrivateAttr(None)
    _locate: Any = PrivateAttr(None)
    _warnings: list[Any] = PrivateAttr(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _inputs_inherit_project(cls, data: Any) -> Any:
        # Pachyderm: a pfs input without a project reads from the pipeline's project.
        if not isinstance(data, dict) or not isinstance(data.get("pipeline"), dict):
            return data
        project = data["pipeline"].get("project")
        if isinstance(project, dict):
            project = project.get("name")
        if not isinstance(project, str) or not isinstance(data.get("input"), dict):
            return data
        return {**data, "input": _with_project(data["input"], project)}

    @model_validator(mode="after")
    def _requests_within_limits(self) -> PipelineSpec:
        requests, limits = self.resource_requests, self.resource_limits
        if requests is None or limits is None:
            return self
        for field in ("cpu", "memory"):
            wanted, most = getattr(requests, field), getattr(limits, field)
            if wanted is not None and most is not None and wanted > most:
                raise spec_error(
                    f"resourceRequests.{field} ({wanted:g}) is above resourceLimits.{field} "
                    f"({most:g}): a container cannot need more than it may use"
                )
        return self

    @model_validator(mode="before")
    @classmethod
    def _batching_inside_transform(cls, data: Any) -> Any:
        # Pachyderm puts datumBatching in transform; move it up unless both places set it,
        # in which case the transform copy is reported as a duplicate.
        if not isinstance(data, dict) or not isinstance(data.get("transform"), dict):
            return data
        transform = data["transform"]
        for key in ("datumBatching", "datum_batching"):
            if key in transform and "datumBatching" not in data and "datum_batching" not in data:
                rest = {k: v for k, v in transform.items() if k != key}
                return {**data, "transform": rest, "datumBatching": transform[key]}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineSpec:
        """Build and fully check a spec from a dict (e.g. :meth:`to_dict` output).

        Raises :class:`~airflow_pachyderm.spec.errors.SpecErrors` when it is invalid.
        """
        from airflow_pachyderm.spec.loader import spec_from_data

        return spec_from_data(data, file="<dict>")

    @property
    def name(self) -> str:
        return self.pipeline.name

    @property
    def project(self) -> str | None:
        return self.pipeline.project

    @property
    def output_repo(self) -> str:
        """The lakeFS repository of the pipeline's output (the mapped pipeline name)."""
        return lakefs_repo_name(self.pipeline.name, self.pipeline.project)

    @property
    def qualified_name(self) -> str:
        """``project/name`` as written (just ``name`` without a project)."""
        return qualified_name(self.pipeline.name, self.pipeline.project)

    @property
    def gpus(self) -> int:
        """GPUs to request from Docker: the larger of the limit and the request."""
        return max(
            (r.gpu.number for r in (self.resource_limits, self.resource_requests) if r and r.gpu),
            default=0,
        )

    @property
    def dag_id(self) -> str:
        """``dag_id_prefix`` + ``<project>.`` (outside the default project) + name."""
        return self.airflow.dag_id_prefix + self.qualified_name.replace("/", ".")

    @property
    def source_file(self) -> str:
        return self._source_file

    @property
    def source_line(self) -> int:
        return self._source_line

    @property
    def source_text(self) -> str | None:
        """The YAML text of this spec as written in its file, when loaded from one."""
        return self._source_text

    @property
    def warnings(self) -> list[Any]:
        """:class:`~airflow_pachyderm.spec.errors.SpecError` s that do not stop the pipeline:
        defaults taken and Pachyderm keys without effect here."""
        return list(self._warnings)

    def locate(self, path: tuple[str | int, ...]) -> tuple[int, int]:
        """1-based (line, column) of ``path`` in the source file (best effort)."""
        if self._locate is None:
            return (self._source_line, 1)
        return self._locate(path)

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-able dict in Pachyderm's camelCase, defaults filled in."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def spec_hash(self) -> str:
        """sha256 of the canonical JSON of :meth:`to_dict`; equal specs hash equal."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def input_nodes(self) -> Iterator[tuple[tuple, Input]]:
        """Every input node with its path, depth first."""
        return self.input.walk()

    def pfs_inputs(self) -> list[PFSInput]:
        """The leaf pfs inputs, in spec order."""
        return [node.pfs for _, node in self.input.walk() if node.pfs is not None]

    def cron_inputs(self) -> list[CronInput]:
        """The cron inputs, in spec order."""
        return [node.cron for _, node in self.input.walk() if node.cron is not None]

    def input_key(self, pfs: PFSInput) -> str:
        """The name a pfs input's commit goes by in a job, its pins and its provenance.

        The input's name, unless another input of a union shares the name but reads another
        repo or branch (Pachyderm's union of ``images`` from two projects): then
        ``<name>@<lakeFS repo>/<branch>``, so that each keeps its own commit.
        """
        others = {
            (other.lakefs_repo, other.branch)
            for other in self.pfs_inputs()
            if other.name == pfs.name
        }
        if len(others) <= 1:
            return pfs.name
        return f"{pfs.name}@{pfs.lakefs_repo}/{pfs.branch}"

    def input_repos(self) -> list[tuple[str, str]]:
        """Distinct (lakeFS repo, branch) pairs read by the pipeline, in spec order."""
        return list(dict.fromkeys((pfs.lakefs_repo, pfs.branch) for pfs in self.pfs_inputs()))


def qualified_name(name: str, project: str | None) -> str:
    """``project/name``, or ``name`` alone without a project or in the default project."""
    return f"{project}/{name}" if project and project != DEFAULT_PROJECT else name


def _with_project(node: dict[str, Any], project: str) -> dict[str, Any]:
    node = dict(node)
    pfs = node.get("pfs")
    if isinstance(pfs, dict) and "project" not in pfs:
        node["pfs"] = {**pfs, "project": project}
    for kind in ("cross", "union", "join", "group"):
        children = node.get(kind)
        if isinstance(children, list):
            node[kind] = [
                _with_project(child, project) if isinstance(child, dict) else child
                for child in children
            ]
    return node
