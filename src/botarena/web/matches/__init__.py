"""The pages of matches: the list with its filters, one match with its replay."""
