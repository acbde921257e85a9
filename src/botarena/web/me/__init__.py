"""The signed-in user's account page."""
