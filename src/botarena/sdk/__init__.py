"""The agent-side shim: runs a Kaggle-style ``agent(observation, configuration)`` over protocol v1.

Standard library only: it runs inside the agent's sandbox, with the agent's own interpreter and
packages, and must not need anything of the platform's.
"""
