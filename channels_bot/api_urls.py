"""REST API of the channel bot (gathered by aiplatform/api/urls.py)."""

from . import api

routes = [
    ("channels", api.ChannelViewSet, "channel"),
    ("customers", api.CustomerViewSet, "customer"),
    ("products", api.ProductViewSet, "product"),
    ("orders", api.OrderViewSet, "order"),
    ("conversations", api.ConversationViewSet, "conversation"),
]
paths: list = []
