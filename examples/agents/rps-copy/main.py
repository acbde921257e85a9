"""Rock, paper, scissors: plays the opponent's last sign again. The first round is random.

Strength: weak; it beats nothing in particular and loses every round to a player who plays
the sign that beats its own last one.
"""

import random


def agent(observation, configuration):
    last = observation.lastOpponentAction
    if last is None:
        return random.randrange(configuration.signs)
    return last
