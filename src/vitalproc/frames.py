"""Former home of the Arrow and polars long tables, kept because the docs named it:
``vitalproc.frames.to_arrow`` and friends live in ``vitalproc.ops.frames`` now."""

from __future__ import annotations

from .ops.frames import (  # noqa: F401
    METADATA_KEY,
    LongTable,
    metadata,
    to_arrow,
    to_polars,
    track_table,
    track_table_schema,
)
