"""ConnectX: the greedy agent's rules, on a numpy board, printing what it decides.

It exists to check two things of the platform: that packages named in requirements.txt are
installed for the agent (it imports numpy), and that print() output reaches the agent's log
without disturbing the protocol (it prints one line per move).

Play: wins at once when it can, otherwise blocks the opponent's immediate win, otherwise takes
the open column nearest the centre. Strength: the same as connectx-greedy.
"""

import random

import numpy as np


def landing_rows(grid):
    """For each column, the row a dropped piece lands on (row 0 is the top), or -1 if full."""
    empty = grid == 0
    # The lowest empty cell of a column is the last True from the top.
    last_empty = grid.shape[0] - 1 - np.argmax(empty[::-1], axis=0)
    return np.where(empty.any(axis=0), last_empty, -1)


def completes_line(grid, row, column, mark, inarow):
    """True when ``mark`` placed at (row, column) makes ``inarow`` in a line."""
    rows, columns = grid.shape
    for d_row, d_column in ((0, 1), (1, 0), (1, 1), (1, -1)):
        count = 1
        for sign in (1, -1):
            r, c = row + sign * d_row, column + sign * d_column
            while 0 <= r < rows and 0 <= c < columns and grid[r, c] == mark:
                count += 1
                r, c = r + sign * d_row, c + sign * d_column
        if count >= inarow:
            return True
    return False


def agent(observation, configuration):
    rows, columns = configuration.rows, configuration.columns
    grid = np.asarray(observation.board, dtype=np.int8).reshape(rows, columns)
    mark = observation.mark
    landing = landing_rows(grid)
    open_columns = np.flatnonzero(landing >= 0)
    for who, reason in ((mark, "wins"), (3 - mark, "blocks")):
        for column in open_columns:
            if completes_line(grid, int(landing[column]), int(column), who, configuration.inarow):
                print(f"step {observation.step}: column {column} {reason}, score 1.0")
                return int(column)
    distance = np.abs(open_columns - (columns - 1) / 2)
    nearest = open_columns[distance == distance.min()]
    column = int(random.choice(nearest.tolist()))
    score = 1.0 - float(distance.min()) / columns
    print(f"step {observation.step}: column {column} is the most central open, score {score:.2f}")
    return column
