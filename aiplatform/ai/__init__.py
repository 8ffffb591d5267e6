"""The AI gateway: one interface for chat completions (streamed and not) and
embeddings over several providers, with a model registry that prices every
call and a usage record for each one. Apps call `aiplatform.ai.gateway`."""
