"""Every data verb through the installed script against the embedded server: what it does,
its ``--json`` shape, and its one-line error for a missing repo, a bad ref, a missing path."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest
from clikit import Cli


def _repo(cli: Cli) -> str:
    name = f"cli-{secrets.token_hex(4)}"
    cli("repo", "create", name)
    return name


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _specs(tmp_path: Path, *pipelines: tuple[str, str]) -> Path:
    """A spec file of (pipeline, input repo) pairs."""
    spec = tmp_path / "specs.yaml"
    spec.write_text("---\n".join(
        f"pipeline: {{name: {name}}}\ninput: {{pfs: {{repo: {repo}, glob: '/*'}}}}\n"
        "transform: {image: 'airflow-pachyderm/python:latest', cmd: [python3, -c, pass]}\n"
        for name, repo in pipelines
    ))
    return spec


def test_repo_create_list_delete(cli: Cli) -> None:
    created = cli("repo", "create", "Raw_Data_" + secrets.token_hex(3), "--branch", "dev",
                  "--json").json()
    name = created["name"]
    assert name.startswith("raw-data-")  # the Pachyderm name maps as in specs
    assert created["default_branch"] == "dev"
    listed = cli("repo", "list", "--json").json()
    assert {"name", "default_branch", "storage_namespace", "creation_date"} <= set(listed[0])
    assert name in [r["name"] for r in listed]
    assert name in cli("repo", "list").stdout
    cli.fails("repo", "create", name, expect=name)
    cli.fails("repo", "delete", name, expect="--yes")
    cli("repo", "delete", name, "--yes")
    assert name not in [r["name"] for r in cli("repo", "list", "--json").json()]
    cli.fails("repo", "delete", name, "--yes", expect="not found")
    cli.fails("repo", "create", "Not a name", expect="not a valid Pachyderm repo name")


def test_put_and_get_round_trip(cli: Cli, tmp_path: Path) -> None:
    repo = _repo(cli)
    files = {"a.csv": "x,y\n1,2\n", "sub/b.json": '{"k": 1}', "sub/deeper/c.txt": "c"}
    src = _tree(tmp_path / "src", files)
    put = cli("put", "-r", str(src), f"{repo}@main:data/", "-m", "first data", "--json").json()
    assert put["files"] == 3 and put["bytes"] == sum(len(t) for t in files.values())
    assert put["commit"] and put["branch"] == "main"
    assert sorted(put["paths"]) == sorted(f"data/{rel}" for rel in files)
    log = cli("log", f"{repo}@main", "-n", "1", "--json").json()
    assert log[0]["id"] == put["commit"] and log[0]["message"] == "first data"

    got = cli("get", "-r", f"{repo}@main:data", "-o", str(tmp_path / "back"), "--json").json()
    assert got["files"] == 3 and got["commit"] == put["commit"]
    for rel, text in files.items():
        assert (tmp_path / "back" / rel).read_text() == text
    one = cli("get", f"{repo}@{put['commit'][:10]}:data/a.csv", "-o", "-")
    assert one.stdout == files["a.csv"]

    single = tmp_path / "single.txt"
    single.write_text("one")
    cli("put", str(single), f"{repo}@main:renamed.txt")
    staged = cli("put", str(single), f"{repo}@main:staged.txt", "--no-commit", "--json").json()
    assert staged["commit"] is None
    assert cli("log", f"{repo}@main", "--json").json()[0]["message"] == "put 1 file(s)"
    names = [e["path"] for e in cli("ls", f"{repo}@main", "--json").json()["entries"]]
    assert names == ["data/", "renamed.txt"]  # staged.txt is not committed

    big = tmp_path / "big.bin"  # past the size that comes down in parallel ranges
    big.write_bytes(os.urandom(1024) * (65 * 1024 + 3))
    cli("put", str(big), f"{repo}@main:big.bin")
    cli("get", f"{repo}@main:big.bin", "-o", str(tmp_path / "big-back.bin"))
    assert (tmp_path / "big-back.bin").read_bytes() == big.read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".big-back")]

    cli.fails("put", str(src), f"{repo}@main", expect="add -r")
    cli.fails("put", str(tmp_path / "missing"), f"{repo}@main", expect="no such file")
    cli.fails("put", str(single), "nope-repo@main", expect="nope-repo")
    cli.fails("put", str(single), f"{repo}@nobranch", expect="nobranch")
    cli.fails("get", f"{repo}@main:data/none.csv", expect="no such file")
    cli.fails("get", f"{repo}@main:data", expect="add -r")
    cli.fails("get", f"{repo}@bad~ref~9:a", expect="bad~ref~9")
    cli.fails("get", "nope-repo@main:a", expect="nope-repo")


def test_ls_log_inspect(cli: Cli, tmp_path: Path) -> None:
    repo = _repo(cli)
    src = _tree(tmp_path / "src", {"x/1.txt": "1", "x/2.txt": "22", "top.txt": "t"})
    first = cli("put", "-r", str(src), f"{repo}@main:", "--json").json()["commit"]
    listing = cli("ls", f"{repo}@main", "--json").json()
    assert listing["commit"] == first and listing["ref"] == "main"
    assert [(e["path"], e["type"]) for e in listing["entries"]] == [
        ("top.txt", "file"), ("x/", "dir")]
    inside = cli("ls", f"{repo}@main:x", "--json").json()["entries"]
    assert [(e["path"], e["size"]) for e in inside] == [("x/1.txt", 1), ("x/2.txt", 2)]
    assert "x/2.txt" in cli("ls", f"{repo}@main", "-r").stdout

    log = cli("log", f"{repo}@main", "--json").json()
    assert log[0]["id"] == first
    assert set(log[0]) >= {"id", "message", "committer", "creation_date", "parents",
                           "metadata", "provenance"}
    assert log[0]["provenance"] is None  # source data

    inspected = cli("inspect", f"{repo}@main", "--json").json()
    assert inspected["id"] == first and inspected["provenance"] is None
    assert "source data" in cli("inspect", f"{repo}@{first[:8]}").stdout

    for verb in ("ls", "log", "inspect"):
        cli.fails(verb, "nope-repo@main", expect="repository 'nope-repo' not found")
        cli.fails(verb, f"{repo}@no-such-ref", expect="no-such-ref")
    cli.fails("ls", f"{repo}@main:absent", expect="no such file or directory")
    cli.fails("ls", "@main", expect="REPO@REF")


def test_diff_lists_and_shows_small_csv_json_changes(cli: Cli, tmp_path: Path) -> None:
    repo = _repo(cli)
    src = _tree(tmp_path / "v1", {"t.csv": "a,b\n1,2\n", "c.json": '{"k": 1, "z": 0}',
                                  "gone.txt": "x"})
    cli("put", "-r", str(src), f"{repo}@main:")
    (src / "gone.txt").unlink()
    _tree(src, {"t.csv": "a,b\n1,3\n", "c.json": '{"z": 0, "k": 2}', "new.txt": "n"})
    cli("put", "-r", str(src), f"{repo}@main:")  # put adds and overwrites, never deletes
    result = cli("diff", f"{repo}@main~1", f"{repo}@main", "--json").json()
    assert set(result) >= {"repo", "left", "right", "added", "removed", "changed"}
    assert result["added"] == ["new.txt"]
    changed = {c["path"]: c["diff"] for c in result["changed"]}
    assert set(changed) == {"c.json", "t.csv"}
    assert '-  "k": 1,' in changed["c.json"] and '+  "k": 2,' in changed["c.json"]
    back = cli("diff", f"{repo}@main", "main~1", "--json").json()
    assert back["removed"] == ["new.txt"]
    text = cli("diff", f"{repo}@main~1", "main", ":c.json").stdout
    assert "changed  c.json" in text and "t.csv" not in text
    cli.fails("diff", "nope-repo@main", "main~1", expect="nope-repo")
    cli.fails("diff", f"{repo}@main", "bogus-ref", expect="bogus-ref")


def test_revert_names_the_pipelines_that_recompute(cli: Cli, tmp_path: Path) -> None:
    repo = _repo(cli)
    spec = _specs(tmp_path, (f"{repo}-clean", repo), (f"{repo}-report", f"{repo}-clean"))
    good = _tree(tmp_path / "good", {"a.csv": "1"})
    base = cli("put", "-r", str(good), f"{repo}@main:", "--json").json()["commit"]
    bad = _tree(tmp_path / "bad", {"a.csv": "oops", "b.csv": "oops"})
    cli("put", "-r", str(bad), f"{repo}@main:", "-m", "bad data")
    cli("put", "-r", str(bad), f"{repo}@main:more/", "-m", "more bad data")
    result = cli("revert", f"{repo}@main", "--to", base, "--specs", str(spec), "--json").json()
    assert [r["message"] for r in result["reverted"]] == ["more bad data", "bad data"]
    assert result["pipelines"] == [f"{repo}-clean"]
    assert result["downstream"] == [f"{repo}-report"]
    assert cli("diff", f"{repo}@{base}", "main", "--json").json()["changed"] == []
    assert [c["message"] for c in cli("log", f"{repo}@main", "--json").json()][:2] == [
        "Revert " + result["reverted"][1]["reverted"][:12] + ": bad data",
        "Revert " + result["reverted"][0]["reverted"][:12] + ": more bad data",
    ]
    again = _tree(tmp_path / "again", {"c.csv": "oops"})
    head = cli("put", "-r", str(again), f"{repo}@main:", "--json").json()["commit"]
    text = cli("revert", f"{repo}@main", head[:10], "--specs", str(spec)).stdout
    assert f"will recompute: {repo}-clean" in text and f"downstream: {repo}-report" in text

    cli.fails("revert", f"{repo}@main", "--to", "nope-ref", expect="nope-ref")
    cli.fails("revert", "nope-repo@main", "--to", "main~1", expect="nope-repo")
    cli.fails("revert", f"{repo}@main", expect="--to REF or the COMMITs")


def test_lineage_of_source_data_and_errors(cli: Cli, tmp_path: Path) -> None:
    repo = _repo(cli)
    commit = cli("put", "-r", str(_tree(tmp_path / "s", {"f.csv": "1"})), f"{repo}@main:",
                 "--json").json()["commit"]
    data = cli("lineage", f"{repo}@main:f.csv", "--json").json()
    assert data["root"] == {"repo": repo, "commit": commit}
    assert data["file"]["datum_id"] is None and data["edges"] == []
    assert "source data" in cli("lineage", f"{repo}@main:f.csv").stdout
    assert cli("lineage", f"{repo}@main", "--format", "mermaid").stdout.startswith("flowchart")
    assert cli("lineage", f"{repo}@main", "--format", "dot").stdout.startswith("digraph")
    down = cli("lineage", f"{repo}@main", "--downstream", "--json").json()
    assert down["direction"] == "downstream" and down["edges"] == []
    cli.fails("lineage", "nope-repo@main", expect="nope-repo")
    cli.fails("lineage", f"{repo}@nope-ref", expect="nope-ref")
    cli.fails("lineage", f"{repo}@main:missing.csv", expect="missing.csv")


def test_wait_and_rerun_errors(cli: Cli, tmp_path: Path) -> None:
    repo = _repo(cli)
    spec = _specs(tmp_path, (f"{repo}-out", repo))
    cli("put", "-r", str(_tree(tmp_path / "s", {"f.csv": "1"})), f"{repo}@main:")
    cli.fails("wait", f"{repo}@main", "--specs", str(spec), "--timeout", "1",
              expect=f"no output of {repo}@")
    cli.fails("wait", "nope-repo@main", "--specs", str(spec), expect="nope-repo")
    cli.fails("wait", f"{repo}@nope-ref", "--specs", str(spec), expect="nope-ref")
    cli.fails("wait", f"{repo}@main", "--specs", str(tmp_path / "none"), expect="--specs")
    cli.fails("rerun", "nope", "--specs", str(spec), expect="no pipeline named 'nope'")
    cli.fails("rerun", f"{repo}-out", "--specs", str(spec), "--input", "other=main~1",
              expect="has no input 'other'")
    # An Airflow deployment that does not answer: one line, nothing triggered.
    cli.fails("rerun", f"{repo}-out", "--specs", str(spec),
              env={"AIRFLOW_PACHYDERM_AIRFLOW_URL": "http://127.0.0.1:9",
                   "AIRFLOW_PACHYDERM_AIRFLOW_PASSWORD": "token"},
              expect="cannot reach Airflow")


@pytest.mark.parametrize("argv", [["repo", "list"], ["ls", "xyz@main"]])
def test_without_lakefs_settings_one_line(cli: Cli, argv: list[str]) -> None:
    env = {k: "" for k in cli.env if k.startswith("LAKECTL_")}
    result = cli(*argv, ok=False, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "LAKECTL_SERVER_ENDPOINT_URL" in result.stderr


def test_conf_follows_the_trigger_params_contract() -> None:
    from airflow_pachyderm.cli_data.rerun import build_conf
    from airflow_pachyderm.spec import load_specs

    specs = {s.name: s for s in load_specs(Path(__file__).parents[2] / "dags_examples/ml")}
    conf = build_conf(specs["inference"], ["attributes=main~1", "model=v1"], "side", "all")
    assert conf == {"input_attributes": "main~1", "input_model": "v1",
                    "output_branch": "side", "reprocess": "all"}
    conf = build_conf(specs["inference"], [], None, "ab12,cd34")
    assert conf == {"reprocess": "datums", "datums": "ab12,cd34"}
    assert json.dumps(conf)
