"""The team pages: a team (members, agents, invite link, leave, rename, merges) and joining."""
