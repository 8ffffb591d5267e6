"""Pages of the voice & avatar studio (canvas/views_media.py)."""

from django.urls import path

from . import views_media

urlpatterns = [
    path("media/", views_media.MediaStudioView.as_view(), name="media"),
    path("media/voices/new/", views_media.VoiceCreateView.as_view(), name="media_voice_new"),
    path("media/voices/<uuid:pk>/active/", views_media.VoiceToggleView.as_view(), name="media_voice_toggle"),
    path("media/avatars/new/", views_media.AvatarCreateView.as_view(), name="media_avatar_new"),
    path("media/avatars/<uuid:pk>/active/", views_media.AvatarToggleView.as_view(), name="media_avatar_toggle"),
    path("media/avatars/<uuid:pk>/photo/", views_media.AvatarPhotoView.as_view(), name="media_avatar_photo"),
    path("media/generate/", views_media.GenerateView.as_view(), name="media_generate"),
    path("media/clips/<uuid:pk>/file/", views_media.MediaFileView.as_view(), name="media_file"),
]
