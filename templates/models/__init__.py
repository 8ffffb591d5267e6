"""Seed 001: prompt templates (versioned), A/B experiments, the service catalog
(platform data, no account) and service results (tenant data, row-level security)."""

from .catalog import Service
from .prompts import OutputFormat, PromptExperiment, PromptTemplate
from .results import ServiceResult

__all__ = ["OutputFormat", "PromptExperiment", "PromptTemplate", "Service", "ServiceResult"]
