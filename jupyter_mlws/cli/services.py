"""``mlws deploy`` and ``mlws services list | show | logs | keys | delete | update`` (issue 17).

A thin adapter over ``Model.deploy`` and ``Webservice``. The rows come from ``serving.tables``, the
same the ``%mlws services`` magic shows. A failed deployment's error is a traceback (of ``init()``):
the CLI prints its first and last lines as the one-line error and points to ``mlws services logs``,
which has the rest.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, NotFoundError, WebserviceException
from ..terminal import text_table
from .common import Parser, print_json, workspace_of
from .models import model_from_spec

if TYPE_CHECKING:
    from ..core.workspace import Workspace
    from ..serving.config import InferenceConfig
    from ..serving.webservice import Webservice

__all__ = [
    "add_parsers",
    "cmd_deploy",
    "cmd_services_delete",
    "cmd_services_keys",
    "cmd_services_list",
    "cmd_services_logs",
    "cmd_services_show",
    "cmd_services_update",
]

USAGE = 2


def _usage(prog: str, message: str) -> int:
    """A usage error found after parsing: the parser's format, exit 2."""
    print(f"{prog}: usage error: {message} (see {prog} --help)", file=sys.stderr)
    return USAGE


def _service(ws: Workspace, name: str) -> Webservice:
    from ..serving.webservice import Webservice

    try:
        return Webservice(ws, name)
    except NotFoundError:
        raise NotFoundError(f"no web service is named {name!r}; see `mlws services list`") from None


def _failed(exc: WebserviceException, name: str) -> WebserviceException:
    """The exception's message on one line (its traceback is in the service log)."""
    from ..serving.tables import error_line

    message = error_line(str(exc).replace("; see get_logs()", ""))
    return WebserviceException(f"{message}; see `mlws services logs {name}`")


def _mlws(args: argparse.Namespace) -> str:
    """How to call ``mlws`` again on this workspace (``--workspace`` kept when it was given)."""
    return "mlws" + (f" --workspace {shlex.quote(args.workspace)}" if args.workspace else "")


def _inference(ws: Workspace, entry: str | None, source: str | None, environment: str | None) -> InferenceConfig:
    """``--entry`` (relative to ``--source``; without it the script's own folder is the source
    folder, so that only it is copied into the service) and ``--environment NAME[:V]``."""
    from ..core.environment import Environment
    from ..serving.config import InferenceConfig

    env = None
    if environment:
        name, _, version = environment.partition(":")
        env = Environment.get(ws, name, version or None)
    if entry is None:
        return InferenceConfig()
    if source is None:
        script = Path(entry)
        if not script.is_file():
            raise InvalidArgumentError(f"the entry script {entry!r} does not exist")
        return InferenceConfig(entry_script=script.name, source_directory=script.parent, environment=env)
    if not Path(source).is_dir():
        raise InvalidArgumentError(f"--source {source!r} is not a folder")
    if not (Path(source) / entry).is_file():
        raise InvalidArgumentError(
            f"the entry script {entry!r} does not exist in {source!r} (--entry is relative to --source)"
        )
    return InferenceConfig(entry_script=entry, source_directory=source, environment=env)


def _print_call(args: argparse.Namespace, view: dict[str, Any]) -> None:
    """Where the service listens and a curl line that calls it."""
    uri = view["scoring_uri"]
    print(f"Scoring URI: {uri}")
    if view["swagger_uri"]:
        print(f"Swagger:     {view['swagger_uri']}")
    body = "'{\"data\": [[...]]}'" if view["entry_script"] else "'{\"instances\": [[...]]}'"
    what = (
        "the body is what run() receives"
        if view["entry_script"]
        else "MLflow's request shapes: instances, inputs, dataframe_split or dataframe_records"
    )
    print(f"Call it ({what}):")
    if view["auth_enabled"]:
        print(f"  KEY=$({_mlws(args)} services keys {view['name']} --primary)")
        auth = ' -H "Authorization: Bearer $KEY"'
    else:
        auth = ""
    print(f"  curl -s {uri}{auth} -H 'Content-Type: application/json' -d {body}")


# -- deploy ------------------------------------------------------------------------------------------------
def cmd_deploy(args: argparse.Namespace) -> int:
    from ..core.model import Model
    from ..serving import tables
    from ..serving.webservice import DockerWebservice, LocalWebservice, Webservice

    prog = "mlws deploy"
    if args.source is not None and args.entry is None:
        return _usage(prog, "--source needs --entry (without an entry script one pickled model is served)")
    if args.sample_rate is not None and not args.collect_inputs:
        return _usage(prog, "--sample-rate needs --collect-inputs")
    if args.environment and args.entry is None:
        return _usage(prog, "--environment needs --entry (the MLflow-shape server runs in this interpreter)")
    ws = workspace_of(args)
    if not args.overwrite:
        try:
            Webservice.check_for_existing_webservice(ws, args.name)
        except WebserviceException:
            raise WebserviceException(
                f"a web service named {args.name!r} already exists; pass --overwrite to replace it, or change it "
                f"with `mlws services update {args.name}`"
            ) from None
    models = [model_from_spec(ws, spec) for spec in args.models]
    inference = _inference(ws, args.entry, args.source, args.environment)
    options: dict[str, Any] = {
        "port": args.port,
        "auth_enabled": not args.no_auth,
        "enable_data_collection": args.collect_inputs,
        "data_collection_sample_rate": 1.0 if args.sample_rate is None else args.sample_rate,
        "description": args.description,
    }
    config = (DockerWebservice if args.docker else LocalWebservice).deploy_configuration(**options)
    service = Model.deploy(ws, args.name, models, inference, config, overwrite=args.overwrite)
    ids = ", ".join(service.model_ids)
    if not args.json:
        print(f"Deploying {service.name} ({service.compute_type}): models {ids}", flush=True)
    if args.no_wait:
        if args.json:
            print_json(tables.service_json(service))
            return 0
        print(f"Follow it with: {_mlws(args)} services show {service.name}  (or: services logs {service.name})")
        return 0
    try:
        service.wait_for_deployment(show_output=not args.json, timeout_sec=args.timeout)
    except WebserviceException as exc:
        raise _failed(exc, service.name) from None
    except KeyboardInterrupt:
        print(
            f"mlws: stopped waiting; {service.name} goes on deploying (see `{_mlws(args)} services show "
            f"{service.name}`)",
            file=sys.stderr,
        )
        return 130
    view = tables.service_json(service)
    if args.json:
        print_json(view)
        return 0
    _print_call(args, view)
    return 0


# -- services ----------------------------------------------------------------------------------------------
def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    return text_table([h.upper() for h in headers], rows, empty=None)


def cmd_services_list(args: argparse.Namespace) -> int:
    from ..serving import tables
    from ..serving.webservice import Webservice

    views = [tables.service_json(s) for s in Webservice.list(workspace_of(args), model_name=args.model)]
    if args.json:
        print_json(views)
        return 0
    print(_table(tables.SERVICE_HEADERS, tables.service_rows(views)))
    return 0


def cmd_services_show(args: argparse.Namespace) -> int:
    from ..serving import tables

    view = tables.service_json(_service(workspace_of(args), args.name))
    if args.json:
        print_json(view)
        return 0
    for field, value in tables.detail_rows(view):
        print(f"{field + ':':15}{value}")
    return 0


def cmd_services_logs(args: argparse.Namespace) -> int:
    if args.lines < 0:
        return _usage("mlws services logs", f"--lines takes a number of lines >= 0, got {args.lines}")
    text = _service(workspace_of(args), args.name).get_logs(num_lines=args.lines)
    sys.stdout.write(text if not text or text.endswith("\n") else text + "\n")
    return 0


def cmd_services_keys(args: argparse.Namespace) -> int:
    service = _service(workspace_of(args), args.name)
    if args.regenerate:
        service.regen_key(args.regenerate.capitalize())
        if not args.json and not args.primary:
            print(f"A new {args.regenerate} key is in force within a second; the other one still works.")
    primary, secondary = service.get_keys()
    if args.primary:
        print(primary)
    elif args.json:
        print_json({"primary_key": primary, "secondary_key": secondary, "auth_enabled": service.auth_enabled})
    else:
        print(f"primary:   {primary}")
        print(f"secondary: {secondary}")
        if not service.auth_enabled:
            print(f"(key auth is off: {service.name} answers without a key)")
    return 0


def cmd_services_delete(args: argparse.Namespace) -> int:
    service = _service(workspace_of(args), args.name)
    if not args.yes:
        if not sys.stdin.isatty():
            return _usage("mlws services delete", "pass --yes to delete without a prompt (stdin is not a terminal)")
        answer = input(f"Delete web service {service.name!r} (models {', '.join(service.model_ids)})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Not deleted.")
            return 1
    service.delete()
    print(f"Deleted {service.name}")
    return 0


def cmd_services_update(args: argparse.Namespace) -> int:
    prog = "mlws services update"
    if not (args.model or args.entry or args.source or args.environment):
        return _usage(prog, "give what changes: --model, --entry, --source or --environment")
    ws = workspace_of(args)
    service = _service(ws, args.name)
    models = [model_from_spec(ws, spec) for spec in args.model] if args.model else None
    inference = None
    if args.entry or args.source or args.environment:
        entry = args.entry
        if entry is None:
            if service.entry_script is None:
                raise InvalidArgumentError(
                    f"{service.name} has no entry script (it serves MLflow's request shapes); give --entry"
                )
            if args.source is None:
                raise InvalidArgumentError(f"give --source (the folder of {service.entry_script!r}) or --entry")
            entry = service.entry_script
        inference = _inference(ws, entry, args.source, args.environment)
    try:
        service.update(models=models, inference_config=inference)
    except WebserviceException as exc:
        raise _failed(exc, service.name) from None
    print(f"Updated {service.name} to generation {service.generation}: models {', '.join(service.model_ids)}")
    return 0


# -- the parser -----------------------------------------------------------------------------------------------
def _sample_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a rate between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a rate between 0 and 1, got {text!r}")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port number (1-65535; 0: any free port), got {text!r}")
    return int(text)


def add_parsers(sub: Any) -> None:
    """``deploy`` and the ``services`` command group, on the ``mlws`` parser's subcommands."""
    p = sub.add_parser(
        "deploy",
        help="deploy registered models as a web service (a process here, or a Docker container)",
        description="Deploy models as a web service and wait until it answers. Without --entry, one pickled "
        "model is served with MLflow's request shapes (dataframe_split, dataframe_records, instances, inputs).",
    )
    p.add_argument("models", nargs="+", metavar="MODEL[:V]", help="NAME (newest version), NAME:VERSION or NAME:ALIAS")
    p.add_argument("--name", "-n", required=True, help="the service name (3-32 of a-z, 0-9 and '-')")
    p.add_argument("--entry", help="the entry script with init() and run(raw_data)")
    p.add_argument("--source", help="the folder --entry is in and that is copied (default: the script's folder)")
    p.add_argument("--environment", help="a registered environment NAME or NAME:VERSION (default: this interpreter)")
    p.add_argument("--docker", action="store_true", help="run it as a container of the Docker compute target")
    p.add_argument("--port", type=_port, help="the port (default: any free port)")
    p.add_argument("--no-auth", action="store_true", help="answer without a key (default: key auth)")
    p.add_argument("--collect-inputs", action="store_true", help="capture inputs into the dataset NAME-inputs")
    p.add_argument("--sample-rate", type=_sample_rate, help="the share of requests captured (default 1.0)")
    p.add_argument("--description", "-d")
    p.add_argument("--overwrite", action="store_true", help="replace a service of the same name")
    p.add_argument("--no-wait", action="store_true", help="return once it is starting")
    p.add_argument("--timeout", type=float, help="give up waiting after this many seconds")
    p.add_argument("--json", action="store_true", help="print the service as JSON (once it is Healthy)")
    p.set_defaults(func=cmd_deploy)

    group = sub.add_parser("services", help="deployed web services").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    p = group.add_parser("list", help="list web services")
    p.add_argument("--model", help="only the services of this model (its name)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_services_list)

    p = group.add_parser("show", help="a service's state, URIs, models and configuration")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_services_show)

    p = group.add_parser("logs", help="the end of a service's log (deployment, supervisor, worker)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--lines", "-n", type=int, default=200, help="how many lines (default 200)")
    p.set_defaults(func=cmd_services_logs)

    p = group.add_parser("keys", help="a service's primary and secondary keys")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--primary", action="store_true", help="print only the primary key (for KEY=$(...))")
    p.add_argument("--regenerate", choices=("primary", "secondary"), help="make a new key first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_services_keys)

    p = group.add_parser("delete", help="stop a service and remove it (captured inputs stay a dataset)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask")
    p.set_defaults(func=cmd_services_delete)

    p = group.add_parser("update", help="deploy new models or code without downtime")
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--model", "-m", action="append", default=[], metavar="MODEL[:V]", help="the models it serves (repeat)"
    )
    p.add_argument("--entry", help="a new entry script (relative to --source)")
    p.add_argument("--source", help="a new source folder (default: the entry script's folder)")
    p.add_argument("--environment", help="a registered environment NAME or NAME:VERSION")
    p.set_defaults(func=cmd_services_update)
