"""ConnectX at a chosen strength, for bench/ranking_quality.py.

The benchmark writes one copy per tier with ``DEPTH`` and ``NOISE`` set. With probability
``NOISE`` the agent plays a random column. Otherwise it wins at once when it can, blocks an
immediate win of the opponent, and else plays the best column of a ``DEPTH``-move negamax
search (alpha-beta over bitboards, leaves scored by the open windows of ``inarow`` cells each
side holds), a random one among equals; ``DEPTH`` 0 plays a random column instead. ``DEPTH``
-1 is weaker than random: a random column, never one that would win.
"""

import random

DEPTH = 0
NOISE = 0.0

WIN = 1_000_000


class Board:
    """Bit c*(rows+1)+r is column c, row r from the bottom; each column's top bit stays empty."""

    def __init__(self, rows, columns, inarow):
        self.rows, self.columns, self.inarow = rows, columns, inarow
        self.height = rows + 1
        self.steps = (1, self.height, self.height + 1, self.height - 1)
        self.top = [c * self.height + rows for c in range(columns)]
        self.windows = []
        for c in range(columns):
            for r in range(rows):
                for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
                    if 0 <= c + dc * (inarow - 1) < columns and 0 <= r + dr * (inarow - 1) < rows:
                        mask = 0
                        for i in range(inarow):
                            mask |= 1 << ((c + dc * i) * self.height + r + dr * i)
                        self.windows.append(mask)

    def wins(self, pieces):
        for step in self.steps:
            line = pieces
            for i in range(1, self.inarow):
                line &= pieces >> (step * i)
            if line:
                return True
        return False

    def score(self, mine, theirs):
        total = 0
        for window in self.windows:
            a, b = mine & window, theirs & window
            if a and not b:
                total += 4 ** a.bit_count()
            elif b and not a:
                total -= 4 ** b.bit_count()
        return total

    def moves(self, heights):
        return [c for c in range(self.columns) if heights[c] < self.top[c]]


def negamax(board, mine, theirs, heights, depth, alpha, beta):
    moves = board.moves(heights)
    if not moves:
        return 0
    for c in moves:
        if board.wins(mine | (1 << heights[c])):
            return WIN + depth
    if depth == 0:
        return board.score(mine, theirs)
    best = -WIN * 2
    for c in moves:
        bit = 1 << heights[c]
        heights[c] += 1
        value = -negamax(board, theirs, mine | bit, heights, depth - 1, -beta, -alpha)
        heights[c] -= 1
        if value > best:
            best = value
            alpha = max(alpha, value)
            if alpha >= beta:
                break
    return best


def agent(observation, configuration):
    rows, columns = configuration.rows, configuration.columns
    board = Board(rows, columns, configuration.inarow)
    mine = theirs = 0
    heights = [c * board.height for c in range(columns)]
    for row in range(rows - 1, -1, -1):
        for c in range(columns):
            owner = observation.board[row * columns + c]
            if owner:
                if owner == observation.mark:
                    mine |= 1 << heights[c]
                else:
                    theirs |= 1 << heights[c]
                heights[c] += 1
    moves = board.moves(heights)
    if DEPTH < 0:  # the weakest: a random column, but never one that completes its line
        losing = [c for c in moves if not board.wins(mine | (1 << heights[c]))]
        return random.choice(losing or moves)
    if random.random() < NOISE:
        return random.choice(moves)
    for pieces in (mine, theirs):  # our win first, then their win to block
        for c in moves:
            if board.wins(pieces | (1 << heights[c])):
                return c
    if DEPTH == 0:
        return random.choice(moves)
    values = {}
    for c in moves:
        bit = 1 << heights[c]
        heights[c] += 1
        values[c] = -negamax(board, theirs, mine | bit, heights, DEPTH - 1, -WIN * 2, WIN * 2)
        heights[c] -= 1
    best = max(values.values())
    return random.choice([c for c, value in values.items() if value == best])
