"""``botarena user …``: account administration straight on the database (no server needed).

Every change is recorded in the audit log with the actor ``system/cli``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from botarena.cli.output import console, fail

if TYPE_CHECKING:
    from botarena.accounts.service import AccountService

user_app = typer.Typer(help="Manage users (works on the database directly).", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="The user's name.")]
T = TypeVar("T")


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
    with tokens only. The token lasts BOTARENA_TOKEN_DAYS days (renew it with
    'botarena token renew').
    """
    password = _read_password(password_stdin)
    user, issued = _on_accounts(
        lambda accounts: accounts.create_user(name, password, admin=admin, label="first")
    )
    expires = issued.token.expires_at
    until = f"expires {expires:%Y-%m-%d %H:%M} UTC" if expires else "never expires"
    console.print(
        f"created {user.role} {user.username} ({user.id}); API token ({until}, shown once):",
        highlight=False,
    )
    typer.echo(issued.secret)


@user_app.command("set-admin")
def set_admin(
    name: NameArgument,
    remove: Annotated[
        bool, typer.Option("--remove", help="Make the admin a participant again.")
    ] = False,
) -> None:
    """Make a user an administrator (or, with --remove, a participant again)."""
    changed = _on_accounts(lambda accounts: accounts.set_admin(name, not remove))
    role = "a participant" if remove else "an admin"
    console.print(f"{name} is {'now' if changed else 'already'} {role}", highlight=False)


@user_app.command("disable")
def disable(name: NameArgument) -> None:
    """Disable a user: no sign-in, and none of their tokens works, until enabled again."""
    changed = _on_accounts(lambda accounts: accounts.set_disabled(name, True))
    console.print(f"{name} is {'now' if changed else 'already'} disabled", highlight=False)


@user_app.command("enable")
def enable(name: NameArgument) -> None:
    """Enable a disabled user again (their unexpired, unrevoked tokens work again)."""
    changed = _on_accounts(lambda accounts: accounts.set_disabled(name, False))
    console.print(f"{name} is {'now' if changed else 'already'} enabled", highlight=False)


def _on_accounts(work: Callable[[AccountService], T]) -> T:
    """Run ``work`` on the migrated database with the audit log as the journal; an error of
    the rules ends the command with its sentence."""
    from botarena.errors import AppError

    try:
        with _accounts() as accounts:
            return work(accounts)
    except AppError as exc:
        fail(exc.error, exc.message)


@contextmanager
def _accounts() -> Iterator[AccountService]:
    # Imported here so that other commands start without the database toolkit.
    from botarena.accounts.service import AccountService
    from botarena.audit.context import ActionContext
    from botarena.audit.journal import AuditJournal
    from botarena.db import migrate
    from botarena.db.engine import build_engine, build_session_factory, session_scope
    from botarena.settings import get_settings
    from botarena.storage import keep_files_private, private_data_dir

    settings = get_settings()
    keep_files_private()
    private_data_dir(settings)
    engine = build_engine(settings.resolved_database_url)
    try:
        migrate.upgrade(engine)
        with session_scope(build_session_factory(engine)) as session:
            yield AccountService(
                session,
                journal=AuditJournal(ActionContext.system()),
                token_days=settings.token_days,
            )
    finally:
        engine.dispose()


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
