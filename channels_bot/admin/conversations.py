"""Admin: conversations."""
