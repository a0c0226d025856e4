"""The tabular engine of datasets: a JSON reading spec (format, separator, header, column types, and
the steps ``take``/``skip``/``keep_columns``/``drop_columns``/``random_split``/``take_sample`` and the
time filters of :mod:`.timeseries`) applied to a list of files with pyarrow, the files read in parallel.

The spec is data, not code, so a dataset version stores it and a job rebuilds the same table from the
staged files with no access to the workspace. Errors name the file, the line and the column, and say
what to change.
"""

from __future__ import annotations

import csv
import datetime as _dt
import decimal
import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from ..errors import BackendUnavailableError, InvalidArgumentError
from . import timeseries

if TYPE_CHECKING:
    import pyarrow as pa
    from fsspec import AbstractFileSystem

__all__ = [
    "FORMATS",
    "DataType",
    "TableFile",
    "apply_steps",
    "column_types_spec",
    "jsonable_rows",
    "new_spec",
    "read_head",
    "read_table",
    "schema_of",
]

FORMATS = ("delimited", "parquet", "json_lines")
#: The column v1 adds with ``include_path=True``: the file each row came from.
PATH_COLUMN = "Path"
_STEP_OPS = ("take", "skip", "keep_columns", "drop_columns", "random_split", "take_sample", "time_filter")


@dataclass(frozen=True)
class DataType:
    """A column type, spelled as Azure ML v1's ``DataType.to_long()``, ``to_float()``, ``to_string()``,
    ``to_bool()``, ``to_datetime(formats)``."""

    kind: str  # long | float | string | bool | datetime
    formats: tuple[str, ...] = ()

    @staticmethod
    def to_long() -> DataType:
        return DataType("long")

    @staticmethod
    def to_float(decimal_mark: str = ".") -> DataType:
        if decimal_mark != ".":
            raise InvalidArgumentError(
                f"DataType.to_float(decimal_mark={decimal_mark!r}): only '.' is supported; convert the column "
                "after to_pandas_dataframe()"
            )
        return DataType("float")

    @staticmethod
    def to_string() -> DataType:
        return DataType("string")

    @staticmethod
    def to_bool() -> DataType:
        return DataType("bool")

    @staticmethod
    def to_datetime(formats: str | Sequence[str] | None = None) -> DataType:
        """A timestamp column; ``formats`` are ``strptime`` formats tried in order (none: ISO 8601)."""
        if formats is None:
            return DataType("datetime")
        if isinstance(formats, str):
            formats = [formats]
        if not all(isinstance(f, str) and f for f in formats):
            raise InvalidArgumentError(
                f"DataType.to_datetime(formats=...) takes strptime format strings, got {formats!r}"
            )
        return DataType("datetime", tuple(formats))

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "formats": list(self.formats)} if self.formats else {"type": self.kind}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DataType:
        return cls(str(data["type"]), tuple(data.get("formats") or ()))

    def arrow_type(self) -> pa.DataType:
        import pyarrow as pa

        return {
            "long": pa.int64(),
            "float": pa.float64(),
            "string": pa.string(),
            "bool": pa.bool_(),
            "datetime": pa.timestamp("us"),
        }[self.kind]

    def __repr__(self) -> str:
        args = f"({list(self.formats)!r})" if self.formats else "()"
        return f"DataType.to_{self.kind}{args}"


def column_types_spec(set_column_types: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """``set_column_types`` ({column: DataType}) as JSON; a clear error for anything else."""
    if set_column_types is None:
        return {}
    if not isinstance(set_column_types, Mapping):
        raise InvalidArgumentError(
            "set_column_types is a dict {column name: DataType.to_long() | to_float() | to_string() | to_bool() | "
            f"to_datetime(formats)}}, got {type(set_column_types).__name__}"
        )
    out: dict[str, dict[str, Any]] = {}
    for column, kind in set_column_types.items():
        if not isinstance(column, str) or not column:
            raise InvalidArgumentError(f"set_column_types: column names are non-empty strings, got {column!r}")
        if not isinstance(kind, DataType):
            raise InvalidArgumentError(
                f"set_column_types[{column!r}] is {kind!r}; use DataType.to_long(), to_float(), to_string(), "
                "to_bool() or to_datetime(formats)"
            )
        out[column] = kind.to_json()
    return out


def new_spec(
    fmt: str,
    *,
    separator: str = ",",
    header: bool = True,
    encoding: str = "utf8",
    infer_column_types: bool = True,
    include_path: bool = False,
    set_column_types: Mapping[str, Any] | None = None,
    empty_as_string: bool = False,
    header_from_first_file: bool = False,
) -> dict[str, Any]:
    """A reading spec (JSON) for files of format ``fmt``; checks its arguments. ``empty_as_string``
    (delimited files) keeps empty fields of text columns as ``""``; by default they are nulls, as in v1."""
    if fmt not in FORMATS:
        raise InvalidArgumentError(f"unknown tabular format {fmt!r}: use one of {', '.join(FORMATS)}")
    if not isinstance(separator, str) or len(separator) != 1 or separator in '\r\n"':
        raise InvalidArgumentError(f"separator is one character (not a quote or a line break), got {separator!r}")
    if encoding.lower().replace("-", "") not in ("utf8", "utf8sig", "ascii", "latin1", "iso88591"):
        raise InvalidArgumentError(f"encoding {encoding!r} is not supported here: use 'utf8' or 'latin1'")
    spec: dict[str, Any] = {
        "format": fmt,
        "separator": separator,
        "header": bool(header),
        "encoding": encoding,
        "infer_column_types": bool(infer_column_types),
        "include_path": bool(include_path),
        "column_types": column_types_spec(set_column_types),
        "steps": [],
    }
    # Only when set: the specs (and content keys) of the defaults stay as they were.
    if empty_as_string:
        spec["empty_as_string"] = True
    if header_from_first_file:
        spec["header_from_first_file"] = True
    return spec


def with_step(spec: Mapping[str, Any], op: str, **args: Any) -> dict[str, Any]:
    """A copy of ``spec`` with one more step."""
    if op not in _STEP_OPS:
        raise AssertionError(op)
    return {**spec, "steps": [*spec.get("steps", []), {"op": op, **args}]}


@dataclass(frozen=True)
class TableFile:
    """One file to read: its path relative to the dataset's root (named in errors, the ``Path``
    column) and how to open it."""

    rel: str
    path: str
    fs: AbstractFileSystem | None = None

    def open(self) -> BinaryIO:
        if self.fs is None:
            return open(self.path, "rb")
        handle: BinaryIO = self.fs.open(self.path, "rb")
        return handle


# -- reading ------------------------------------------------------------------------------------------------
def read_table(files: Sequence[TableFile], spec: Mapping[str, Any], *, workers: int | None = None) -> pa.Table:
    """The table ``spec`` makes of ``files`` (in the given order): each file read on a thread pool,
    typed, concatenated, then the steps applied."""
    _require_pyarrow()
    if not files:
        raise InvalidArgumentError("the dataset has no files to read")
    n = max(1, min(len(files), workers or min(8, os.cpu_count() or 1)))
    specs = [spec] * len(files)
    first: list[pa.Table] = []
    if spec.get("header_from_first_file") and spec["format"] == "delimited" and len(files) > 1:
        # v1's PromoteHeadersBehavior.FROM_FIRST_FILE: the other files have no header line; they take the
        # first file's column names (their first line is data, not a header to drop).
        first = [_read_one(files[0], spec)]
        names = [c for c in first[0].column_names if not (spec.get("include_path") and c == PATH_COLUMN)]
        specs = [spec] + [{**spec, "header": False, "column_names": names}] * (len(files) - 1)
    todo = list(zip(files, specs, strict=True))[len(first) :]
    if n == 1:
        tables = first + [_read_one(f, s) for f, s in todo]
    else:
        with ThreadPoolExecutor(n, thread_name_prefix="mlws-read") as pool:
            tables = first + list(pool.map(lambda job: _read_one(*job), todo))
    table = _concat(tables, files)
    _check_typed_columns(table, spec)
    return apply_steps(table, spec.get("steps", []))


def _check_typed_columns(table: pa.Table, spec: Mapping[str, Any]) -> None:
    missing = [c for c in spec.get("column_types", {}) if c not in table.column_names]
    if missing:
        raise InvalidArgumentError(
            f"set_column_types names column(s) {', '.join(repr(c) for c in missing)}, which the data does not have "
            f"(columns: {', '.join(repr(c) for c in table.column_names[:30])})"
        )


def _require_pyarrow() -> None:
    """A job's environment may lack what tabular datasets read with: say so, and what to add."""
    try:
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError(
            f"reading a tabular dataset needs pyarrow and pandas, which this Python cannot import ({exc}); in a job, "
            "add them to its environment (Environment.python.conda_dependencies.add_pip_package('pyarrow') and "
            "'pandas'), as Azure ML v1 jobs add azureml-dataprep[pandas]"
        ) from None


_HEAD_STEPS = frozenset({"keep_columns", "drop_columns", "take"})


def read_head(files: Sequence[TableFile], spec: Mapping[str, Any], rows: int) -> pa.Table:
    """The first ``rows`` rows of the table, reading no more of the files than that needs when the
    steps allow it (only column choices and ``take``); otherwise the whole table, sliced."""
    _require_pyarrow()
    steps = spec.get("steps", [])
    if any(step["op"] not in _HEAD_STEPS for step in steps) or (spec.get("header_from_first_file") and len(files) > 1):
        return read_table(files, spec).slice(0, rows)
    tables: list[pa.Table] = []
    used: list[TableFile] = []
    got = 0
    for file in files:
        table = _read_one(file, spec, limit=max(1, rows - got))
        tables.append(table)
        used.append(file)
        got += table.num_rows
        if got >= rows:
            break
    if not tables:
        raise InvalidArgumentError("the dataset has no files to read")
    table = _concat(tables, used)
    _check_typed_columns(table, spec)
    return apply_steps(table, steps).slice(0, rows)


def _read_one(file: TableFile, spec: Mapping[str, Any], limit: int | None = None) -> pa.Table:
    import pyarrow as pa

    fmt = spec["format"]
    types = {c: DataType.from_json(t) for c, t in spec.get("column_types", {}).items()}
    try:
        with file.open() as handle:
            if fmt == "delimited":
                table = _read_delimited(handle, spec, types, file, limit)
            elif fmt == "parquet":
                import pyarrow.parquet as pq

                if limit is None:
                    table = pq.read_table(handle)
                else:  # the first row groups only
                    parquet = pq.ParquetFile(handle)
                    batches = []
                    got = 0
                    for batch in parquet.iter_batches(batch_size=max(1, min(limit, 65536))):
                        batches.append(batch)
                        got += batch.num_rows
                        if got >= limit:
                            break
                    table = pa.Table.from_batches(batches, schema=parquet.schema_arrow).slice(0, limit)
            else:
                import pyarrow.json as pj

                encoding = str(spec.get("encoding") or "utf8")
                if encoding.lower().replace("-", "") in ("utf8", "utf8sig", "ascii"):
                    table = pj.read_json(handle)
                else:  # pyarrow reads JSON as UTF-8 only: decode with the file's encoding first
                    table = pj.read_json(io.BytesIO(handle.read().decode(encoding).encode("utf-8")))
    except FileNotFoundError:
        raise InvalidArgumentError(f"dataset file {file.rel!r} is missing ({file.path})") from None
    except (pa.ArrowException, UnicodeDecodeError, OSError) as exc:
        if fmt == "delimited" and types and str(exc).startswith("In CSV column #"):
            _locate_bad_value(file, spec, types)  # raises naming the line; pyarrow's message has no row
        raise _read_error(file, spec, exc) from None
    if fmt != "delimited" or not spec.get("infer_column_types", True):
        table = _cast_columns(table, types, file, spec)
    else:  # datetime columns with formats are read as text and parsed here
        table = _cast_columns(table, {c: t for c, t in types.items() if t.kind == "datetime" and t.formats}, file, spec)
    if spec.get("include_path"):
        table = table.append_column(PATH_COLUMN, pa.array([file.rel] * table.num_rows, pa.string()))
    return table


def _read_delimited(
    handle: BinaryIO, spec: Mapping[str, Any], types: Mapping[str, DataType], file: TableFile, limit: int | None = None
) -> pa.Table:
    table = _read_delimited_raw(handle, spec, types, limit)
    return table if spec.get("empty_as_string") else _empty_text_as_null(table)


def _empty_text_as_null(table: pa.Table) -> pa.Table:
    """Empty fields of text columns as nulls (v1's ``empty_as_string=False``); numbers and timestamps
    read them as nulls already."""
    import pyarrow as pa
    import pyarrow.compute as pcc

    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            column = table.column(i)
            empty = pcc.equal(column, "")
            if pcc.any(empty).as_py():
                table = table.set_column(i, field, pcc.if_else(empty, pa.scalar(None, field.type), column))
    return table


def _read_delimited_raw(
    handle: BinaryIO, spec: Mapping[str, Any], types: Mapping[str, DataType], limit: int | None = None
) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pc

    header = spec.get("header", True)
    encoding = spec.get("encoding", "utf8")
    if spec.get("column_names"):  # a file without a header that takes another file's column names
        read = pc.ReadOptions(column_names=list(spec["column_names"]), encoding=encoding, use_threads=True)
    else:
        read = pc.ReadOptions(autogenerate_column_names=not header, encoding=encoding, use_threads=True)
    parse = pc.ParseOptions(delimiter=spec.get("separator", ","))
    column_types: dict[str, pa.DataType] = {}
    if spec.get("infer_column_types", True):
        for column, kind in types.items():
            # Datetimes with formats are parsed after reading (any of several formats).
            column_types[column] = pa.string() if kind.kind == "datetime" and kind.formats else kind.arrow_type()
        convert = pc.ConvertOptions(column_types=column_types, strings_can_be_null=False)
        if limit is not None:  # stream blocks until enough rows (types are inferred from the first block)
            reader = pc.open_csv(handle, read_options=read, parse_options=parse, convert_options=convert)
            batches = []
            got = 0
            for batch in reader:
                batches.append(batch)
                got += batch.num_rows
                if got >= limit:
                    break
            return pa.Table.from_batches(batches, schema=reader.schema).slice(0, limit)
    else:
        data = handle.read()
        names = pc.open_csv(io.BytesIO(data), read_options=read, parse_options=parse).schema.names
        convert = pc.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
        return pc.read_csv(io.BytesIO(data), read_options=read, parse_options=parse, convert_options=convert)
    return pc.read_csv(handle, read_options=read, parse_options=parse, convert_options=convert)


def _locate_bad_value(file: TableFile, spec: Mapping[str, Any], types: Mapping[str, DataType]) -> None:
    """Read the typed columns as text and convert them here, which names the first bad value's line."""
    import pyarrow as pa

    as_text = {**spec, "column_types": {c: DataType.to_string().to_json() for c in types}}
    with file.open() as handle:
        try:
            table = _read_delimited(handle, as_text, {c: DataType.to_string() for c in types}, file)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return
    _cast_columns(table, types, file, spec)


def _cast_columns(table: pa.Table, types: Mapping[str, DataType], file: TableFile, spec: Mapping[str, Any]) -> pa.Table:
    for column, kind in types.items():
        if column not in table.column_names:
            continue
        i = table.column_names.index(column)
        converted = _convert(table.column(i), kind, _locator(file, spec, column))
        table = table.set_column(i, column, converted)
    return table


def _locator(file: TableFile, spec: Mapping[str, Any], column: str) -> Callable[[int], str]:
    return lambda row: _where(file, spec, row, column)


def _convert(values: pa.ChunkedArray, kind: DataType, where: Callable[[int], str]) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pcc

    target = kind.arrow_type()
    if kind.kind == "datetime" and kind.formats:
        text = pcc.cast(values, pa.string())
        parsed = None
        for fmt in kind.formats:
            attempt = pcc.strptime(text, format=fmt, unit="us", error_is_null=True)
            parsed = attempt if parsed is None else pcc.coalesce(parsed, attempt)
        assert parsed is not None
        bad = pcc.and_(pcc.is_null(parsed), pcc.is_valid(text))
        if pcc.any(bad).as_py():
            row = pcc.index(bad, True).as_py()
            raise InvalidArgumentError(
                f"{where(row)}: {text[row].as_py()!r} matches none of the datetime formats {list(kind.formats)}; "
                "add its format to DataType.to_datetime([...]) or fix the value"
            )
        return parsed
    if values.type == target:
        return values
    try:
        return pcc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        row = _first_bad_row(values, target)
        shown = values[row].as_py() if row is not None else None
        raise InvalidArgumentError(
            f"{where(row or 0)}: {shown!r} is not a {kind.kind} ({kind!r} in set_column_types); fix the value or "
            "choose another type for the column"
        ) from None


def _first_bad_row(values: pa.ChunkedArray | pa.Array, target: pa.DataType) -> int | None:
    """The first row that does not cast (by halving: a few casts, not one per row)."""
    import pyarrow as pa
    import pyarrow.compute as pcc

    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    lo, hi = 0, len(array)

    def fails(a: int, b: int) -> bool:
        try:
            pcc.cast(array.slice(a, b - a), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return True
        return False

    if not fails(lo, hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fails(lo, mid):
            hi = mid
        else:
            lo = mid
    return lo


def _where(file: TableFile, spec: Mapping[str, Any], row: int, column: str) -> str:
    if spec["format"] == "delimited":
        line = row + (2 if spec.get("header", True) else 1)
        return f"dataset file {file.rel!r} line {line}, column {column!r}"
    if spec["format"] == "json_lines":
        return f"dataset file {file.rel!r} line {row + 1}, column {column!r}"
    return f"dataset file {file.rel!r} row {row + 1}, column {column!r}"


def _read_error(file: TableFile, spec: Mapping[str, Any], exc: BaseException) -> InvalidArgumentError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    fmt = spec["format"]
    if fmt == "delimited" and "Expected" in text and "columns" in text:
        found = _first_ragged_line(file, spec)
        if found is not None:
            line, expected, got = found
            return InvalidArgumentError(
                f"dataset file {file.rel!r} line {line}: {got} field(s) where the header has {expected} (ragged rows); "
                f"fix that line, or check separator={spec.get('separator', ',')!r}"
            )
    if fmt == "delimited" and text.startswith("In CSV column #"):
        return InvalidArgumentError(f"dataset file {file.rel!r}: {_name_csv_column(text, file, spec)}")
    kind = {"delimited": "a delimited (CSV) file", "parquet": "a Parquet file", "json_lines": "a JSON Lines file"}[fmt]
    return InvalidArgumentError(f"dataset file {file.rel!r} could not be read as {kind}: {text[:300]}")


def _first_ragged_line(file: TableFile, spec: Mapping[str, Any]) -> tuple[int, int, int] | None:
    encoding = spec.get("encoding", "utf8")
    with file.open() as handle, io.TextIOWrapper(handle, encoding=encoding, newline="") as text:
        reader = csv.reader(text, delimiter=spec.get("separator", ","))
        expected: int | None = None
        for row in reader:
            if not row:
                continue
            if expected is None:
                expected = len(row)
            elif len(row) != expected:
                return reader.line_num, expected, len(row)
    return None


def _name_csv_column(text: str, file: TableFile, spec: Mapping[str, Any]) -> str:
    """pyarrow says "In CSV column #3: ..."; say the column's name."""
    head, _, rest = text.partition(":")
    try:
        index = int(head.removeprefix("In CSV column #"))
    except ValueError:
        return text
    if not spec.get("header", True):
        return f"column {index + 1}:{rest}"
    with file.open() as handle, io.TextIOWrapper(handle, encoding=spec.get("encoding", "utf8"), newline="") as t:
        names = next(csv.reader(t, delimiter=spec.get("separator", ",")), [])
    name = names[index] if index < len(names) else f"#{index}"
    return f"column {name!r}:{rest}; set its type with set_column_types or fix the value"


def _concat(tables: Sequence[pa.Table], files: Sequence[TableFile]) -> pa.Table:
    import pyarrow as pa

    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    # Say which column and which files disagree.
    first: dict[str, tuple[pa.DataType, str]] = {}
    for table, file in zip(tables, files, strict=True):
        for field in table.schema:
            seen = first.setdefault(field.name, (field.type, file.rel))
            if seen[0] != field.type and not (pa.types.is_null(seen[0]) or pa.types.is_null(field.type)):
                if not (_numeric(seen[0]) and _numeric(field.type)):
                    raise InvalidArgumentError(
                        f"column {field.name!r} is {seen[0]} in dataset file {seen[1]!r} but {field.type} in "
                        f"{file.rel!r}; give it one type with "
                        f"set_column_types={{{field.name!r}: DataType.to_string()}} (or another DataType)"
                    )
    raise InvalidArgumentError("the dataset files have schemas that cannot be combined; read them as separate datasets")


def _numeric(t: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(t) or pa.types.is_floating(t))


# -- steps --------------------------------------------------------------------------------------------------
def apply_steps(table: pa.Table, steps: Sequence[Mapping[str, Any]]) -> pa.Table:
    """``steps`` applied to ``table`` in order."""
    import numpy as np
    import pyarrow as pa

    for step in steps:
        op = step["op"]
        if op == "take":
            table = table.slice(0, int(step["count"]))
        elif op == "skip":
            table = table.slice(min(int(step["count"]), table.num_rows))
        elif op == "keep_columns":
            _check_columns(table, step["columns"], "keep_columns")
            table = table.select(list(step["columns"]))
        elif op == "drop_columns":
            _check_columns(table, step["columns"], "drop_columns")
            table = table.drop_columns(list(step["columns"]))
        elif op in ("random_split", "take_sample"):
            # One draw per row from the seed: the two parts of a split are disjoint and cover the table.
            draws = np.random.default_rng(int(step["seed"])).random(table.num_rows)
            share = float(step["fraction"] if op == "random_split" else step["probability"])
            mask = draws < share
            if op == "random_split" and int(step.get("part", 0)) == 1:
                mask = ~mask
            table = table.filter(pa.array(mask))
        elif op == "time_filter":
            table = timeseries.filter_table(table, step)
        else:
            raise InvalidArgumentError(f"unknown dataset step {op!r} in a stored spec")
    return table


def _check_columns(table: pa.Table, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InvalidArgumentError(
            f"{what}: no column {', '.join(repr(c) for c in missing)} (columns: "
            f"{', '.join(repr(c) for c in table.column_names[:30])})"
        )


# -- describing ---------------------------------------------------------------------------------------------
def schema_of(table: pa.Table) -> list[dict[str, str]]:
    """The columns as ``[{"name", "type"}]`` (Arrow's type names: int64, double, string, bool, timestamp[us])."""
    return [{"name": f.name, "type": str(f.type)} for f in table.schema]


def jsonable_rows(table: pa.Table) -> list[list[Any]]:
    """The rows of ``table`` as JSON values: timestamps and dates as ISO text, NaN and NA as null."""
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return [[_jsonable(v) for v in row] for row in zip(*columns, strict=True)] if columns else []


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)
