"""A batch on a Docker daemon that cannot see this host's files (``transfer="archive"``).

Same container, same safety settings and same layout as the bind-mount path (see
``docker.py``), but nothing is mounted: the runner uploads each datum's inputs into the
container with ``put_archive`` and downloads ``/pfs/out`` with ``get_archive``. Inputs are
owned by a *stager* uid other than the transform's (root, or nobody when the transform runs
as root) with modes 0444/0755: the transform, which has no capabilities, cannot change them.
Between datums the stager empties the input directories (``docker exec``); each run of the
transform (``docker exec``: the supervisor talks over host fifos, which a remote daemon
cannot share) first empties ``/pfs/out`` as the transform's user, through ``sh``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_pachyderm.runners.archive import ROOT, Owner, TarBuilder, download_dir
from airflow_pachyderm.runners.base import OutputError, RunnerError
from airflow_pachyderm.runners.docker import (
    BATCH_DIR,
    NOBODY,
    _BatchRun,
    _only_input,
    _shared_inputs,
    is_root,
)
from airflow_pachyderm.runners.outputs import collect_outputs
from airflow_pachyderm.runners.sessions import ContainerConfig, RunOutcome, Session

if TYPE_CHECKING:
    from airflow_pachyderm.runners.base import DatumResult, DatumWork

# rm -rf of every entry, dot files included, keeping the directories themselves.
_EMPTY_DIRS = 'for d; do rm -rf -- "$d"/* "$d"/.[!.]* "$d"/..?*; done'
# A datum's process, started with an empty /pfs/out: one docker exec instead of two.
_EMPTY_OUT_THEN = 'rm -rf -- /pfs/out/* /pfs/out/.[!.]* /pfs/out/..?* && exec "$@"'
_EXEC_TIMEOUT_S = 120


def stager_of(user: str) -> Owner:
    """The owner of uploaded inputs: never the transform's own user."""
    uid, gid = (NOBODY if is_root(user) else "0:0").split(":")
    return Owner(int(uid), int(gid))


class ArchiveBatchRun(_BatchRun):
    """One ``run_batch`` call whose files travel as tar archives through the Docker API."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Fifos on this host cannot reach a remote container: one docker exec per run.
        self.use_supervisor = False
        self.stager = stager_of(self.user)
        self._container: str | None = None  # the container the state below is about
        self._staged: int | None = None  # index of the datum whose inputs are in it
        self._out_used = False

    # -- the container -------------------------------------------------------------------
    def _config(self, binds: dict[str, dict[str, str]]) -> ContainerConfig:
        config = super()._config({})
        config.binds = {}
        return config

    def _session(self, binds: dict[str, dict[str, str]]) -> Session:
        session = super()._session({})
        container = session.container_id  # type: ignore[attr-defined]
        if container != self._container:
            self._container, self._staged, self._out_used = container, None, False
            self._upload_skeleton()
        return session if self.spec.datum_batching else _EmptyingOut(session)

    def _upload_skeleton(self) -> None:
        tar = TarBuilder(self.stager)
        tar.directory("pfs")
        for name in self.names:
            tar.directory(f"pfs/{name}")
        tar.directory("pfs/out", 0o777)
        for directory, mount in self._secret_binds.items():
            # The mount point's parents (/run, /var...) are system directories: root's.
            tar.tree(mount["bind"].lstrip("/"), Path(directory), dir_mode=0o555, parents=ROOT)
        self._upload(tar)

    def _upload(self, tar: TarBuilder) -> None:
        assert self._container is not None
        tar.upload(self.runner.api, self._container)

    def _exec(self, cmd: list[str], user: str) -> None:
        """Run a bookkeeping command in the batch container. :raises RunnerError: it failed."""
        api = self.runner.api
        assert self._container is not None
        exec_id = api.exec_create(self._container, cmd, user=user)["Id"]
        output = api.exec_start(exec_id)
        code = api.exec_inspect(exec_id).get("ExitCode")
        if code != 0:
            text = output.decode("utf-8", "replace").strip()[-500:]
            raise RunnerError(f"preparing the batch container failed ({cmd[0]}, {code}): {text}")

    def _empty(self, directories: list[str], user: str) -> None:
        self._exec(["sh", "-c", _EMPTY_DIRS, "sh", *directories], user)

    # -- one process per datum -----------------------------------------------------------
    def _run_each(self) -> list[DatumResult]:
        out = self.dir / "out"
        out.mkdir(parents=True)
        results = []
        for index, datum in enumerate(self.datums):
            results.append(self._run_datum(index, datum, {}, out))
        return results

    def _ready_datum(self, index: int, datum: DatumWork, out: Path) -> None:
        if self._staged != index:
            if self._staged is not None:
                self._empty([f"/pfs/{n}" for n in self.names], self.stager.user)
            tar = TarBuilder(self.stager)
            for name in datum.input_names():
                tar.directory(f"pfs/{name}")
            for file in datum.files:
                tar.file(f"pfs/{file.input_name}/{file.path}", file.local_path)
            self._upload(tar)
            self._staged = index
        self._clear_out(out)

    def _clear_out(self, out: Path) -> None:
        # Each run empties /pfs/out itself (_EmptyingOut).
        return

    def _take_outputs(self, datum_id: str, out: Path, dest: Path) -> list[str]:
        assert self._container is not None
        try:
            download_dir(self.runner.api, self._container, "/pfs/out", dest, datum_id)
            return collect_outputs(datum_id, dest)
        except OutputError:
            shutil.rmtree(dest, ignore_errors=True)
            raise

    # -- datum batching ------------------------------------------------------------------
    def _batch_binds(self, root: Path, out: Path) -> dict[str, dict[str, str]]:
        self._batch_root = root
        return {}

    def _ready_batch(self, out: Path) -> None:
        tar = TarBuilder(self.stager)
        if self._staged is None:
            tar.tree(BATCH_DIR.lstrip("/"), self._batch_root)
            for name in _shared_inputs(self.datums):
                for file in _only_input(self.datums[0], name).files:
                    tar.file(f"pfs/{name}/{file.path}", file.local_path)
            self._staged = 0
        elif self._out_used:
            self._empty([f"{BATCH_DIR}/out"], self.user)
        tar.directory(f"{BATCH_DIR.lstrip('/')}/out", 0o777)
        for index in range(len(self.datums)):
            tar.directory(f"{BATCH_DIR.lstrip('/')}/out/{index:06d}", 0o777)
        self._upload(tar)
        self._out_used = True

    def _take_batched_outputs(self, datum_id: str, out: Path, key: str, dest: Path) -> list[str]:
        assert self._container is not None
        try:
            download_dir(self.runner.api, self._container, f"{BATCH_DIR}/out/{key}", dest,
                         datum_id)  # fmt: skip
            return collect_outputs(datum_id, dest)
        except OutputError:
            shutil.rmtree(dest, ignore_errors=True)
            raise
        except Exception as err:  # the transform removed or replaced its out directory
            import docker.errors

            if isinstance(err, docker.errors.NotFound):
                raise OutputError(datum_id, "", "the datum's out directory was replaced") from None
            raise

    def _stray_outputs(self, out: Path) -> list[str]:
        # Not listed remotely (one more round trip per batch); they are ignored all the same.
        return []


class _EmptyingOut:
    """A session whose runs start with an empty /pfs/out (non-batching datums)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def broken(self) -> bool:
        return self._session.broken

    def run(self, cmd: list[str], *args, **kwargs) -> RunOutcome:
        return self._session.run(["sh", "-c", _EMPTY_OUT_THEN, "sh", *cmd], *args, **kwargs)

    def close(self) -> None:
        self._session.close()
