"""Dataset fingerprint benchmark: a tree of N files / M MB fingerprinted side by side with its floors and DVC.

Run from the repository root::

    python benchmarks/bench_datasets.py            # defaults: 2,000 files / 200 MB, about a minute (plus DVC)
    python benchmarks/bench_datasets.py --quick    # smoke run: 200 files / 20 MB

1. ``fingerprint(tree)`` (jupyter_mlws/data/fingerprint.py) the first time (an empty stat cache), unchanged
   (the cache proves every file) and after one file was rewritten in place (one file read again).
2. The floors over the same bytes: Python's ``hashlib.sha256`` reading and hashing each file in turn (one
   thread; what a plain script does), and a plain stat walk (``os.walk`` + ``os.stat`` of every file).
3. ``dvc add`` of the same tree (DVC 3.x, if ``dvc`` is on the PATH or given with ``--dvc``) in a fresh
   ``dvc init --no-scm`` repository: first add, unchanged, one file rewritten; each a ``dvc`` command,
   so its figures include the CLI's start-up (``dvc --version`` is timed too, to show that share).
4. Correctness, not speed: one file edited in place with its size kept and its mtime put back
   (``os.utime``), as some editors and sync tools do. Does each tool see the change?

5. Tables (``--rows``, default 1,000,000 x 20 columns; ``--skip-tables`` leaves them out):
   ``Dataset.Tabular.register_pandas_dataframe(df, …)`` — its digest step (the sha256 of the Parquet file
   it wrote, every row) against the floor, a sha256 over the frame's Arrow buffers; its whole call against
   MLflow's ``mlflow.data.from_pandas(df).digest`` (if MLflow is installed: it hashes the first 10,000
   rows only, into 32 bits). And ``to_pandas_dataframe()`` of a registered 1M-row CSV (its files checked
   through the stat cache) against ``pandas.read_csv(path, engine="pyarrow")``.

The files are random bytes, written and then left alone for longer than the stat cache's racy window
(2 s), as data a user registers was written earlier. Everything is read from the page cache (the tree
was just written and is read once before timing), so the figures compare CPU work, not the disk.
Times are medians of ``--repeats`` runs (the first fingerprint and ``dvc`` first add: fresh caches each
run). The markdown table goes to stdout, the JSON to ``benchmarks/results/datasets.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jupyter_mlws
from jupyter_mlws.core.statcache import RACY_WINDOW_NS
from jupyter_mlws.data.fingerprint import fingerprint

HERE = Path(__file__).resolve().parent


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none): other work skews the figures."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def median_time(fn: Callable[[], object], repeats: int, before: Callable[[], object] | None = None) -> float:
    samples = []
    for _ in range(repeats):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def make_tree(root: Path, files: int, total_mb: int) -> list[Path]:
    size = total_mb * 1024 * 1024 // files
    paths = []
    for i in range(files):
        folder = root / f"d{i // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"f{i:04d}.bin"
        path.write_bytes(os.urandom(size))
        paths.append(path)
    os.sync()
    return paths


def hashlib_floor(paths: list[Path]) -> None:
    for path in paths:
        with open(path, "rb") as stream:
            hashlib.sha256(stream.read()).hexdigest()


def stat_walk(root: Path) -> int:
    count = 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            os.stat(os.path.join(folder, name))
            count += 1
    return count


def rewrite_in_place(path: Path, keep_mtime: bool) -> None:
    """New bytes, same size, same inode; optionally the old mtime put back."""
    before = path.stat()
    with open(path, "r+b") as stream:
        stream.write(os.urandom(before.st_size))
    if keep_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


# -- tables ---------------------------------------------------------------------------------------------------
def make_frame(rows: int) -> Any:
    """``rows`` x 20 columns: 10 floats, 5 integers, 5 short strings."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    columns: dict[str, Any] = {f"f{i}": rng.random(rows) for i in range(10)}
    columns |= {f"i{i}": rng.integers(0, 1_000_000, rows) for i in range(5)}
    words = np.array([f"w{j:04d}" for j in range(5000)], dtype=object)
    columns |= {f"s{i}": words[rng.integers(0, len(words), rows)] for i in range(5)}
    return pd.DataFrame(columns)


def arrow_buffers_sha256(df: Any) -> Callable[[], str]:
    """The floor: one sha256 over every buffer of the frame's Arrow table (converted beforehand)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    buffers = [b for column in table.columns for chunk in column.chunks for b in chunk.buffers() if b is not None]

    def run() -> str:
        h = hashlib.sha256()
        for buffer in buffers:
            h.update(buffer)
        return h.hexdigest()

    return run


def bench_tables(work: Path, rows: int, repeats: int) -> dict[str, Any]:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from jupyter_mlws import Dataset, Workspace

    ws = Workspace.create(work / "tables-ws")
    say(f"making a {rows:,} × 20 frame …")
    df = make_frame(rows)
    floor = arrow_buffers_sha256(df)
    floor_s = median_time(floor, repeats)
    names = iter(range(10**6))
    register_s = median_time(
        lambda: Dataset.Tabular.register_pandas_dataframe(
            df, ws.get_default_datastore(), f"frame{next(names)}", show_progress=False
        ),
        repeats,
    )
    Dataset.Tabular.register_pandas_dataframe(df, ws.get_default_datastore(), "frame", show_progress=False)
    parquet = next(Path(ws.get_default_datastore().url.removeprefix("file://")).rglob("data.parquet"))
    digest_s = median_time(lambda: fingerprint(parquet), repeats)  # no stat cache: every byte hashed
    figures: dict[str, Any] = {
        "rows": rows,
        "columns": 20,
        "arrow_mb": pa.Table.from_pandas(df, preserve_index=False).nbytes / 2**20,
        "parquet_mb": parquet.stat().st_size / 2**20,
        "arrow_sha256_s": floor_s,
        "mlws_digest_s": digest_s,
        "mlws_register_pandas_s": register_s,
    }
    try:
        import mlflow.data

        figures["mlflow_version"] = mlflow.__version__  # type: ignore[attr-defined]
        figures["mlflow_from_pandas_s"] = median_time(lambda: mlflow.data.from_pandas(df).digest, repeats)
    except ImportError:
        say("MLflow not installed: its row is left out (pip install -r benchmarks/requirements.txt)")

    say("writing the CSV …")
    csv = work / "table.csv"
    pacsv.write_csv(pa.Table.from_pandas(df, preserve_index=False), csv)
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.5)  # written earlier, as data a user registers was
    ds = Dataset.Tabular.from_delimited_files(str(csv)).register(ws, "csv")
    ds.to_pandas_dataframe()  # warm: the page cache and the stat cache, for both
    pd.read_csv(csv, engine="pyarrow")
    figures["csv_mb"] = csv.stat().st_size / 2**20
    figures["mlws_to_pandas_s"] = median_time(lambda: Dataset.get_by_name(ws, "csv").to_pandas_dataframe(), repeats)
    figures["pandas_read_csv_pyarrow_s"] = median_time(lambda: pd.read_csv(csv, engine="pyarrow"), repeats)
    return figures


# -- jupyter-mlws ---------------------------------------------------------------------------------------------
def bench_mlws(work: Path, tree: Path, paths: list[Path], repeats: int) -> dict[str, Any]:
    cache = work / "ws" / ".mlws" / "cache" / "dataset-stat-cache.json"
    mb = sum(p.stat().st_size for p in paths) / (1024 * 1024)

    def fresh_cache() -> None:
        cache.unlink(missing_ok=True)

    hashlib_floor(paths)  # warm the page cache
    hashlib_s = median_time(lambda: hashlib_floor(paths), repeats)
    walk_s = median_time(lambda: stat_walk(tree), repeats * 3)
    first_s = median_time(lambda: fingerprint(tree, cache_file=cache), repeats, before=fresh_cache)
    first = fingerprint(tree, cache_file=cache)
    unchanged = fingerprint(tree, cache_file=cache)
    unchanged_s = median_time(lambda: fingerprint(tree, cache_file=cache), repeats * 3)

    # One file rewritten (a different one each time) in a tree at rest, then the tree fingerprinted again.
    # The file rewritten last time stays unproven for the racy window; wait it out and let one untimed
    # fingerprint prove it again, so that each timed run starts from a settled cache.
    touched_samples, touched_hashed, one_file_s = [], [], []
    for i in range(repeats):
        victim = paths[(len(paths) // 2 + i * 7) % len(paths)]
        if i:
            time.sleep(RACY_WINDOW_NS / 1e9 + 0.5)
            fingerprint(tree, cache_file=cache)
        rewrite_in_place(victim, keep_mtime=False)
        t0 = time.perf_counter()
        result = fingerprint(tree, cache_file=cache)
        touched_samples.append(time.perf_counter() - t0)
        touched_hashed.append(result.hashed_files)
        t0 = time.perf_counter()
        hashlib_floor([victim])
        one_file_s.append(time.perf_counter() - t0)
    return {
        "files": first.manifest.file_count,
        "mb": mb,
        "hashlib_s": hashlib_s,
        "hashlib_mb_s": mb / hashlib_s,
        "stat_walk_s": walk_s,
        "first_s": first_s,
        "first_mb_s": mb / first_s,
        "first_hashed_files": first.hashed_files,
        "unchanged_s": unchanged_s,
        "unchanged_hashed_files": unchanged.hashed_files,
        "unchanged_same_digest": unchanged.digest == first.digest,
        "touched_s": statistics.median(touched_samples),
        "touched_hashed_files": max(touched_hashed),
        "one_file_hashlib_s": statistics.median(one_file_s),
    }


def mlws_sees_in_place_edit(work: Path, tree: Path, paths: list[Path]) -> bool:
    cache = work / "ws" / ".mlws" / "cache" / "dataset-stat-cache.json"
    before = fingerprint(tree, cache_file=cache)
    rewrite_in_place(paths[1], keep_mtime=True)
    return fingerprint(tree, cache_file=cache).digest != before.digest


# -- DVC --------------------------------------------------------------------------------------------------------
def find_dvc(given: str | None) -> str | None:
    if given:
        return given if shutil.which(given) else None
    return shutil.which("dvc")


def bench_dvc(dvc: str, work: Path, tree: Path, paths: list[Path], repeats: int) -> dict[str, Any]:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    repo = work / "dvc-repo"

    def run(*args: str) -> str:
        return subprocess.run([dvc, *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout

    def fresh_repo() -> None:
        shutil.rmtree(repo, ignore_errors=True)
        repo.mkdir()
        run("init", "--no-scm", "-q")
        run("config", "core.autostage", "false")
        # The same tree, moved in and out around each timing so that the data is not copied twice.
        tree.rename(repo / "data")

    def put_back() -> None:
        (repo / "data").rename(tree)

    version = run_version(dvc, env)
    startup_s = median_time(lambda: subprocess.run([dvc, "--version"], env=env, check=True, capture_output=True), 3)
    first_samples, unchanged_samples, touched_samples = [], [], []
    for i in range(repeats):
        fresh_repo()
        try:
            t0 = time.perf_counter()
            run("add", "-q", "data")
            first_samples.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            run("add", "-q", "data")
            unchanged_samples.append(time.perf_counter() - t0)
            rewrite_in_place(repo / "data" / paths[(3 + i * 11) % len(paths)].relative_to(tree), keep_mtime=False)
            t0 = time.perf_counter()
            run("add", "-q", "data")
            touched_samples.append(time.perf_counter() - t0)
        finally:
            put_back()

    # Correctness: an in-place edit, same size, mtime put back.
    fresh_repo()
    try:
        run("add", "-q", "data")
        before = (repo / "data.dvc").read_text()
        rewrite_in_place(repo / "data" / paths[1].relative_to(tree), keep_mtime=True)
        run("add", "-q", "data")
        sees_edit = (repo / "data.dvc").read_text() != before
        status = run("status")
    finally:
        put_back()
        shutil.rmtree(repo, ignore_errors=True)
    return {
        "version": version,
        "startup_s": startup_s,
        "first_s": statistics.median(first_samples),
        "unchanged_s": statistics.median(unchanged_samples),
        "touched_s": statistics.median(touched_samples),
        "sees_in_place_edit": sees_edit,
        "status_after_edit": status.strip(),
    }


def run_version(dvc: str, env: dict[str, str]) -> str:
    return subprocess.run([dvc, "--version"], env=env, check=True, capture_output=True, text=True).stdout.strip()


# -- main -------------------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dvc", help="the dvc command to compare with (default: dvc on the PATH)")
    parser.add_argument("--tmpdir", type=Path, default=None, help="where the tree is written")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "datasets.json")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the table benchmarks (20 columns)")
    parser.add_argument("--skip-tables", action="store_true", help="leave the table benchmarks out")
    parser.add_argument("--skip-tree", action="store_true", help="leave the file-tree benchmarks out")
    args = parser.parse_args()
    if args.quick:
        args.files, args.mb, args.repeats, args.rows = 200, 20, 1, 50_000
    load_before = load_average()
    dvc = find_dvc(args.dvc)
    work = Path(tempfile.mkdtemp(prefix="mlws-bench-datasets-", dir=args.tmpdir))
    try:
        mlws: dict[str, Any] | None = None
        dvc_figures: dict[str, Any] | None = None
        if not args.skip_tree:
            tree = work / "tree"
            say(f"writing {args.files} files / {args.mb} MB …")
            paths = make_tree(tree, args.files, args.mb)
            # Data a user registers was written earlier: let the racy window pass, so the cache may trust it.
            time.sleep(RACY_WINDOW_NS / 1e9 + 0.5)
            say("timing jupyter-mlws and the floors …")
            mlws = bench_mlws(work, tree, paths, args.repeats)
            if dvc:
                say("timing dvc add …")
                dvc_figures = bench_dvc(dvc, work, tree, paths, args.repeats)
            else:
                say("dvc not installed: its rows are left out (pip install 'dvc>=3,<4', or pass --dvc)")
            time.sleep(RACY_WINDOW_NS / 1e9 + 0.5)  # the tree is old again before the correctness check
            mlws["sees_in_place_edit"] = mlws_sees_in_place_edit(work, tree, paths)
        tables = None if args.skip_tables else bench_tables(work, args.rows, args.repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    env = {
        "jupyter_mlws": jupyter_mlws.__version__ if hasattr(jupyter_mlws, "__version__") else "?",
        "dvc": dvc_figures["version"] if dvc_figures else "not installed",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    if mlws is not None:
        print_table(mlws, dvc_figures, env)
    if tables is not None:
        print_tables(tables)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"env": env, "mlws": mlws, "dvc": dvc_figures, "tables": tables}, indent=2))
    return 0


def print_tables(t: dict[str, Any]) -> None:
    ms = lambda s: f"{s * 1000:,.0f} ms"  # noqa: E731
    met = lambda ok: "met" if ok else "missed"  # noqa: E731
    print(
        f"Tables: {t['rows']:,} rows × {t['columns']} columns ({t['arrow_mb']:.0f} MB as Arrow, "
        f"{t['parquet_mb']:.0f} MB as Parquet, {t['csv_mb']:.0f} MB as CSV)"
    )
    print()
    print("| Figure | jupyter-mlws | Peer / floor | Ratio / target |")
    print("|---|---:|---:|---|")
    digest = t["mlws_digest_s"] / t["arrow_sha256_s"]
    print(
        f"| Digest of the frame (every row) | {ms(t['mlws_digest_s'])} (sha256 of the Parquet file) | sha256 of the "
        f"Arrow buffers: {ms(t['arrow_sha256_s'])} | {digest:.2f}× (target ≤ 2×: {met(digest <= 2)}) |"
    )
    if "mlflow_from_pandas_s" in t:
        ratio = t["mlws_register_pandas_s"] / t["mlflow_from_pandas_s"]
        print(
            f"| `register_pandas_dataframe` (write Parquet, fingerprint, register) vs MLflow "
            f"{t['mlflow_version']} `from_pandas(df).digest` (first 10,000 rows, 32 bits) | "
            f"{ms(t['mlws_register_pandas_s'])} | {ms(t['mlflow_from_pandas_s'])} | {ratio:.2f}× MLflow's time |"
        )
    read = t["mlws_to_pandas_s"] / t["pandas_read_csv_pyarrow_s"]
    print(
        f"| `to_pandas_dataframe()` of a registered CSV (files checked) | {ms(t['mlws_to_pandas_s'])} | "
        f"`pd.read_csv(engine='pyarrow')`: {ms(t['pandas_read_csv_pyarrow_s'])} | {read:.2f}× "
        f"(target ≤ 1.2×: {met(read <= 1.2)}) |"
    )
    print()


def print_table(m: dict[str, Any], d: dict[str, Any] | None, env: dict[str, Any]) -> None:
    ms = lambda s: f"{s * 1000:,.0f} ms" if s >= 0.1 else f"{s * 1000:.1f} ms"  # noqa: E731
    met = lambda ok: "met" if ok else "missed"  # noqa: E731
    cpus = env["cpus"] or 1
    print()
    print(
        f"jupyter-mlws {env['jupyter_mlws']} vs DVC {env['dvc']}, Python {env['python']}, {env['platform']}, "
        f"{cpus} CPUs; {m['files']:,} files, {m['mb']:.0f} MB"
    )
    load = env["load_average_before"]
    if load is not None and load > 0.5 * cpus:
        print(
            f"warning: the machine was busy before the start (load average {load:.1f} on {cpus} CPUs); "
            "figures are noisier than on an idle machine"
        )
    print()
    print("| Figure | jupyter-mlws | Floor | DVC | Ratio / target |")
    print("|---|---:|---:|---:|---|")
    rate = m["first_mb_s"] / m["hashlib_mb_s"]
    dvc_first = ms(d["first_s"]) if d else "not installed"
    print(
        f"| First fingerprint | {ms(m['first_s'])} ({m['first_mb_s']:,.0f} MB/s) | `hashlib.sha256`: "
        f"{ms(m['hashlib_s'])} ({m['hashlib_mb_s']:,.0f} MB/s) | `dvc add`: {dvc_first} | "
        f"{rate:.2f}× hashlib's rate (target ≥ 0.5×: {met(rate >= 0.5)}) |"
    )
    walk = m["unchanged_s"] / m["stat_walk_s"]
    dvc_unchanged = ms(d["unchanged_s"]) if d else "not installed"
    print(
        f"| Unchanged ({m['unchanged_hashed_files']} files read) | {ms(m['unchanged_s'])} | stat walk: "
        f"{ms(m['stat_walk_s'])} | `dvc add`: {dvc_unchanged} | {walk:.1f}× the walk (target ≤ 5×: {met(walk <= 5)}) |"
    )
    floor = m["one_file_hashlib_s"] + m["stat_walk_s"]
    dvc_touched = ms(d["touched_s"]) if d else "not installed"
    print(
        f"| One file rewritten ({m['touched_hashed_files']} file read) | {ms(m['touched_s'])} | that file's hash + "
        f"the walk: {ms(floor)} | `dvc add`: {dvc_touched} | {m['touched_s'] / floor:.1f}× (target ≈ 1×) |"
    )
    dvc_sees = ("yes" if d["sees_in_place_edit"] else "**no**") if d else "not installed"
    print(
        f"| In-place edit, same size, mtime put back: seen? | {'yes' if m['sees_in_place_edit'] else '**no**'} | | "
        f"{dvc_sees} | |"
    )
    if d:
        print(f"| `dvc --version` (CLI start-up, part of each DVC figure) | | | {ms(d['startup_s'])} | |")
    print()


if __name__ == "__main__":
    sys.exit(main())
