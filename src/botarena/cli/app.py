"""The Typer application: wires every sub-command together."""

from __future__ import annotations

import typer

import botarena.cli.audit as audit
import botarena.cli.competitions as competitions
import botarena.cli.demo as demo
import botarena.cli.executor as executor
import botarena.cli.matches as matches
import botarena.cli.play as play
import botarena.cli.referee as referee
import botarena.cli.remote as remote
import botarena.cli.rerun as rerun
import botarena.cli.server as server
import botarena.cli.teams as teams
import botarena.cli.tokens as tokens
import botarena.cli.tournaments as tournaments
import botarena.cli.users as users
import botarena.cli.webhooks as webhooks

app = typer.Typer(
    name="botarena",
    help="botarena: a self-hostable platform for AI-agent competitions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("serve")(server.serve)
app.command("migrate")(server.migrate_command)
app.add_typer(executor.executor_app, name="executor")
app.add_typer(referee.referee_app, name="referee")
app.command("demo")(demo.demo)
app.add_typer(users.user_app, name="user")
app.command("login")(remote.login)
app.add_typer(tokens.token_app, name="token")
app.command("audit")(audit.audit)
app.add_typer(remote.agent_app, name="agent")
app.command("submit")(remote.submit)
app.command("status")(remote.status)
app.command("logs")(remote.logs)
app.command("rebuild")(remote.rebuild)
app.command("play")(play.play)
app.command("match")(matches.match)
app.command("replay")(matches.replay)
app.command("rerun")(rerun.rerun)
app.command("leaderboard")(remote.leaderboard)
app.add_typer(server.ratings_app, name="ratings")
app.add_typer(tournaments.tournament_app, name="tournament")
app.add_typer(competitions.competition_app, name="competition")
app.add_typer(webhooks.webhook_app, name="webhook")
app.add_typer(teams.team_app, name="team")


def main() -> None:
    """Console-script entry point."""
    app()
