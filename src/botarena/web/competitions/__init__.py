"""The competitions' pages: the list, a competition, and the admin's forms."""
