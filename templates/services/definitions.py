"""A prompt template checked as a whole before it is saved or activated."""

from __future__ import annotations

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from aiplatform.ai.errors import ModelUnavailable
from aiplatform.ai.registry import model_get

from .parameters import definition_errors
from .rendering import placeholders


def template_definition_errors(template) -> dict[str, list[str]]:
    """Field name -> messages; empty when the template can run."""
    errors: dict[str, list[str]] = {}
    param_errors = definition_errors(template.parameters)
    if param_errors:
        errors["parameters"] = param_errors
    else:
        names = {p["name"] for p in template.parameters if p["type"] != "image"}
        images = {p["name"] for p in template.parameters if p["type"] == "image"}
        for field in ("system_prompt", "user_prompt_template"):
            used = placeholders(getattr(template, field))
            unknown = sorted(used - names - images)
            if unknown:
                listed = ", ".join("{{" + n + "}}" for n in unknown)
                errors[field] = [f"Placeholders without a parameter: {listed}. Define them or remove them."]
            elif used & images:
                listed = ", ".join("{{" + n + "}}" for n in sorted(used & images))
                errors[field] = [f"{listed}: a photo is sent to the model beside the prompt, not written into it."]
    schema = template.validation_schema
    if schema is not None:
        if template.output_format != "json":
            errors["validation_schema"] = ["Only JSON output is validated against a schema; clear it or use JSON."]
        elif not isinstance(schema, dict):
            errors["validation_schema"] = ["A JSON Schema is an object."]
        else:
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
                errors["validation_schema"] = [f"Not a valid JSON Schema at {where}: {exc.message}"]
    if template.ai_model:
        try:
            model = model_get(template.ai_model)
        except ModelUnavailable as exc:
            errors["ai_model"] = [exc.message]
        else:
            if template.max_tokens and template.max_tokens > model.max_output_tokens:
                errors["max_tokens"] = [f"{model.name} writes at most {model.max_output_tokens} tokens."]
            if not param_errors and not model.accepts_images and any(p["type"] == "image" for p in template.parameters):
                errors["ai_model"] = [f"{model.name} does not read images; a photo parameter needs a vision model."]
    return errors
