"""``vesalius user ACTION [USERNAME]``: manage the accounts of the web application.

Actions:

- ``add USERNAME --role ROLE [--full-name NAME] [--password-stdin]``: create an account;
  without ``--password-stdin`` a password is generated and printed once;
- ``list``: every account, its role, whether active, its last login;
- ``passwd USERNAME [--password-stdin]``: set a new password (generated and printed once
  unless read from stdin); the user's browser sessions end;
- ``role USERNAME --role ROLE``: change the role;
- ``disable USERNAME`` / ``enable USERNAME``: disabling ends sessions, revokes API tokens;
- ``token USERNAME [--name NAME]``: make an API token (``Authorization: Bearer``), printed
  once: only its hash is kept.

Roles: admin, radiologist, technologist, viewer, service. Every change is written to the
audit trail as done by ``cli``. An unknown user, a taken name or a short password is one
line on stderr and exit code 2.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vesalius.store import Store
    from vesalius.store.roles import Role


class Action(StrEnum):
    """What ``vesalius user`` does."""

    ADD = "add"
    LIST = "list"
    PASSWD = "passwd"
    ROLE = "role"
    DISABLE = "disable"
    ENABLE = "enable"
    TOKEN = "token"


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password read from stdin, or a generated one; and whether it was generated."""
    import secrets

    if not from_stdin:
        return secrets.token_urlsafe(18), True
    password = sys.stdin.readline().rstrip("\r\n")
    return password, False


def _role(value: str | None) -> Role:
    from vesalius.errors import InputError
    from vesalius.store.roles import Role

    if value is None:
        raise InputError("--role", f"needed: one of {', '.join(r.value for r in Role)}")
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InputError("--role", f"{value!r} is not a role: use one of {choices}") from None


def _audit(session: Session, action: str, username: str, detail: str | None = None) -> None:
    from vesalius.store.audit import AuditRecord, append_event

    append_event(session, AuditRecord("cli", action, "user", username, "cli", detail=detail))


def _list(store: Store) -> None:
    from vesalius.store.users import list_users

    with store.read_session() as session:
        users = list_users(session)
        typer.echo(f"{'username':<24} {'role':<13} {'active':<7} {'last login':<20} full name")
        for u in users:
            last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
            active = "yes" if u.active else "no"
            typer.echo(f"{u.username:<24} {u.role.value:<13} {active:<7} {last:<20} {u.full_name}")


def _change(
    store: Store,
    action: Action,
    username: str,
    role: str | None,
    stdin: bool,
    full_name: str,
    name: str,
) -> None:
    from vesalius.store import users

    with store.session() as session:
        if action is Action.ADD:
            chosen = _role(role)
            password, generated = _password(stdin)
            users.add_user(session, username, chosen, password, full_name=full_name)
            _audit(session, "create", username, f"role={chosen.value}")
            typer.echo(f"added {username} ({chosen.value})")
        elif action is Action.PASSWD:
            users.get_user(session, username)
            password, generated = _password(stdin)
            users.set_password(session, username, password)
            _audit(session, "update", username, "password")
            typer.echo(f"password of {username} changed")
        elif action is Action.ROLE:
            chosen = _role(role)
            users.set_role(session, username, chosen)
            _audit(session, "update", username, f"role={chosen.value}")
            typer.echo(f"{username} is now {chosen.value}")
            return
        elif action in (Action.DISABLE, Action.ENABLE):
            users.set_active(session, username, action is Action.ENABLE)
            _audit(session, "update", username, f"active={action is Action.ENABLE}")
            typer.echo(f"{username} {action.value}d")
            return
        else:
            token = users.create_token(session, username, name=name)
            _audit(session, "create-token", username, name or None)
            typer.echo(f"API token for {username} (shown once, keep it safe):")
            typer.echo(token)
            return
    if generated:
        typer.echo(f"password (shown once): {password}")


def user(
    action: Annotated[
        Action, typer.Argument(help="add, list, passwd, role, disable, enable, token")
    ],
    username: Annotated[str | None, typer.Argument(help="The account (all but list).")] = None,
    role: Annotated[
        str | None, typer.Option("--role", help="admin, radiologist, technologist, viewer, service")
    ] = None,
    full_name: Annotated[str, typer.Option("--full-name", help="The person's name.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (one line).")
    ] = False,
    name: Annotated[str, typer.Option("--name", help="What the API token is for.")] = "",
    config: Annotated[
        Path | None, typer.Option("--config", help="Settings file (TOML) naming the index.")
    ] = None,
) -> None:
    """Manage web accounts: add, list, passwd, role, disable, enable, token."""
    from vesalius.errors import InputError, StoreError
    from vesalius.settings import load_settings
    from vesalius.store import open_store

    if action is not Action.LIST and not username:
        raise InputError("USERNAME", f"'user {action.value}' needs the account's username")
    if action is Action.LIST:
        username = None
    store = open_store(load_settings(config).database_url)
    try:
        if username is None:
            _list(store)
        else:
            _change(store, action, username, role, password_stdin, full_name, name)
    except StoreError as err:
        raise InputError(None, str(err)) from None
    finally:
        store.close()
