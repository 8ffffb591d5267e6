"""Seed 003: the canvas studio.

Split by sub-domain: creators (platform directory and the account's follows),
projects (and collaborators), board (folders, folder items, chat nodes,
connections), content (pieces, annotations, analyses), generation (scripts,
voice and avatar models, generated media, the processing queue). The web
builder (seed 002) will add its own modules beside these.
"""

from .board import CanvasConnection, CanvasFolder, CanvasFolderItem, ChatInterface, NodeKind
from .common import Platform, WorkStatus
from .content import AnnotationType, ContentAnalysis, ContentAnnotation, ContentPiece, ContentPlatform, ContentType
from .creators import AccountFollowedCreator, Creator, CreatorCategory
from .generation import (
    AvatarModel,
    GeneratedContent,
    GeneratedMediaType,
    GeneratedScript,
    JobStatus,
    JobType,
    ProcessingJob,
    TrainingStatus,
    VoiceModel,
)
from .projects import Project, ProjectCollaborator, ProjectPermission

__all__ = [
    "AccountFollowedCreator",
    "AnnotationType",
    "AvatarModel",
    "CanvasConnection",
    "CanvasFolder",
    "CanvasFolderItem",
    "ChatInterface",
    "ContentAnalysis",
    "ContentAnnotation",
    "ContentPiece",
    "ContentPlatform",
    "ContentType",
    "Creator",
    "CreatorCategory",
    "GeneratedContent",
    "GeneratedMediaType",
    "GeneratedScript",
    "JobStatus",
    "JobType",
    "NodeKind",
    "Platform",
    "ProcessingJob",
    "Project",
    "ProjectCollaborator",
    "ProjectPermission",
    "TrainingStatus",
    "VoiceModel",
    "WorkStatus",
]
