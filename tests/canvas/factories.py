"""Factories of the canvas studio. Tenant rows are written inside their account's
context, as the application writes them (row-level security's WITH CHECK applies);
categories and creators are platform rows."""

from __future__ import annotations

import factory

from canvas.models import (
    AccountFollowedCreator,
    AvatarModel,
    CanvasConnection,
    CanvasFolder,
    CanvasFolderItem,
    ChatInterface,
    ContentAnalysis,
    ContentAnnotation,
    ContentPiece,
    Creator,
    CreatorCategory,
    GeneratedContent,
    GeneratedScript,
    JobType,
    Platform,
    ProcessingJob,
    Project,
    ProjectCollaborator,
    ProjectPermission,
    VoiceModel,
)
from tests.accounts.factories import AccountFactory, TenantFactory, UserFactory


class CreatorCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreatorCategory

    name = factory.Sequence(lambda n: f"Category {n}")
    sort_order = factory.Sequence(lambda n: 100 + n)


class CreatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Creator

    platform = Platform.YOUTUBE
    username = factory.Sequence(lambda n: f"creator{n}")
    profile_url = factory.LazyAttribute(lambda o: f"https://www.youtube.com/@{o.username}")
    display_name = factory.Sequence(lambda n: f"Creator {n}")
    follower_count = 1000


class FollowFactory(TenantFactory):
    class Meta:
        model = AccountFollowedCreator

    account = factory.SubFactory(AccountFactory)
    creator = factory.SubFactory(CreatorFactory)


class ProjectFactory(TenantFactory):
    """A project; `owner` (default: the account's creator is not known here, so a
    new user) gets the owner collaborator row, as `project_create` writes it."""

    class Meta:
        model = Project
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"Project {n}")
    created_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def owner(obj, create, extracted, **kwargs):
        if create and extracted is not False and obj.created_by_id:
            CollaboratorFactory(project=obj, user=obj.created_by, permission_level=ProjectPermission.OWNER)


class CollaboratorFactory(TenantFactory):
    class Meta:
        model = ProjectCollaborator

    project = factory.SubFactory(ProjectFactory)
    account = factory.LazyAttribute(lambda o: o.project.account)
    user = factory.SubFactory(UserFactory)
    permission_level = ProjectPermission.EDITOR


class FolderFactory(TenantFactory):
    class Meta:
        model = CanvasFolder

    project = factory.SubFactory(ProjectFactory)
    account = factory.LazyAttribute(lambda o: o.project.account)
    name = factory.Sequence(lambda n: f"Folder {n}")


class ChatInterfaceFactory(TenantFactory):
    class Meta:
        model = ChatInterface

    project = factory.SubFactory(ProjectFactory)
    account = factory.LazyAttribute(lambda o: o.project.account)


class ContentPieceFactory(TenantFactory):
    class Meta:
        model = ContentPiece

    project = factory.SubFactory(ProjectFactory)
    account = factory.LazyAttribute(lambda o: o.project.account)
    source_url = factory.Sequence(lambda n: f"https://www.youtube.com/watch?v=video{n:05d}")
    platform = "youtube"
    content_type = "video"
    title = factory.Sequence(lambda n: f"Video {n}")


class FolderItemFactory(TenantFactory):
    class Meta:
        model = CanvasFolderItem

    folder = factory.SubFactory(FolderFactory)
    account = factory.LazyAttribute(lambda o: o.folder.account)
    content_piece = factory.LazyAttribute(lambda o: ContentPieceFactory(project=o.folder.project))


class ConnectionFactory(TenantFactory):
    """A piece connected to a chat node of the same project, unless ends are given."""

    class Meta:
        model = CanvasConnection

    project = factory.SubFactory(ProjectFactory)
    account = factory.LazyAttribute(lambda o: o.project.account)
    source_content_piece = factory.LazyAttribute(lambda o: ContentPieceFactory(project=o.project))
    target_chat_interface = factory.LazyAttribute(lambda o: ChatInterfaceFactory(project=o.project))


class AnnotationFactory(TenantFactory):
    class Meta:
        model = ContentAnnotation

    content_piece = factory.SubFactory(ContentPieceFactory)
    account = factory.LazyAttribute(lambda o: o.content_piece.account)
    user = factory.SubFactory(UserFactory)
    annotation_text = "The hook lands in the first second."


class AnalysisFactory(TenantFactory):
    class Meta:
        model = ContentAnalysis

    content_piece = factory.SubFactory(ContentPieceFactory)
    account = factory.LazyAttribute(lambda o: o.content_piece.account)


class ScriptFactory(TenantFactory):
    class Meta:
        model = GeneratedScript

    content_piece = factory.SubFactory(ContentPieceFactory)
    account = factory.LazyAttribute(lambda o: o.content_piece.account)
    rewritten_script = "Stop scrolling: here is the one habit that doubled my output."


class VoiceModelFactory(TenantFactory):
    class Meta:
        model = VoiceModel

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Voice {n}")


class AvatarModelFactory(TenantFactory):
    class Meta:
        model = AvatarModel

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Avatar {n}")


class GeneratedContentFactory(TenantFactory):
    class Meta:
        model = GeneratedContent

    account = factory.SubFactory(AccountFactory)
    content_type = "audio"


class ProcessingJobFactory(TenantFactory):
    class Meta:
        model = ProcessingJob

    account = factory.SubFactory(AccountFactory)
    job_type = JobType.CONTENT_ANALYSIS
    job_data = factory.LazyFunction(dict)


def canvas_rows(account, owner) -> None:
    """One row in every canvas tenant table of `account` (the tenancy registries use it)."""
    project = ProjectFactory(account=account, created_by=owner, title=f"Canvas project {account.name}")
    FollowFactory(account=account, creator=CreatorFactory(), followed_by=owner)
    CollaboratorFactory(project=project, user=UserFactory())
    piece = ContentPieceFactory(project=project, uploaded_by=owner)
    FolderItemFactory(folder=FolderFactory(project=project, created_by=owner), content_piece=piece, added_by=owner)
    ConnectionFactory(project=project, source_content_piece=piece, created_by=owner)
    AnnotationFactory(content_piece=piece, user=owner)
    AnalysisFactory(content_piece=piece)
    script = ScriptFactory(content_piece=piece, user=owner)
    voice = VoiceModelFactory(account=account, user=owner)
    avatar = AvatarModelFactory(account=account, user=owner)
    GeneratedContentFactory(
        account=account, project=project, user=owner, script=script, voice_model=voice, avatar_model=avatar,
        content_type="video",
    )  # fmt: skip
    ProcessingJobFactory(account=account, user=owner, job_data={"script_id": str(script.pk)})
