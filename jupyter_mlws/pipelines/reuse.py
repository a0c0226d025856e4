"""Content-aware step reuse (issue 16).

A step's reuse key is the sha256 of what it depends on, all by content: its code (the snapshot id of
its source folder, itself a digest), its entry script or notebook, its arguments and parameters after
parameter resolution, its environment (name and version, a version being immutable content), its
compute kind and its inputs' digests — a dataset's fingerprint, an upstream step's stored output's
manifest id. Upstream *outputs* are keyed, not upstream run ids: a step whose upstream re-ran and
wrote the same bytes is still reused. A hit counts only while the earlier run's outputs are still
stored; otherwise it is a miss that says so.

A miss is explained against the latest earlier run of the same step (same name, same experiment):
the first part that differs, in the order of :data:`PART_ORDER`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.interfaces.pipelines import StepRunRecord
from ..core.registry import job_input_types

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = ["Decision", "decide", "miss_reason", "reuse_key", "reuse_parts"]

PART_ORDER = (
    "inputs",
    "parameters",
    "params",
    "source",
    "entry",
    "arguments",
    "environment",
    "runtime",
    "outputs",
    "kind",
)
_INLINE_FILES_MAX = 5000  # an unregistered input's file list kept in the parts, to name changed files


class Decision:
    """Whether a step is reused, from which run, and why (``get_details()["reuse"]``)."""

    def __init__(self, reused: bool, source: StepRunRecord | None, reason: str | None) -> None:
        self.reused = reused
        self.source = source
        self.reason = reason

    def as_json(self) -> dict[str, Any]:
        return {"reused": self.reused, "from": self.source.run_id if self.source else None, "reason": self.reason}


def reuse_parts(
    workspace: Workspace,
    spec: Mapping[str, Any],
    snapshot_id: str,
    upstream_outputs: Mapping[str, str],
    parameters: Mapping[str, Any],
) -> dict[str, Any]:
    """What a step's reuse key is made of (JSON). ``upstream_outputs`` maps each pipeline-data input
    name to the manifest id of the output it reads; ``parameters`` are the pipeline parameters the
    step uses, with their values in this run."""
    inputs: dict[str, str] = {}
    refs: dict[str, Any] = {}
    for described in spec.get("inputs") or []:
        name = str(described["name"])
        if described["type"] == "pipeline_data":
            inputs[name] = upstream_outputs[name]
            refs[name] = {"manifest": upstream_outputs[name]}
            continue
        dataset = described.get("dataset") or {}
        # The bytes, and how they are read: a registered version's id stands for its kind and reading
        # settings (a new version is made only when they or the bytes change); an unregistered dataset
        # says them itself. The same files read with other columns or another mode are other input.
        how = dataset.get("id") or json.dumps(
            [described.get("kind"), (described.get("held") or {}).get("data", {}).get("spec")],
            sort_keys=True,
            default=str,
        )
        reading = hashlib.sha256(f"{how}|{described.get('mode')}".encode()).hexdigest()[:16]
        digest = dataset.get("digest") or json.dumps(described, sort_keys=True, default=str)
        inputs[name] = f"{digest}:{reading}"
        if dataset.get("id"):
            refs[name] = {"dataset_id": dataset["id"], "name": dataset.get("name"), "version": dataset.get("version")}
        else:
            files = _files(workspace, described)
            if files is not None and len(files) <= _INLINE_FILES_MAX:
                refs[name] = {"files": files}
    environment = spec.get("environment") or None
    return {
        "kind": spec["kind"],
        "parameters": {str(k): _plain(v) for k, v in parameters.items()},
        "source": snapshot_id,
        "entry": spec.get("script") or spec.get("notebook") or spec.get("command"),
        "arguments": [str(a) for a in spec.get("arguments") or []],
        "params": {str(k): _plain(v) for k, v in (spec.get("parameters") or spec.get("params") or {}).items()},
        "environment": f"{environment['name']}:{environment.get('version')}" if environment else None,
        # Without an environment a step runs on the submitting interpreter; a notebook on its kernel.
        "runtime": {"python": None if environment else spec.get("python"), "kernel": spec.get("kernel_name")},
        "inputs": inputs,
        # An output's name and where it is registered or uploaded: a reused step registers nothing.
        "outputs": sorted(
            (
                json.dumps({k: o.get(k) for k in ("name", "register", "destination")}, sort_keys=True, default=str)
                for o in spec.get("outputs") or []
            ),
        ),
        "input_refs": refs,
    }


def reuse_key(parts: Mapping[str, Any]) -> str:
    keyed = {k: v for k, v in parts.items() if k in PART_ORDER}
    return hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode()).hexdigest()


def decide(
    workspace: Workspace,
    step_name: str,
    experiment_id: int,
    parent_run_id: str,
    parts: Mapping[str, Any],
    *,
    allow_reuse: bool,
    regenerate: bool,
    explain_miss: bool = True,
) -> Decision:
    """Reuse an earlier run of this step, or say why not (``explain_miss=False``: a plain miss's
    reason is left to :func:`miss_reason`, called once the step is on its way)."""
    store = workspace.metadata
    key = reuse_key(parts)
    if not allow_reuse:
        return Decision(False, None, "allow_reuse=False: the step always runs")
    if regenerate:
        return Decision(False, None, "regenerate_outputs=True: every step runs")
    gone: StepRunRecord | None = None
    for earlier in store.find_reusable_step_runs(key):
        if earlier.parent_run_id == parent_run_id:
            continue
        if all(workspace.services.snapshots.is_intact(m) for m in (earlier.outputs or {}).values()):
            return Decision(True, earlier, f"nothing it depends on changed since run {earlier.run_id}")
        gone = gone or earlier
    if gone is not None:
        return Decision(False, None, f"the outputs of the earlier run {gone.run_id} with the same inputs are gone")
    if not explain_miss:
        return Decision(False, None, None)
    return Decision(False, None, miss_reason(workspace, step_name, experiment_id, parent_run_id, parts))


def miss_reason(
    workspace: Workspace, step_name: str, experiment_id: int, parent_run_id: str, parts: Mapping[str, Any]
) -> str:
    """Why a step with these parts is not reused, told against the latest earlier run of the step."""
    key = reuse_key(parts)
    latest = workspace.metadata.latest_step_run(step_name, experiment_id, parent_run_id)
    if latest is None or not latest.parts:
        return f"no earlier run of step {step_name!r} in this experiment"
    if reuse_key(latest.parts) == key:
        return f"the earlier run {latest.run_id} with the same inputs did not complete"
    return explain(workspace, latest.parts, parts)


def explain(workspace: Workspace, before: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    """The first part that differs between two steps' parts, as a sentence."""
    for part in PART_ORDER:
        old, new = before.get(part), now.get(part)
        if old == new:
            continue
        if part == "inputs":
            return _inputs_changed(workspace, before, now)
        if part in ("parameters", "params"):
            return _params_changed(old or {}, new or {})
        if part == "source":
            changed, _total = workspace.services.snapshots.changed_files(str(old), str(new))
            return f"source {_names(changed)} changed" if changed else "source changed"
        if part == "environment":
            return f"environment {_env_change(old, new)}"
        if part == "arguments":
            return f"arguments changed: {' '.join(old or [])!r} → {' '.join(new or [])!r}"
        if part == "entry":
            return f"the step now runs {new!r} (was {old!r})"
        if part == "runtime":
            return f"the step now runs on {_runtime(new)} (was {_runtime(old)})"
        if part == "outputs":
            return f"outputs changed: {_outputs(old)} → {_outputs(new)}"
        return f"{part} changed"
    return "the step's definition changed"


def _inputs_changed(workspace: Workspace, before: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    old, new = before.get("inputs") or {}, now.get("inputs") or {}
    for name in sorted(set(old) | set(new)):
        if name not in old:
            return f"input {name!r} is new"
        if name not in new:
            return f"input {name!r} was removed"
        if old[name] == new[name]:
            continue
        ref_old = (before.get("input_refs") or {}).get(name) or {}
        ref_new = (now.get("input_refs") or {}).get(name) or {}
        if ref_old.get("dataset_id") and ref_new.get("dataset_id") and ref_old.get("name") == ref_new.get("name"):
            detail = f"{ref_old['name']} version {ref_old.get('version')} → {ref_new.get('version')}"
            files = _file_change(workspace, ref_old, ref_new)
            return f"input {name!r} changed: {detail}" + (f", {files}" if files else "")
        files = _file_change(workspace, ref_old, ref_new)
        if files:
            return f"input {name!r} changed: {files}"
        if str(old[name]).split(":")[0] == str(new[name]).split(":")[0]:
            return f"input {name!r}: the same files, read differently (its mode or reading settings changed)"
        return f"input {name!r} changed"
    return "inputs changed"


def _file_change(workspace: Workspace, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    if old.get("manifest") and new.get("manifest"):
        changed, total = workspace.services.snapshots.changed_files(old["manifest"], new["manifest"])
        return f"{len(changed)} of {total} files ({_names(changed)})" if changed else ""
    before, after = _ref_files(workspace, old), _ref_files(workspace, new)
    if before is None or after is None:
        return ""
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    return f"{len(changed)} of {len(after)} files ({_names(changed)})" if changed else ""


def _ref_files(workspace: Workspace, ref: Mapping[str, Any]) -> dict[str, str] | None:
    if "files" in ref:
        return dict(ref["files"])
    if ref.get("dataset_id"):
        try:
            return dict(job_input_types.get("dataset")().files(workspace, {"dataset": {"id": ref["dataset_id"]}}))
        except Exception:
            return None
    return None


def _files(workspace: Workspace, described: Mapping[str, Any]) -> dict[str, str] | None:
    files = getattr(job_input_types.get(str(described["type"]))(), "files", None)
    if files is None:
        return None
    try:
        return dict(files(workspace, described))
    except Exception:
        return None


def _params_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            if name not in old:
                return f"parameter {name} is new ({new[name]!r})"
            if name not in new:
                return f"parameter {name} was removed"
            return f"parameter {name} {_show(old[name])} → {_show(new[name])}"
    return "parameters changed"


def _env_change(old: Any, new: Any) -> str:
    if isinstance(old, str) and isinstance(new, str):
        old_name, _, old_version = old.partition(":")
        new_name, _, new_version = new.partition(":")
        if old_name == new_name:
            return f"{new_name} {old_version} → {new_version}"
    return f"{old or 'none'} → {new or 'none'}"


def _runtime(value: Any) -> str:
    value = value or {}
    shown = [f"python {value['python']}"] if value.get("python") else []
    shown += [f"kernel {value['kernel']}"] if value.get("kernel") else []
    return ", ".join(shown) or "its environment"


def _outputs(value: Any) -> str:
    entries = [json.loads(v) if isinstance(v, str) else {"name": v} for v in value or []]
    shown = []
    for entry in entries:
        extra = f" registered as {entry['register']['name']!r}" if entry.get("register") else ""
        extra += f" uploaded to {'/'.join(entry['destination'])!r}" if entry.get("destination") else ""
        shown.append(f"{entry.get('name')}{extra}")
    return "[" + ", ".join(shown) + "]"


def _names(paths: list[str], limit: int = 3) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def _show(value: Any) -> str:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else repr(value)


def _plain(value: Any) -> Any:
    return (
        value
        if isinstance(value, str | int | float | bool) or value is None
        else json.dumps(value, sort_keys=True, default=str)
    )
