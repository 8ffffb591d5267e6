"""Routes this app adds to the one API router (see aiplatform/api/urls.py)."""

routes: list = []
paths: list = []
