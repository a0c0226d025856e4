"""``mlws models list | show | download``."""

from __future__ import annotations

import argparse

from ..core.model import Model
from ..core.workspace import Workspace
from ..errors import AlreadyExistsError, NotFoundError
from ..terminal import text_table
from .common import print_json, workspace_of

__all__ = ["cmd_models_download", "cmd_models_list", "cmd_models_show", "model_from_spec"]


def _model_from_args(ws: Workspace, spec: str, version: int | None) -> Model:
    name, _, v = spec.partition(":")
    if v:
        if not v.isdigit():
            return Model(ws, name, alias=v)
        version = int(v)
    return Model(ws, name, version=version)


def model_from_spec(ws: Workspace, spec: str) -> Model:
    """``NAME`` (the newest version), ``NAME:VERSION`` or ``NAME:ALIAS``; an unknown one is an error
    that says where to look."""
    try:
        return _model_from_args(ws, spec, None)
    except NotFoundError as exc:
        raise NotFoundError(f"{exc}; see `mlws models list`") from None


def cmd_models_list(args: argparse.Namespace) -> int:
    ws = workspace_of(args)
    models = Model.list(ws, name=args.name, latest=args.latest)
    if args.json:
        print_json([m.serialize() for m in models])
        return 0
    rows = [
        (
            m.name,
            m.version,
            ",".join(m.aliases),
            ",".join(f"{k}={v}" for k, v in m.tags.items()),
            m.run_id,
            m.created_time.isoformat(timespec="seconds"),
        )
        for m in models
    ]
    print(text_table(["NAME", "VERSION", "ALIASES", "TAGS", "RUN", "CREATED"], rows, empty=None))
    return 0


def cmd_models_show(args: argparse.Namespace) -> int:
    model = _model_from_args(workspace_of(args), args.model, args.version)
    data = model.serialize()
    if args.json:
        print_json(data)
        return 0
    for key in ("id", "description", "run_id", "created_time"):
        if data[key] is not None:
            print(f"{key + ':':14}{data[key]}")
    for key in ("aliases",):
        if data[key]:
            print(f"{key + ':':14}{', '.join(data[key])}")
    for section in ("tags", "properties"):
        if data[section]:
            print(f"{section}:")
            for k, v in data[section].items():
                print(f"  {k} = {v}")
    print("files:")
    for f in data["files"]:
        print(f"  {f['path']}  ({f['size']} bytes)")
    return 0


def cmd_models_download(args: argparse.Namespace) -> int:
    model = _model_from_args(workspace_of(args), args.model, args.version)
    try:
        path = model.download(args.output, exist_ok=args.overwrite)
    except AlreadyExistsError as exc:
        raise AlreadyExistsError(
            f"{str(exc).split(';')[0]}; pass --overwrite to replace it or choose another folder with -o DIR"
        ) from None
    print(path)
    return 0
