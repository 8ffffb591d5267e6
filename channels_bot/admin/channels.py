"""Admin: channels."""
