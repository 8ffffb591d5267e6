"""The media studio page: the account's voice models and avatar models (create
from samples or photos, turn on and off), a form to generate speech or an
avatar video, and the clips with a player and their job's live status (the page
polls `/api/v1/generated-media/<id>/` while a clip is being made). Files and
avatar photos are streamed to members only, never from a public folder."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.ai.media.registry import avatar_provider, media_provider, voice_provider
from aiplatform.flash import run_and_report

from .api_media import jobs_of
from .models import AvatarModel, GeneratedContent, VoiceModel
from .services.avatar import avatar_model_create, avatar_model_update
from .services.media import avatar_video_generate, speech_generate
from .services.voice import MAX_SAMPLE_BYTES, MAX_SAMPLES, Upload, voice_model_create, voice_model_update

CLIPS_SHOWN = 50


class _MediaView(TenantViewMixin, View):
    def _get(self, model, pk):
        row = self.scoped(model).filter(pk=pk).first()
        if row is None:
            raise Http404(_("Not found."))
        return row


class MediaStudioView(_MediaView):
    def get(self, request):
        voices = list(self.scoped(VoiceModel).order_by("name", "-version_number"))
        avatars = list(self.scoped(AvatarModel).order_by("name"))
        clips = list(
            self.scoped(GeneratedContent)
            .select_related("voice_model", "avatar_model")
            .order_by("-created_at")[:CLIPS_SHOWN]
        )
        jobs = jobs_of(self.account, clips)
        rows = [(clip, jobs.get(clip.metadata.get("job_id"))) for clip in clips]
        engines = {name: media_provider(name).unavailable_reason() for name in {voice_provider(), avatar_provider()}}
        return render(request, "canvas/media/studio.html", {
            "voices": voices, "avatars": avatars, "rows": rows,
            "ready_voices": [v for v in voices if v.is_active and v.training_status == "completed"],
            "ready_avatars": [a for a in avatars if a.is_active and a.creation_status == "completed"],
            "can_edit": request.account_role.at_least(Role.MEMBER), "voice_provider": voice_provider(),
            "avatar_provider": avatar_provider(), "unavailable": {k: v for k, v in engines.items() if v},
            "max_samples": MAX_SAMPLES, "max_mb": MAX_SAMPLE_BYTES // (1024 * 1024),
            "voices_used": sum(1 for v in voices if v.is_active), "voice_limit": self.account.voice_model_limit,
        })  # fmt: skip


class VoiceCreateView(_MediaView):
    required_role = Role.MEMBER

    def post(self, request):
        files = [Upload.of(f) for f in request.FILES.getlist("samples")]
        run_and_report(
            request,
            lambda: voice_model_create(
                account=self.account,
                actor=self.membership,
                name=request.POST.get("name", ""),
                samples=files,
                description=request.POST.get("description", ""),
            ),  # fmt: skip
            lambda voice: _("Voice “%(name)s” v%(v)s is ready.") % {"name": voice.name, "v": voice.version_number},
        )
        return redirect("canvas:media")


class VoiceToggleView(_MediaView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        voice = self._get(VoiceModel, pk)
        on = request.POST.get("is_active") == "1"
        run_and_report(
            request,
            lambda: voice_model_update(voice=voice, actor=self.membership, is_active=on),
            _("Voice turned on.") if on else _("Voice turned off."),
        )
        return redirect("canvas:media")


class AvatarCreateView(_MediaView):
    required_role = Role.MEMBER

    def post(self, request):
        photos = [Upload.of(f) for f in request.FILES.getlist("photos")]
        video = request.FILES.get("sample_video")
        run_and_report(
            request,
            lambda: avatar_model_create(
                account=self.account,
                actor=self.membership,
                name=request.POST.get("name", ""),
                photos=photos,
                sample_video=Upload.of(video) if video else None,
            ),  # fmt: skip
            lambda avatar: _("Avatar “%(name)s” is ready.") % {"name": avatar.name},
        )
        return redirect("canvas:media")


class AvatarToggleView(_MediaView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        avatar = self._get(AvatarModel, pk)
        on = request.POST.get("is_active") == "1"
        run_and_report(
            request,
            lambda: avatar_model_update(avatar=avatar, actor=self.membership, is_active=on),
            _("Avatar turned on.") if on else _("Avatar turned off."),
        )
        return redirect("canvas:media")


class GenerateView(_MediaView):
    required_role = Role.MEMBER

    def post(self, request):
        voice = self._get(VoiceModel, request.POST.get("voice_model")) if request.POST.get("voice_model") else None
        avatar_id = request.POST.get("avatar_model")
        text = request.POST.get("text", "")

        def start():
            if voice is None:
                from aiplatform.errors import InvalidInput

                raise InvalidInput(_("Choose a voice."), fields={"voice_model": [_("Required.")]})
            if avatar_id:
                avatar = self._get(AvatarModel, avatar_id)
                return avatar_video_generate(account=self.account, actor=self.membership, avatar=avatar, voice=voice,
                                             text=text)  # fmt: skip
            return speech_generate(account=self.account, actor=self.membership, voice=voice, text=text)

        run_and_report(request, start, _("Queued. The clip appears below when it is made."))
        return redirect("canvas:media")


class MediaFileView(_MediaView):
    """The MP3/MP4 of a clip, to members of its account."""

    def get(self, request, pk):
        clip = self._get(GeneratedContent, pk)
        if not clip.file_path or not default_storage.exists(clip.file_path):
            raise Http404(_("This clip has no file (not made yet, or expired)."))
        kind = "audio/mpeg" if clip.content_type == "audio" else "video/mp4"
        response = FileResponse(default_storage.open(clip.file_path, "rb"), content_type=kind)
        response["Cache-Control"] = "private, max-age=3600"
        return response


class AvatarPhotoView(_MediaView):
    def get(self, request, pk):
        avatar = self._get(AvatarModel, pk)
        if not avatar.training_photos_paths or not default_storage.exists(avatar.training_photos_paths[0]):
            raise Http404(_("This avatar has no photo."))
        path = avatar.training_photos_paths[0]
        kind = {"png": "image/png", "webp": "image/webp"}.get(path.rsplit(".", 1)[-1].lower(), "image/jpeg")
        response = FileResponse(default_storage.open(path, "rb"), content_type=kind)
        response["Cache-Control"] = "private, max-age=3600"
        return response
