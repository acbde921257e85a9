"""ConnectX: drops a piece into a uniformly random column that is not full.

Strength: none; it is the baseline every other ConnectX agent should beat.
"""

import random


def agent(observation, configuration):
    # The board is stored from the top row, so a column is open when its top cell is empty.
    open_columns = [c for c in range(configuration.columns) if observation.board[c] == 0]
    return random.choice(open_columns)
