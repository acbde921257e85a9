"""The referee: plays one match between started agents, on the game's rules and a fair clock.

It never runs agent code itself. It speaks protocol v1 over each agent's pipes, waits on all of
them at once with one ``poll`` (so a flood on one pipe never stalls another), charges each
agent's time bank, and ends the match with a clear outcome whatever the agents do.
"""

from __future__ import annotations

import select
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botarena.executor import protocol
from botarena.executor.agent_process import AgentProcess
from botarena.executor.channel import AgentChannel, ReplyTooLongError
from botarena.executor.clock import TimeBank
from botarena.executor.kills import killed_for
from botarena.executor.logbuffer import DEFAULT_LOG_LIMIT
from botarena.executor.outcomes import AgentOutcome, AgentStatus, MatchResult, MatchStatus
from botarena.executor.stop import MatchStoppedError, StopSignal
from botarena.games.base import Game
from botarena.metrics import definitions as metrics

# How long a stopped agent gets to exit by itself, and to say why, before it is killed.
_EXIT_GRACE = 0.5
_END_GRACE = 0.2
_STOP = (-1, "stop")


@dataclass(frozen=True)
class RefereeOptions:
    """Limits of one match that are not the game's own configuration."""

    startup_timeout: float | None = None  # default: the configuration's agentTimeout
    log_limit: int = DEFAULT_LOG_LIMIT


@dataclass
class _Answer:
    """What came back from one agent for one request."""

    reply: protocol.Reply | None = None
    elapsed: float = 0.0
    fault: AgentStatus | None = None
    reason: str | None = None


class Referee:
    """Plays ``game`` between ``processes`` (player 0 first) and returns the result.

    ``stop``, once set from another thread, ends the match at once: whatever the referee
    waits on, its agents' processes are closed and the result is the platform's error.
    """

    def __init__(
        self,
        game: Game,
        configuration: dict[str, Any],
        processes: Sequence[AgentProcess],
        *,
        seed: int = 0,
        options: RefereeOptions | None = None,
        stop: StopSignal | None = None,
    ) -> None:
        self.game = game
        self.configuration = configuration
        self.seed = seed
        self.options = options or RefereeOptions()
        self.channels = [AgentChannel(p, self.options.log_limit) for p in processes]
        self.outcomes = [AgentOutcome() for _ in processes]
        self.banks = [
            TimeBank(float(configuration["actTimeout"]), float(configuration["overageTime"]))
            for _ in processes
        ]
        self.reply_seconds: list[float] = []
        self._turn = protocol.TurnEncoder(configuration)
        # Whether each agent's stdin is watched for writing (something is left to send).
        self._writing = [False for _ in processes]
        # poll, not a selectors.Selector: a handful of descriptors, watched at every turn,
        # where the selector's bookkeeping in Python costs more than the system call.
        self._poller = select.poll()
        self._watched: dict[int, tuple[int, str]] = {}  # descriptor -> (player, which pipe)
        for index, channel in enumerate(self.channels):
            self._watch(channel.stdout_fd, select.POLLIN, index, "out")
            self._watch(channel.stderr_fd, select.POLLIN, index, "err")
        self.stop = stop
        if stop is not None:
            self._watch(stop.fileno(), select.POLLIN, *_STOP)

    # -- the match -----------------------------------------------------------------------
    def play(self) -> MatchResult:
        started = time.monotonic()
        state = self.game.initial_state_for(self.configuration, self.seed, len(self.channels))
        steps: list[dict[str, Any]] = [
            {"step": 0, "actions": {}, "frame": self.game.replay_frame(state)}
        ]
        turns = 0
        try:
            if self._start_up():
                while not self.game.is_terminal(state):
                    movers = self.game.to_move(state)
                    actions = self._collect_actions(state, movers)
                    if actions is None:
                        break
                    state = self.game.apply(state, actions)
                    turns += 1
                    steps.append(
                        {
                            "step": turns,
                            "actions": {str(p): a for p, a in actions.items()},
                            "frame": self.game.replay_frame(state),
                        }
                    )
            result = self._result(state, turns, started, steps)
            self._say_goodbye(result.scores)
            return result
        except MatchStoppedError:
            return self._stopped(turns, started)
        finally:
            self._close()

    def _start_up(self) -> bool:
        """Send hello to everyone and wait for each one's ready; False if anyone failed."""
        limit = self.options.startup_timeout
        if limit is None:
            limit = float(self.configuration.get("agentTimeout", 60))
        players = list(range(len(self.channels)))
        for player in players:
            self.channels[player].send(protocol.hello(self.game.id, player, self.configuration))
        start = time.monotonic()
        answers = self._wait_for(players, {p: start + limit for p in players}, start)
        for player, answer in answers.items():
            if answer.fault is not None:
                if answer.fault is AgentStatus.TIMEOUT:
                    answer.reason = f"did not get ready within {limit:g} s"
                self._fault(player, answer.fault, answer.reason)
            elif answer.reply is not None and answer.reply.kind != "ready":
                self._fault(player, AgentStatus.INVALID, f"expected ready, got {answer.reply.kind}")
        return not self._faulty()

    def _collect_actions(self, state: Any, movers: list[int]) -> dict[int, Any] | None:
        """Ask every player to move now; None when one of them failed (the match is over)."""
        for player in movers:
            observation = dict(self.game.observation(state, player))
            observation["remainingOverageTime"] = round(max(self.banks[player].remaining, 0.0), 3)
            self.channels[player].send(self._turn(observation))
        sent = time.monotonic()
        deadlines = {p: self.banks[p].deadline_after(sent) for p in movers}
        answers = self._wait_for(movers, deadlines, sent)
        actions: dict[int, Any] = {}
        for player in movers:
            answer = answers[player]
            if answer.fault is not None:
                self._fault(player, answer.fault, answer.reason)
                continue
            assert answer.reply is not None
            self.reply_seconds.append(answer.elapsed)
            if not self.banks[player].charge(answer.elapsed):
                self._fault(player, AgentStatus.TIMEOUT, self._timeout_reason(player))
                continue
            if answer.reply.kind != "action":
                self._fault(
                    player, AgentStatus.INVALID, f"expected an action, got {answer.reply.kind}"
                )
                continue
            reason = self.game.invalid_reason(state, player, answer.reply.action)
            if reason is not None:
                self._fault(player, AgentStatus.INVALID, f"illegal action: {reason}")
                continue
            actions[player] = answer.reply.action
        return None if self._faulty() else actions

    # -- waiting on pipes ----------------------------------------------------------------
    def _wait_for(
        self, players: list[int], deadlines: dict[int, float], sent: float
    ) -> dict[int, _Answer]:
        """Wait until each of ``players`` answered one line, failed, or ran out of time."""
        answers: dict[int, _Answer] = {}
        waiting = set(players)
        for player in list(waiting):
            self._take_line(player, sent, answers, waiting)
        while waiting:
            if self.stop is not None:
                self.stop.check()
            self._update_write_interest()
            now = time.monotonic()
            for player in [p for p in waiting if deadlines[p] <= now]:
                waiting.discard(player)
                answers[player] = _Answer(
                    fault=AgentStatus.TIMEOUT, reason=self._timeout_reason(player)
                )
            if not waiting:
                break
            timeout = min(deadlines[p] for p in waiting) - now
            for fd, _events in self._poller.poll(timeout * 1000):
                # A hang-up or an error counts as readiness: the read or write tells which.
                owner = self._watched.get(fd)
                if owner is None:  # unregistered by an earlier event of this round
                    continue
                if owner == _STOP:
                    raise MatchStoppedError("the match was stopped")
                index, kind = owner
                channel = self.channels[index]
                if kind == "in":
                    channel.flush()
                    continue
                if kind == "err":
                    channel.read_stderr()
                    if channel.stderr_closed:
                        self._unregister(channel.stderr_fd)
                    continue
                try:
                    channel.read_stdout()
                except ReplyTooLongError:
                    self._unregister(channel.stdout_fd)
                    waiting.discard(index)
                    answers[index] = _Answer(
                        fault=AgentStatus.INVALID,
                        reason=f"reply longer than {channel.max_reply} bytes",
                    )
                    continue
                if index in waiting:
                    self._take_line(index, sent, answers, waiting)
                if channel.stdout_closed:
                    self._unregister(channel.stdout_fd)
                    if index in waiting:
                        waiting.discard(index)
                        answers[index] = _Answer(
                            fault=AgentStatus.ERROR, reason=self._exit_reason(index)
                        )
        return answers

    def _take_line(
        self, player: int, sent: float, answers: dict[int, _Answer], waiting: set[int]
    ) -> None:
        line = self.channels[player].next_line()
        if line is None:
            return
        waiting.discard(player)
        reply = protocol.parse_reply(line)
        elapsed = time.monotonic() - sent
        if reply.kind == "garbage":
            answers[player] = _Answer(fault=AgentStatus.INVALID, reason=reply.message)
        elif reply.kind == "error":
            answers[player] = _Answer(fault=AgentStatus.ERROR, reason=reply.message)
        else:
            answers[player] = _Answer(reply=reply, elapsed=elapsed)

    def _update_write_interest(self) -> None:
        """Watch an agent's stdin while a message to it is not fully written, and only then."""
        for index, channel in enumerate(self.channels):
            wants = channel.wants_to_write
            if wants is self._writing[index]:
                continue
            self._writing[index] = wants
            if wants:
                self._watch(channel.stdin_fd, select.POLLOUT, index, "in")
            else:
                self._unregister(channel.stdin_fd)

    def _watch(self, fd: int, events: int, player: int, pipe: str) -> None:
        self._poller.register(fd, events)
        self._watched[fd] = (player, pipe)

    def _unregister(self, fd: int) -> None:
        if self._watched.pop(fd, None) is not None:
            self._poller.unregister(fd)

    # -- outcomes ------------------------------------------------------------------------
    def _fault(self, player: int, status: AgentStatus, reason: str | None) -> None:
        if self.outcomes[player].status is AgentStatus.DONE:
            self.outcomes[player].status = status
            self.outcomes[player].reason = reason

    def _faulty(self) -> list[int]:
        return [i for i, o in enumerate(self.outcomes) if o.status is not AgentStatus.DONE]

    def _timeout_reason(self, player: int) -> str:
        bank = self.banks[player]
        return f"ran out of time: {bank.per_turn:g} s per turn and its overage bank are used up"

    def _exit_reason(self, player: int) -> str:
        process = self.channels[player].process
        deadline = time.monotonic() + _EXIT_GRACE
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if process.poll() is None:
            return "closed its output and stopped answering"
        return process.exit_reason()

    def _result(
        self, state: Any, turns: int, started: float, steps: list[dict[str, Any]]
    ) -> MatchResult:
        faulty = self._faulty()
        if len(faulty) == 1:
            winner: int | None = 1 - faulty[0] if len(self.channels) == 2 else None
            scores = list(self.game.forfeit_scores(state, faulty[0]))
        elif faulty:
            winner = None  # both failed at once (a simultaneous game): nobody wins
            scores = [0.0 for _ in self.channels]
        else:
            winner = self.game.winner(state)
            scores = list(self.game.scores(state))
        replay = {
            "game": self.game.id,
            "configuration": self.configuration,
            "seed": self.seed,
            "steps": steps,
            "winner": winner,
            "scores": scores,
            "agents": [o.as_json() for o in self.outcomes],
        }
        return MatchResult(
            status=MatchStatus.FINISHED,
            winner=winner,
            scores=scores,
            agents=self.outcomes,
            turns=turns,
            duration_ms=int((time.monotonic() - started) * 1000),
            replay=replay,
            final_state=state,
            reply_seconds=self.reply_seconds,
        )

    def _stopped(self, turns: int, started: float) -> MatchResult:
        """A match stopped from outside: nobody's result, the platform's error."""
        return MatchResult(
            status=MatchStatus.ERROR,
            winner=None,
            scores=[0.0 for _ in self.channels],
            agents=self.outcomes,
            turns=turns,
            duration_ms=int((time.monotonic() - started) * 1000),
            error="the match was stopped before its end",
        )

    def _say_goodbye(self, scores: list[float]) -> None:
        for channel in self.channels:
            if not channel.stdout_closed and not channel.stdin_broken:
                channel.send(protocol.end(scores))
        deadline = time.monotonic() + _END_GRACE
        while time.monotonic() < deadline:
            if all(c.process.poll() is not None for c in self.channels):
                break
            time.sleep(0.001)

    def _close(self) -> None:
        for index, channel in enumerate(self.channels):
            channel.drain_stderr()
            channel.process.close()
            self.outcomes[index].log = channel.log.text()
            metrics.agent_finished(
                self.outcomes[index].status.value, killed_for(self.outcomes[index], channel.process)
            )
        self._watched.clear()
