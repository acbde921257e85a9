"""Tic-tac-toe: marks a uniformly random empty cell.

Strength: none; the baseline for tic-tac-toe.
"""

import random


def agent(observation, configuration):
    return random.choice([cell for cell, mark in enumerate(observation.board) if mark == 0])
