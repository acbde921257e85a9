"""Teams: who owns agents in a competition; a user is in at most one team per competition."""
