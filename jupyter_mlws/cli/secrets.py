"""``mlws secrets set | list | delete | rotate-key`` (issue 21): the workspace's vault from the terminal.

A thin adapter over ``ws.get_default_keyvault()`` and the secret service. A value is never taken from the
command line (it would be in the shell's history and in ``ps``): ``set`` asks for it with a hidden prompt
when stdin is a terminal, else reads stdin whole, one trailing newline removed (``printf %s "$KEY" | mlws
secrets set API-KEY`` or ``mlws secrets set API-KEY < file``). No command prints a value.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from ..core.interfaces.secrets import check_secret_name
from ..core.secret_key import NEW_ENV
from ..core.values import iso_utc
from ..errors import InvalidArgumentError
from ..terminal import text_table
from .common import Parser, print_json, workspace_of

__all__ = ["add_parsers", "cmd_secrets_delete", "cmd_secrets_list", "cmd_secrets_rotate_key", "cmd_secrets_set"]


def _name(text: str) -> str:
    """An argparse type: a valid secret name; argparse names the argument in its one-line error."""
    try:
        return check_secret_name(text)
    except InvalidArgumentError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"value of secret {name} (hidden): ")
    value = sys.stdin.read()
    if value.endswith("\r\n"):
        return value[:-2]
    return value[:-1] if value.endswith("\n") else value


def cmd_secrets_set(args: argparse.Namespace) -> int:
    value = _read_value(args.name)
    if not value:
        raise InvalidArgumentError(f"no value was given for secret {args.name!r} (stdin was empty)")
    workspace_of(args).get_default_keyvault().set_secret(args.name, value)
    print(f"secret {args.name} set")
    return 0


def cmd_secrets_list(args: argparse.Namespace) -> int:
    rows = workspace_of(args).services.secrets.list()
    if args.json:
        print_json([{"name": n, "created_time": iso_utc(c), "updated_time": iso_utc(u)} for n, c, u in rows])
        return 0
    print(text_table(["NAME", "UPDATED"], [[n, iso_utc(u)] for n, _, u in rows], empty="no secrets"))
    return 0


def cmd_secrets_delete(args: argparse.Namespace) -> int:
    workspace_of(args).get_default_keyvault().delete_secret(args.name)
    print(f"secret {args.name} deleted")
    return 0


def cmd_secrets_rotate_key(args: argparse.Namespace) -> int:
    ws = workspace_of(args)
    count = len(ws.services.secrets.list())
    where = ws.get_default_keyvault().rotate_key(os.environ.get(NEW_ENV) or None)
    print(f"re-encrypted {count} secret{'s' if count != 1 else ''}; the new key is kept in {where}")
    return 0


def add_parsers(sub: Any) -> None:
    """The ``secrets`` command group, on the ``mlws`` parser's subcommands."""
    group = sub.add_parser("secrets", help="the workspace's secrets (Keyvault); values are never shown").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    p = group.add_parser(
        "set",
        help="set a secret; the value comes from a hidden prompt or stdin, never the command line",
        description="Set secret NAME. The value is asked for with a hidden prompt when stdin is a terminal, "
        "else read from stdin (one trailing newline removed); it is never taken from the command line.",
    )
    p.add_argument("name", metavar="NAME", type=_name, help="1-127 letters, digits and '-'")
    p.set_defaults(func=cmd_secrets_set)

    p = group.add_parser("list", help="every secret's name and when it was last set (never a value)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_secrets_list)

    p = group.add_parser("delete", help="delete a secret")
    p.add_argument("name", metavar="NAME", type=_name)
    p.set_defaults(func=cmd_secrets_delete)

    p = group.add_parser(
        "rotate-key",
        help="re-encrypt every secret with a new key",
        description=f"Re-encrypt every secret with a new key, all or nothing: the key in {NEW_ENV} when set, "
        "else a generated one, kept where the current key lives (the OS keyring or the key file). With "
        f"MLWS_SECRET_KEY, give the new key in {NEW_ENV} and set MLWS_SECRET_KEY to it afterwards.",
    )
    p.set_defaults(func=cmd_secrets_rotate_key)
