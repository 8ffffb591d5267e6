"""The one REST router under /api/v1/; every app contributes `routes` and `paths`."""

from rest_framework.routers import DefaultRouter

from accounts import api_urls as accounts_api
from billing import api_urls as billing_api
from canvas import api_urls as canvas_api
from channels_bot import api_urls as channels_bot_api
from chats import api_urls as chats_api
from knowledge import api_urls as knowledge_api
from personas import api_urls as personas_api
from templates import api_urls as templates_api
from workspace import api as workspace_api

APPS = [accounts_api, billing_api, personas_api, templates_api, knowledge_api, chats_api, channels_bot_api, canvas_api,
        workspace_api]  # fmt: skip

router = DefaultRouter()
for app in APPS:
    for prefix, viewset, basename in app.routes:
        router.register(prefix, viewset, basename=basename)

# Plain paths go first so that e.g. invitations/accept/ is not read as an object id.
urlpatterns = [*(p for app in APPS for p in app.paths), *router.urls]
