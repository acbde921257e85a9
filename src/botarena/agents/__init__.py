"""Agents and their submissions, with the submission status machine."""
