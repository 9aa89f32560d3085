"""Warnings about a valid spec: Pachyderm keys accepted but meaning nothing here, defaults.

A warning never stops a pipeline; ``airflow-pachyderm validate`` prints it and the DAG
factory logs it at parse time, so that nothing is ignored silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic.alias_generators import to_camel

from airflow_pachyderm.spec.models import DEFAULT_IMAGE, KUBERNETES_ONLY

Path = tuple[str | int, ...]


def spec_warnings(data: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    """Yield (path of the key, message) for every warning of the validated spec ``data``."""
    transform = data.get("transform")
    if isinstance(transform, dict) and "image" not in transform:
        yield (
            ("transform",),
            f"no image: the transform runs on the default image {DEFAULT_IMAGE} "
            "(python3 on Debian); set `image:` to choose one",
        )
    for key, reason in KUBERNETES_ONLY.items():
        for spelling in dict.fromkeys((to_camel(key), key)):
            if spelling in data:
                yield (
                    (spelling,),
                    f"{spelling} configures Kubernetes and has no effect here ({reason}); "
                    "it is accepted so that Pachyderm specs load as written",
                )
    if isinstance(transform, dict):
        for spelling in ("imagePullSecrets", "image_pull_secrets"):
            if spelling in transform:
                yield (
                    ("transform", spelling),
                    f"{spelling} has no effect here: images come from the Docker daemon, "
                    "with its own registry credentials (docker login)",
                )
