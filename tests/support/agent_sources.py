"""Agent sources the executor's tests play: a fair ConnectX agent, and hostile ones that play
fair once and then misbehave, so that each match shows a real game start before the fault."""

from __future__ import annotations

FAIR = """
import random
def agent(obs, conf):
    return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])
"""

_HOSTILE = """
import os, sys, random, signal, time
turns = 0
def agent(obs, conf):
    global turns
    turns += 1
    if turns == 1:
        return random.choice([c for c in range(conf.columns) if obs.board[c] == 0])
    misbehave(obs, conf)
    return {second_move}

def misbehave(obs, conf):
{body}
"""


def hostile_source(body: str = "    pass", *, second_move: int = 0) -> str:
    """An agent that moves once like :data:`FAIR` and on its second turn runs ``body`` (the
    indented lines of ``misbehave(obs, conf)``, with os, sys, signal and time imported), then
    plays ``second_move`` if it is still there."""
    return _HOSTILE.format(second_move=second_move, body=body)
