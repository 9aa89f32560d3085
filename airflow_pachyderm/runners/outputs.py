"""Checks on what a datum left in /pfs/out, and moving it out of the shared out directory."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from airflow_pachyderm.reserved import RESERVED_DIR
from airflow_pachyderm.runners.base import OutputError


def clear_dir(path: Path) -> None:
    """Empty ``path`` but keep the directory itself (it may be a bind-mount source)."""
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)


def collect_outputs(datum_id: str, out_dir: Path) -> list[str]:
    """Return the relative posix paths of the files under ``out_dir``, sorted.

    Raises OutputError for anything that cannot be uploaded faithfully or safely: symbolic
    links (also dangling ones, which could point outside /pfs/out), fifos, sockets and device
    files, and names that would not be a clean relative, UTF-8 path. Hard links are regular
    files and are accepted: /pfs/out is its own mount, so a hard link made in it can only
    name another file of /pfs/out, and each name is uploaded as its own object.
    """
    found: list[str] = []
    root = os.fspath(out_dir)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root)
        for name in [*dirnames, *filenames]:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            rel = rel.replace(os.sep, "/")
            _check_name(datum_id, rel)
            mode = os.lstat(os.path.join(dirpath, name)).st_mode
            if stat.S_ISLNK(mode):
                raise OutputError(datum_id, rel, "symbolic links are not allowed in outputs")
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise OutputError(
                    datum_id, rel, "only regular files and directories are allowed in outputs"
                )
            found.append(rel)
    found.sort()
    return found


def _check_name(datum_id: str, rel: str) -> None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        # os.walk decodes undecodable bytes as surrogates; show them as \x escapes.
        shown = os.fsencode(rel).decode("utf-8", "backslashreplace")
        raise OutputError(
            datum_id, shown, "output names must be valid UTF-8 (object paths are text)"
        ) from None
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise OutputError(datum_id, rel, "path escapes /pfs/out")
    if any(ord(c) < 32 for c in rel):
        raise OutputError(datum_id, rel, "control characters are not allowed in output names")
    if parts[0] == RESERVED_DIR:
        raise OutputError(
            datum_id, rel, f"/pfs/out/{RESERVED_DIR}/ is reserved for the provider's manifest"
        )


def move_contents(src: Path, dest: Path) -> None:
    """Move every entry of ``src`` into ``dest`` (same filesystem), leaving ``src`` empty."""
    dest.mkdir(parents=True, exist_ok=True)
    with os.scandir(src) as entries:
        for entry in entries:
            os.replace(entry.path, dest / entry.name)
