"""Connect pages: start a platform's sign-in, take its answer, choose the page.

Each view checks the role (owners and admins; others get 403), calls one
service of `services/connect.py` and renders. A service refusal is shown on the
error page with its status (400 bad or stale sign-in, 409 a page of another
account); a platform that fails is a 502 with the platform's words. X is
behind CHANNELS_X_ENABLED: off, its pages are a 404 that says so.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views import View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.errors import ServiceError
from aiplatform.flash import service_error_text
from channels_bot.models import ConnectedChannel
from channels_bot.platforms.base import Failure, PlatformError, TokenGrant
from channels_bot.services import connect

ERROR_TEMPLATE = "channels_bot/connect/error.html"
CHOOSERS = ("facebook", "instagram_page", "linkedin")


class _ConnectView(TenantViewMixin, View):
    required_role = Role.ADMIN

    def dispatch(self, request, *args, **kwargs):
        self.flow = None
        name = kwargs.get("flow")
        if name is not None:
            self.flow = connect.FLOWS.get(name.replace("-", "_"))
            if self.flow is None:
                return self.failure(request, 404, "There is no such way to connect a channel.")
            if not self.flow.enabled():
                return self.failure(
                    request,
                    404,
                    "Connecting X profiles is turned off on this platform "
                    "(CHANNELS_X_ENABLED): X's API access is paid and its DM webhooks are changing.",
                )
        return super().dispatch(request, *args, **kwargs)

    def failure(self, request, status: int, message: str):
        title = self.flow.title if getattr(self, "flow", None) else "a channel"
        return render(request, ERROR_TEMPLATE, {"message": message, "flow_title": title}, status=status)

    def run(self, request, action):
        """Call a service; its refusal or a platform failure becomes the error page."""
        try:
            return action(), None
        except ServiceError as exc:
            return None, self.failure(request, exc.status, service_error_text(exc))
        except PlatformError as exc:
            status = 400 if exc.failure in (Failure.AUTH, Failure.PERMANENT) else 502
            return None, self.failure(
                request, status, f"{self.flow.title if self.flow else 'The platform'} answered: {exc.message}"
            )

    def connected(self, request, channel: ConnectedChannel):
        messages.success(
            request,
            gettext("%(platform)s “%(name)s” is connected.")
            % {"platform": channel.get_platform_type_display(), "name": channel.channel_name},
        )
        return redirect("channels_bot_connect:index")


class ConnectIndexView(_ConnectView):
    def get(self, request):
        channels = list(self.scoped(ConnectedChannel).order_by("platform_type", "channel_name"))
        flows = [
            {"flow": f, "slug": f.slug, "configured": f.configured(), "missing": f.missing()}
            for f in connect.FLOWS.values()
            if f.enabled()
        ]
        return render(request, "channels_bot/connect/index.html", {"flows": flows, "channels": channels})


class ConnectStartView(_ConnectView):
    def get(self, request, flow):
        if not self.flow.configured():
            return self.failure(
                request,
                400,
                f"{self.flow.title} cannot be connected yet: set "
                f"{', '.join(self.flow.missing())} in the server's environment.",
            )
        url, error = self.run(
            request,
            lambda: connect.oauth_begin(
                session=request.session, flow=self.flow, account=self.account, actor=self.membership
            ),
        )
        return error or redirect(url)


class ConnectCallbackView(_ConnectView):
    def get(self, request, flow):
        if request.GET.get("error"):
            # The user cancelled on the platform (or it refused): forget the attempt.
            connect.oauth_forget(session=request.session, flow=self.flow)
            reason = request.GET.get("error_description") or request.GET.get("error_reason") or request.GET["error"]
            return self.failure(request, 400, f"{self.flow.title} was not connected: {reason[:300]}")
        entry, error = self.run(
            request,
            lambda: connect.oauth_finish(
                session=request.session, flow=self.flow, account=self.account, state=request.GET.get("state", "")
            ),
        )
        if error:
            return error
        code = request.GET.get("code", "")
        if not code:
            return self.failure(request, 400, "The sign-in answer carries no code. Start connecting again.")
        name = self.flow.name
        if name in ("facebook", "instagram_page"):
            token, error = self.run(request, lambda: connect.facebook_user_token(code=code, flow=self.flow))
            if error:
                return error
            connect.pending_token_store(session=request.session, flow=self.flow, account=self.account, token=token)
            return redirect("channels_bot_connect:choose", flow=flow)
        if name == "linkedin":
            grant, error = self.run(request, lambda: connect.linkedin_token(code=code))
            if error:
                return error
            connect.pending_token_store(
                session=request.session, flow=self.flow, account=self.account, token=_grant_dump(grant)
            )
            return redirect("channels_bot_connect:choose", flow=flow)
        if name == "instagram":
            channel, error = self.run(
                request, lambda: connect.instagram_login_connect(account=self.account, actor=self.membership, code=code)
            )
        else:
            channel, error = self.run(
                request,
                lambda: connect.x_connect(
                    account=self.account, actor=self.membership, code=code, verifier=entry.get("verifier", "")
                ),
            )
        return error or self.connected(request, channel)


def _grant_dump(grant: TokenGrant) -> str:
    expires = grant.expires_at.isoformat() if grant.expires_at else None
    return json.dumps({"access_token": grant.access_token, "refresh_token": grant.refresh_token, "expires_at": expires})


def _grant_load(raw: str) -> TokenGrant:
    data = json.loads(raw)
    expires = datetime.fromisoformat(data["expires_at"]) if data.get("expires_at") else None
    return TokenGrant(access_token=data["access_token"], expires_at=expires, refresh_token=data.get("refresh_token"))


class ConnectChooseView(_ConnectView):
    """Which page (Facebook, Instagram through a page) or organization (LinkedIn) to connect."""

    def dispatch(self, request, *args, **kwargs):
        name = (kwargs.get("flow") or "").replace("-", "_")
        if name in connect.FLOWS and name not in CHOOSERS:
            return render(
                request,
                ERROR_TEMPLATE,
                {"message": "There is nothing to choose for this platform.", "flow_title": connect.FLOWS[name].title},
                status=404,
            )
        return super().dispatch(request, *args, **kwargs)

    def _token(self, request):
        return self.run(
            request, lambda: connect.pending_token(session=request.session, flow=self.flow, account=self.account)
        )

    def get(self, request, flow):
        token, error = self._token(request)
        if error:
            return error
        if self.flow.name == "linkedin":
            options, error = self.run(
                request, lambda: connect.linkedin_organizations(access_token=_grant_load(token).access_token)
            )
        else:
            options, error = self.run(request, lambda: connect.facebook_pages(user_token=token))
        if error:
            return error
        return render(
            request,
            "channels_bot/connect/choose.html",
            {
                "flow": self.flow,
                "options": options,
                "slug": flow,
                "field": "organization_id" if self.flow.name == "linkedin" else "page_id",
            },
        )

    def post(self, request, flow):
        token, error = self._token(request)
        if error:
            return error
        if self.flow.name == "linkedin":
            chosen = request.POST.get("organization_id", "").strip()
            channel, error = self.run(
                request,
                lambda: connect.linkedin_organization_connect(
                    account=self.account, actor=self.membership, grant=_grant_load(token), organization_id=chosen
                ),
            )
        else:
            chosen = request.POST.get("page_id", "").strip()
            channel, error = self.run(
                request,
                lambda: connect.facebook_page_connect(
                    account=self.account, actor=self.membership, flow=self.flow, user_token=token, page_id=chosen
                ),
            )
        if error:
            return error
        connect.pending_token_clear(session=request.session, flow=self.flow)
        return self.connected(request, channel)
