"""``botarena user …``: account administration straight on the database (no server needed)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from botarena.cli.output import console, fail

user_app = typer.Typer(help="Manage users (works on the database directly).", no_args_is_help=True)


@user_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The new user's name.")],
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user and print its first API token alone on the last line of stdout.

    Without --password-stdin, a terminal is asked for a password; otherwise the user signs in
    with tokens only.
    """
    # Imported here so that other commands start without the database toolkit.
    from botarena.accounts.service import AccountService
    from botarena.db import migrate
    from botarena.db.engine import build_engine, build_session_factory, session_scope
    from botarena.errors import AppError
    from botarena.settings import get_settings

    password = _read_password(password_stdin)
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = build_engine(settings.resolved_database_url)
    try:
        migrate.upgrade(engine)
        with session_scope(build_session_factory(engine)) as session:
            user, issued = AccountService(session).create_user(name, password, admin=admin)
    except AppError as exc:
        fail(exc.error, exc.message)
    finally:
        engine.dispose()
    console.print(f"created {user.role} {user.username} ({user.id}); API token (shown once):")
    typer.echo(issued.secret)


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("No password on standard input")
        return password
    if sys.stdin.isatty():
        entered: str = typer.prompt(
            "Password (empty for token-only sign-in)",
            default="",
            hide_input=True,
            confirmation_prompt=True,
            show_default=False,
        )
        return entered or None
    return None
