"""HTML pages of the canvas studio."""

app_name = "canvas"

urlpatterns: list = []
