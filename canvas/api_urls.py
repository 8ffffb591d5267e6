"""REST API of the canvas studio (gathered by aiplatform/api/urls.py)."""

routes: list = []
paths: list = []
