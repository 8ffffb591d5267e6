"""Seed 001: prompt templates (versioned), A/B experiments, the service catalog
(platform data, no account) and service results (tenant data, row-level security). Seed 002: the component library and
marketplace (library: items, likes, downloads, purchases)."""

from .catalog import Service
from .library import LibraryComponent, LibraryDownload, LibraryLike, LibraryPurchase, PurchaseStatus
from .prompts import OutputFormat, PromptExperiment, PromptTemplate
from .results import ServiceResult

__all__ = [
    "LibraryComponent",
    "LibraryDownload",
    "LibraryLike",
    "LibraryPurchase",
    "OutputFormat",
    "PromptExperiment",
    "PromptTemplate",
    "PurchaseStatus",
    "Service",
    "ServiceResult",
]
