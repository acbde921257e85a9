"""Rock, paper, scissors: plays the sign after the opponent's last one, (last + 1) % signs.

With three signs, sign ``s + 1`` beats sign ``s``, so this wins every round against a player
who repeats its sign. The first round is random. Strength: weak; it is trivially predictable.
"""

import random


def agent(observation, configuration):
    last = observation.lastOpponentAction
    if last is None:
        return random.randrange(configuration.signs)
    return (last + 1) % configuration.signs
