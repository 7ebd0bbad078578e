"""A folder of Parquet part files as a Spark job leaves it: ``part-*.snappy.parquet``,
``_SUCCESS`` and Hadoop's ``.crc`` side files."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def write_spark_folder(folder: Path, table: pa.Table, *, parts: int | None, job: str) -> Path:
    """Write ``table`` as ``parts`` part files of the Spark job ``job`` (default: one per 20,000
    rows), ``_SUCCESS`` and Hadoop ``.crc`` side files; replace ``folder`` at once."""
    n_parts = max(1, parts if parts is not None else table.num_rows // 20_000)
    tmp = folder.with_name(f".{folder.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    bounds = np.linspace(0, table.num_rows, n_parts + 1).astype(np.int64)
    for i in range(n_parts):
        path = tmp / f"part-{i:05d}-{job}-c000.snappy.parquet"
        pq.write_table(
            table.slice(bounds[i], bounds[i + 1] - bounds[i]), path, compression="snappy"
        )
        _write_crc(path)
    (tmp / "_SUCCESS").write_bytes(b"")
    _write_crc(tmp / "_SUCCESS")
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)
    return folder


def _write_crc(path: Path) -> None:
    """Hadoop ChecksumFileSystem side file: ``crc\\0``, chunk size, a CRC-32 per 512 bytes."""
    data = path.read_bytes()
    sums = b"".join(
        struct.pack(">I", zlib.crc32(data[i : i + 512])) for i in range(0, len(data), 512)
    )
    path.with_name(f".{path.name}.crc").write_bytes(b"crc\0" + struct.pack(">i", 512) + sums)
