"""Specs written the way Pachyderm users write them load as written, or are refused precisely.

The specs under ``pachyderm/`` cover each pattern found in Pachyderm's own examples:
underscored and capitalised names, projects, a missing image, memory units, file secrets,
Kubernetes-only keys, spouts and templates.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_pachyderm.spec import PipelineSpec, SpecErrors
from airflow_pachyderm.spec.checking import check_paths, load_graph
from airflow_pachyderm.spec.errors import format_warning
from airflow_pachyderm.spec.models import DEFAULT_IMAGE
from airflow_pachyderm.spec.names import (
    NameMappingError,
    env_alias,
    find_collisions,
    lakefs_repo_name,
)

HERE = Path(__file__).parent / "pachyderm"
LAB = HERE / "lab"
REFUSED = HERE / "refused"


@pytest.mark.parametrize(
    ("name", "project", "repo"),
    [
        ("raw_data", None, "raw-data"),
        ("Group_By_Hospital", None, "group-by-hospital"),
        ("raw-data", None, "raw-data"),
        ("images", "staging", "staging-images"),
        ("raw_data", "Lab_2", "lab-2-raw-data"),
        ("images", "default", "images"),
    ],
)
def test_mapping_is_documented_and_deterministic(name: str, project, repo: str) -> None:
    assert lakefs_repo_name(name, project) == repo
    # Mapping a mapped name changes nothing: lakeFS names are their own Pachyderm names.
    assert lakefs_repo_name(repo) == repo


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ab", "maps to lakeFS repository name 'ab', which lakeFS refuses"),
        ("_raw", "maps to lakeFS repository name '-raw'"),
        ("x" * 64, "which lakeFS refuses"),
        ("raw.data", "not a valid Pachyderm repo name"),
        ("$REPO", "template variable $REPO"),
    ],
)
def test_names_without_a_lakefs_repo_are_refused(name: str, problem: str) -> None:
    with pytest.raises(NameMappingError, match=problem.replace("$", r"\$")):
        lakefs_repo_name(name)


def test_collisions_name_every_spelling() -> None:
    pairs = [
        ("raw_data", "raw-data"),
        ("raw-data", "raw-data"),
        ("x", "x"),
        ("Raw_Data", "raw-data"),
    ]
    assert find_collisions(pairs) == {"raw-data": ["raw_data", "raw-data", "Raw_Data"]}


def test_env_alias_only_when_needed() -> None:
    assert env_alias("raw_data") is None
    assert env_alias("raw-data") == "raw_data"
    assert env_alias("2019-data") == "_2019_data"


def test_pachyderm_names_map_everywhere_and_stay_input_names() -> None:
    graph = load_graph(LAB)
    group = graph.specs["Group_By_Hospital"]
    reduce = graph.specs["reduce_hospitals"]
    assert (group.output_repo, group.dag_id) == ("group-by-hospital", "Group_By_Hospital")
    (lab,) = group.pfs_inputs()
    assert (lab.name, lab.repo, lab.lakefs_repo) == ("lab_results", "lab_results", "lab-results")
    assert group.input_repos() == [("lab-results", "main")]
    # A repo written with '-' needs no `name:`; a pipeline read under its Pachyderm name is
    # found through the mapping, so the graph links the two pipelines.
    assert [(p.name, p.lakefs_repo) for p in reduce.pfs_inputs()] == [
        ("Group_By_Hospital", "group-by-hospital"),
        ("c-parameters", "c-parameters"),
    ]
    assert graph.upstream("reduce_hospitals") == ["Group_By_Hospital"]
    assert graph.topological_order().index("Group_By_Hospital") < graph.topological_order().index(
        "reduce_hospitals"
    )


def test_projects_prefix_repos_and_inputs_inherit_the_pipeline_project() -> None:
    edges = load_graph(LAB).specs["staging/edges"]
    assert (edges.project, edges.output_repo, edges.dag_id) == (
        "staging",
        "staging-edges",
        "staging.edges",
    )
    assert [(p.name, p.project, p.lakefs_repo) for p in edges.pfs_inputs()] == [
        ("images", "staging", "staging-images"),
        ("images", "default", "images"),
    ]
    again = PipelineSpec.from_dict(edges.to_dict())
    assert again.spec_hash() == edges.spec_hash() and again.output_repo == "staging-edges"


def test_missing_image_units_and_resources() -> None:
    group = load_graph(LAB).specs["Group_By_Hospital"]
    assert group.transform.image == DEFAULT_IMAGE
    limits, requests = group.resource_limits, group.resource_requests
    assert limits is not None and requests is not None
    assert (limits.memory, limits.cpu) == (256 * 10**6, 1.0)
    assert (requests.memory, requests.cpu) == (128 * 2**20, 0.5)
    reduce = load_graph(LAB).specs["reduce_hospitals"]
    assert reduce.resource_limits is not None and reduce.resource_limits.memory == 2**30
    assert reduce.transform.accept_return_code == [1]
    assert reduce.transform.err_stdin == ["exit 0"]


def test_sql_database_egress() -> None:
    churn = load_graph(LAB).specs["churn"]
    assert churn.egress is not None and churn.egress.url is None
    sql = churn.egress.sql_database
    assert sql is not None
    assert (sql.url, sql.file_format.type, sql.file_format.columns) == (
        "postgres://reporter@db.internal:5432/analytics",
        "CSV",
        ["customer", "churn"],
    )
    assert (sql.secret.name, sql.secret.key) == ("analytics_db", "PACHYDERM_SQL_PASSWORD")
    with pytest.raises(SpecErrors, match="egress needs exactly one of URL"):
        PipelineSpec.from_dict(
            {**churn.to_dict(), "egress": {**churn.to_dict()["egress"], "URL": "s3://b/p"}}
        )


def test_file_secrets_and_env_secrets() -> None:
    edges = load_graph(LAB).specs["staging/edges"]
    assert [(s.name, s.key, s.env_var, s.mount_path) for s in edges.transform.secrets] == [
        ("mongo", None, None, "/tmp/mongosecret"),
        ("warehouse", "password", None, "/secrets/warehouse"),
        ("api", None, "API_TOKEN", None),
    ]


def test_kubernetes_only_keys_and_defaults_warn_where_they_are_written() -> None:
    specs, errors = check_paths(LAB)
    assert errors == []
    shown = sorted(
        format_warning(w).split(": warning: ")[0] + " " + w.field_path
        for spec in specs
        for w in spec.warnings
    )
    assert shown == [
        f"{LAB}/edges.pipeline.json:20:5 transform.imagePullSecrets",
        f"{LAB}/group_by_hospital.pipeline.json:17:3 transform",
        f"{LAB}/group_by_hospital.pipeline.json:29:3 autoscaling",
        f"{LAB}/group_by_hospital.pipeline.json:30:3 podPatch",
    ]
    messages = {w.field_path: w.message for spec in specs for w in spec.warnings}
    assert messages["autoscaling"].startswith("autoscaling configures Kubernetes and has no effect")
    assert messages["transform"].startswith(
        f"no image: the transform runs on the default image {DEFAULT_IMAGE}"
    )
    # Ignored keys change nothing a job depends on.
    group = next(spec for spec in specs if spec.name == "Group_By_Hospital")
    assert "autoscaling" not in group.to_dict() and "podPatch" not in group.to_dict()


REFUSALS = {
    "spout.pipeline.json": [
        "3:3: spout: spout pipelines are not supported: instead of a long-running container "
        "pushing data, write an Airflow DAG (or any lakeFS client) that commits the data to a "
        "lakeFS repository, and read that repo with a pfs input"
    ],
    "template.pipeline.json": [
        "2:24: pipeline.name: '$PIPELINE_NAME' holds the template variable $PIPELINE_NAME, "
        "which nothing here substitutes: render the spec first (e.g. `envsubst < spec.json > "
        "rendered.json`, or a Jsonnet/Jinja step) and validate the result",
        "3:26: transform.image: '${IMAGE}' holds the template variable ${IMAGE}, which",
        "4:20: input.pfs.name: '$PIPELINE_REPO' holds the template variable $PIPELINE_REPO",
        "4:29: input.pfs.repo: '$PIPELINE_REPO' holds the template variable $PIPELINE_REPO",
    ],
    "lazy_and_disk.pipeline.json": [
        "4:61: input.pfs.lazy: lazy: true is not supported: input files are materialised "
        "before the command starts",
        "5:30: resourceLimits.disk: disk is not supported: the Docker runner cannot cap what a "
        "container writes to /pfs/out",
        "5:53: resourceLimits.gpu.type: must be one of 'nvidia.com/gpu', got the string "
        "'amd.com/gpu'",
    ],
    "env_alias.pipeline.json": [
        "7:15: input.cross[1].pfs.name: input names 'c_x' and 'c-x' (line 6) both give the "
        "environment variable 'c_x'; inputs of one datum need distinct names"
    ],
    "collision": [
        "images.pipeline.json:2:24: pipeline.name: 'Images_Out' and 'images-out' both map to "
        "lakeFS repository 'images-out' (names are lower-cased and '_' becomes '-'): rename "
        "one of them",
        "reader.pipeline.json:4:29: input.pfs.repo: 'images-out' and 'Images_Out' both map to "
        "lakeFS repository 'images-out'",
    ],
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refused_precisely(name: str) -> None:
    path = REFUSED / name
    _specs, errors = check_paths(path)
    prefix = f"{path}/" if path.is_dir() else f"{path}:"
    shown = [str(error).removeprefix(prefix) for error in errors]
    assert len(shown) == len(REFUSALS[name]), shown
    for line, expected in zip(shown, REFUSALS[name], strict=True):
        assert line.startswith(expected), line


def test_refused_specs_raise_for_dag_files() -> None:
    with pytest.raises(SpecErrors, match="spout pipelines are not supported"):
        load_graph(REFUSED / "spout.pipeline.json")
