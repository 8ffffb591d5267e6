"""REST API of the channel bot (gathered by aiplatform/api/urls.py)."""

routes: list = []
paths: list = []
