"""Games: the rules of each game (one module each, all implementing ``base.Game``) and the registry.

Nothing is imported here, so that listing games stays cheap; use ``registry.get_game``.
"""
