"""A template's parameter definition, and user input validated against it."""

import pytest

from aiplatform.errors import InvalidInput
from templates.services.parameters import definition_errors, parameters_validate
from tests.templates.factories import READING_PARAMETERS

DEFINITION = [
    {"name": "name", "type": "string", "required": True, "max_length": 10},
    {"name": "story", "type": "text", "min_length": 5},
    {"name": "age", "type": "integer", "minimum": 1, "maximum": 120},
    {"name": "height", "type": "number"},
    {"name": "subscribe", "type": "boolean"},
    {"name": "birth_date", "type": "date"},
    {"name": "birth_time", "type": "time"},
    {"name": "spread", "type": "string", "enum": ["one", "three"], "default": "three"},
]


def _fields(data) -> dict:
    with pytest.raises(InvalidInput) as err:
        parameters_validate(DEFINITION, data)
    assert err.value.status == 400
    return err.value.fields


def test_valid_input_is_cleaned_and_typed():
    # given input as an HTML form sends it (strings everywhere)
    data = {"name": "  Minji ", "story": "A long day.", "age": "34", "height": "1.68", "subscribe": "on",
            "birth_date": "1990-04-01", "birth_time": "07:30"}  # fmt: skip
    # when
    cleaned = parameters_validate(DEFINITION, data)
    # then values are stripped, typed, and the default fills the missing enum
    assert cleaned == {"name": "Minji", "story": "A long day.", "age": 34, "height": 1.68, "subscribe": True,
                       "birth_date": "1990-04-01", "birth_time": "07:30", "spread": "three"}  # fmt: skip


def test_json_types_are_accepted_as_they_are():
    cleaned = parameters_validate(DEFINITION, {"name": "Jun", "age": 7, "height": 2, "subscribe": False})
    assert cleaned == {"name": "Jun", "age": 7, "height": 2, "subscribe": False, "spread": "three"}


def test_every_bad_field_is_reported_at_once():
    fields = _fields({"age": "old", "height": True, "birth_date": "01/04/1990", "birth_time": "25:00", "spread": "ten",
                      "story": "tiny", "extra": 1})  # fmt: skip
    assert fields == {
        "extra": ["Unknown parameter."],
        "name": ["This field is required."],
        "story": ["Use at least 5 characters."],
        "age": ["Enter a whole number."],
        "height": ["Enter a number."],
        "birth_date": ["Enter a date (YYYY-MM-DD)."],
        "birth_time": ["Enter a time (HH:MM)."],
        "spread": ["Choose one of: one, three."],
    }


def test_limits_and_line_breaks():
    assert _fields({"name": "x" * 11}) == {"name": ["Use at most 10 characters (this has 11)."]}
    assert _fields({"name": "two\nlines"}) == {"name": ["Remove control characters and line breaks."]}
    assert _fields({"name": "bell\x07"}) == {"name": ["Remove control characters and line breaks."]}
    assert _fields({"name": "Jun", "age": 0}) == {"age": ["Enter a value of at least 1."]}
    assert _fields({"name": "Jun", "age": True}) == {"age": ["Enter a whole number."]}


def test_blank_required_field_and_non_object_body_are_refused():
    assert _fields({"name": "   "}) == {"name": ["This field is required."]}
    with pytest.raises(InvalidInput) as err:
        parameters_validate(DEFINITION, ["name", "Jun"])
    assert err.value.fields == {"params": ["Expected an object."]}


def test_a_sound_definition_has_no_errors():
    assert definition_errors(READING_PARAMETERS) == []
    assert definition_errors(DEFINITION) == []


@pytest.mark.parametrize(
    ("definition", "errors"),
    [
        ({"name": "x"}, ["parameters: {'name': 'x'} is not of type 'array'"]),
        ([{"name": "Bad Name", "type": "string"}],
         ["parameters[0].name: 'Bad Name' does not match '^[a-z_][a-z0-9_]{0,39}$'"]),
        ([{"name": "a", "type": "blob"}],
         ["parameters[0].type: 'blob' is not one of ['string', 'text', 'integer', 'number', 'boolean', 'date', "
          "'time', 'image']"]),
        ([{"name": "a", "type": "string"}, {"name": "a", "type": "text"}], ["Parameter 'a' is defined twice."]),
        ([{"name": "a", "type": "integer", "enum": [1, "two"]}], ["'a': enum value 'two' is not a integer."]),
        ([{"name": "a", "type": "boolean", "enum": [True]}], ["'a': a boolean parameter cannot have an enum."]),
        ([{"name": "a", "type": "date", "max_length": 3}], ["'a': only string and text parameters have a length."]),
        ([{"name": "a", "type": "integer", "minimum": 5, "maximum": 1}], ["'a': minimum is above maximum."]),
        ([{"name": "a", "type": "string", "enum": ["x"], "default": "y"}],
         ["'a': the default does not satisfy the parameter's own rules."]),
    ],
)  # fmt: skip
def test_definition_errors_name_what_is_wrong(definition, errors):
    assert definition_errors(definition) == errors
