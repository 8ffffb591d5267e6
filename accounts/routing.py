from django.urls import path

from accounts.consumers import AccountEventsConsumer

websocket_urlpatterns = [path("ws/account/", AccountEventsConsumer.as_asgi())]
