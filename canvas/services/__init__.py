"""Writes of the canvas studio, one module per sub-domain. Every service is
keyword-only, takes the account or the object and the acting membership, and
owns its transaction."""
