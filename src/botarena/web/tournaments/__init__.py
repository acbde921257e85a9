"""The pages of tournaments: the list with its filters, one tournament with its bracket."""
