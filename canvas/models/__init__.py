"""Seed 003: the canvas studio.

Split by sub-domain: creators (platform directory and the account's follows),
projects (and collaborators), board (folders, folder items, chat nodes,
connections), content (pieces, annotations, analyses), generation (scripts,
voice and avatar models, generated media, the processing queue). The web
builder (seed 002) adds campaigns (campaigns, components, editor pages),
builder_ai (AI generations), tracking (events, conversions), integrations
(platform integrations, publications, analyses) and system (the builder job
queue).
"""

from .board import CanvasConnection, CanvasFolder, CanvasFolderItem, ChatInterface, NodeKind
from .builder_ai import AIGeneration, GenerationStatus, GenerationType
from .campaigns import (
    CAMPAIGN_TRANSITIONS,
    Campaign,
    CampaignComponent,
    CampaignPage,
    CampaignStatus,
    CampaignType,
    ComponentType,
)
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
from .integrations import (
    AnalysisStatus,
    AnalysisType,
    CampaignPublication,
    ConnectionStatus,
    PlatformAnalysis,
    PlatformIntegration,
    PlatformType,
    PublicationStatus,
    SyncStatus,
)
from .projects import Project, ProjectCollaborator, ProjectPermission
from .system import BuilderJob, BuilderJobStatus, BuilderJobType
from .tracking import CampaignEvent, Conversion, EventType

__all__ = [
    "AIGeneration",
    "AccountFollowedCreator",
    "AnalysisStatus",
    "AnalysisType",
    "AnnotationType",
    "AvatarModel",
    "BuilderJob",
    "BuilderJobStatus",
    "BuilderJobType",
    "CAMPAIGN_TRANSITIONS",
    "Campaign",
    "CampaignComponent",
    "CampaignEvent",
    "CampaignPage",
    "CampaignPublication",
    "CampaignStatus",
    "CampaignType",
    "CanvasConnection",
    "CanvasFolder",
    "CanvasFolderItem",
    "ChatInterface",
    "ComponentType",
    "ConnectionStatus",
    "ContentAnalysis",
    "ContentAnnotation",
    "ContentPiece",
    "ContentPlatform",
    "ContentType",
    "Conversion",
    "Creator",
    "CreatorCategory",
    "EventType",
    "GeneratedContent",
    "GeneratedMediaType",
    "GeneratedScript",
    "GenerationStatus",
    "GenerationType",
    "JobStatus",
    "JobType",
    "NodeKind",
    "Platform",
    "PlatformAnalysis",
    "PlatformIntegration",
    "PlatformType",
    "ProcessingJob",
    "Project",
    "ProjectCollaborator",
    "ProjectPermission",
    "PublicationStatus",
    "SyncStatus",
    "TrainingStatus",
    "VoiceModel",
    "WorkStatus",
]
