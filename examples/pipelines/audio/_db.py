"""The PostgreSQL side: the ``tones`` table, created if missing, and the ``copy_records`` sink into it.

A run first deletes the rows of the files it is about to analyse, so running
it twice over the same folder leaves one set of rows per file, not two.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from reactivex import Observable

from rxasync.postgres import copy_records

__all__ = ["COLUMNS", "prepare", "sink"]

COLUMNS = ("file", "rank", "hz", "magnitude")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_table(table: str) -> str:
    """``table`` if it is a plain SQL identifier (it goes into the SQL text), else ValueError."""
    if not _NAME.fullmatch(table):
        raise ValueError(f"table name must be a plain identifier (letters, digits, _), got {table!r}")
    return table


async def prepare(dsn: str, table: str, files: Sequence[str]) -> None:
    """Create ``table`` if missing and delete the rows of ``files`` (so a rerun replaces them)."""
    check_table(table)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} "
            "(file text NOT NULL, rank int NOT NULL, hz double precision NOT NULL, "
            "magnitude double precision NOT NULL, PRIMARY KEY (file, rank))"
        )
        await conn.execute(f"DELETE FROM {table} WHERE file = ANY($1::text[])", list(files))
    finally:
        await conn.close()


def sink(dsn: str, table: str) -> Callable[[Observable[Sequence[Any]]], Observable[int]]:
    """``copy_records`` into ``table``: ``(file, rank, hz, magnitude)`` rows in, rows per batch out."""
    return copy_records(dsn, check_table(table), columns=COLUMNS, batch_size=1000, name="copy")
