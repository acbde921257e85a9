"""botarena: a self-hostable platform for AI-agent competitions."""

__version__ = "0.1.0"
