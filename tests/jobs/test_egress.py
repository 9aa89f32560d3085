"""Egress copies an output commit's files (not the bookkeeping) to external storage."""

from __future__ import annotations

import pytest
from jobkit import make_repo, pipeline_spec, unique

from airflow_pachyderm.jobs.egress import EgressError, FileSink, mirror_commit, scheme_of


def test_file_egress_mirrors_outputs_only(lakefs, driver, tmp_path) -> None:
    data = make_repo(lakefs, {"a.txt": b"alpha", "sub/b.txt": b"beta"}, "data")
    spec = pipeline_spec(
        unique("egress"), {"pfs": {"repo": data, "name": "data", "glob": "/**"}},
        ["sh", "-c", 'mkdir -p /pfs/out/$(dirname "${data#/pfs/data/}") && '
                     'tr a-z A-Z < "$data" > "/pfs/out/${data#/pfs/data/}"'],
        egress={"URL": f"file://{tmp_path}/export"},
    )
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "stale.txt").write_bytes(b"from an earlier export")
    result = driver.run(spec)
    assert mirror_commit(lakefs, spec.output_repo, result.commit,
                         FileSink(spec.egress.url)) == (2, 1)
    exported = sorted(p.relative_to(tmp_path / "export").as_posix()
                      for p in (tmp_path / "export").rglob("*") if p.is_file())
    assert exported == ["a.txt", "sub/b.txt"]
    assert (tmp_path / "export" / "sub" / "b.txt").read_bytes() == b"BETA"
    # Again: overwrites, same result.
    assert mirror_commit(lakefs, spec.output_repo, result.commit,
                         FileSink(spec.egress.url)) == (2, 0)


def test_egress_refuses_unsupported_urls(tmp_path) -> None:
    with pytest.raises(EgressError, match="not supported"):
        scheme_of("gs://bucket/x")
    with pytest.raises(EgressError, match="absolute"):
        FileSink("file://relative/dir")
    sink = FileSink(f"file://{tmp_path}/out")
    import io

    with pytest.raises(EgressError, match="would leave"):
        sink.write("../escape.txt", io.BytesIO(b"x"))
