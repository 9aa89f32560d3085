"""Sequential blob writes through an aligned buffer (O_DIRECT) or plain, byte for byte."""

from __future__ import annotations

import os
import random

import pytest

from airflow_pachyderm.server.direct_io import BUFFER_BYTES, SequentialWriter


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("size", [0, 1, 4095, BUFFER_BYTES, 2 * BUFFER_BYTES + 12345])
def test_writes_every_byte_in_order(tmp_path, direct, size):
    data = random.Random(size).randbytes(size)
    cuts = sorted(random.Random(1).sample(range(size + 1), min(size + 1, 40)))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, size], strict=True)]
    target = tmp_path / "blob"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT)
    try:
        writer = SequentialWriter(fd, direct=direct)
        assert writer.direct == direct  # the temp dir's file system takes O_DIRECT
        writer.write(chunks[: len(chunks) // 2])
        writer.write(chunks[len(chunks) // 2 :])
        writer.close()
        os.fsync(fd)
    finally:
        os.close(fd)
    assert target.read_bytes() == data
