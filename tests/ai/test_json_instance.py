"""The offline model's JSON: a value valid under each schema, checked by jsonschema."""

from __future__ import annotations

from datetime import date

import jsonschema
import pytest

from aiplatform.ai.providers.json_instance import NO_DATA, instance_for

SCHEMAS = {
    "string": {"type": "string"},
    "bounded string": {"type": "string", "minLength": 50, "maxLength": 60},
    "short string": {"type": "string", "maxLength": 3},
    "formats": {"type": "object", "required": ["d", "t", "e", "u", "id"], "properties": {
        "d": {"type": "string", "format": "date"}, "t": {"type": "string", "format": "date-time"},
        "e": {"type": "string", "format": "email"}, "u": {"type": "string", "format": "uri"},
        "id": {"type": "string", "format": "uuid"}}},
    "enum and const": {"type": "object", "required": ["a", "b"],
                       "properties": {"a": {"enum": ["x", "y"]}, "b": {"const": 7}}},
    "integers": {"type": "integer", "minimum": 3, "maximum": 9, "multipleOf": 4},
    "exclusive bounds": {"type": "number", "exclusiveMinimum": 1.5, "exclusiveMaximum": 2},
    "negative only": {"type": "integer", "maximum": -5},
    "nullable": {"type": ["null", "integer"], "minimum": 2},
    "unique array": {"type": "array", "items": {"type": "string"}, "minItems": 3, "uniqueItems": True},
    "tuple": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "boolean"}], "minItems": 2},
    "min properties": {"type": "object", "minProperties": 2, "properties": {"p": {"type": "string"},
                                                                            "q": {"type": "number"}}},
    "all of": {"allOf": [{"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
                         {"required": ["b"], "properties": {"b": {"type": "integer", "minimum": 10}}}]},
    "one of": {"oneOf": [{"type": "string", "minLength": 2}, {"type": "integer"}]},
    "refs": {"$ref": "#/definitions/node", "definitions": {"node": {
        "type": "object", "required": ["name", "children"],
        "properties": {"name": {"type": "string"},
                       "children": {"type": "array", "items": {"$ref": "#/definitions/node"}}},
    }}},
    "closed object": {"type": "object", "additionalProperties": False, "required": ["k"],
                      "properties": {"k": {"type": "boolean"}, "extra": {"type": "string"}}},
}  # fmt: skip


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_instance_validates(name):
    schema = SCHEMAS[name]
    value = instance_for(schema, "An offline answer that is long enough to be cut.")
    jsonschema.validate(value, schema, cls=jsonschema.Draft202012Validator)


def test_strings_carry_the_answer():
    value = instance_for({"type": "object", "required": ["summary"], "properties": {"summary": {"type": "string"}}},
                         "The answer.")  # fmt: skip
    assert value == {"summary": "The answer."}


def test_the_offline_filler_invents_no_personal_data_or_ids():
    # given a schema asking for an address, a link and an id
    schema = SCHEMAS["formats"]
    # when the offline model fills it
    value = instance_for(schema, "The answer.")
    # then those say they are not available, instead of a placeholder that looks real
    assert (value["e"], value["u"], value["id"]) == (NO_DATA, NO_DATA, NO_DATA)
    assert NO_DATA == "not available from the offline model"
    assert value["d"] == date.today().isoformat()
