"""Placeholders are filled once from validated parameters; output is checked against the schema."""

from types import SimpleNamespace

from templates.services.rendering import placeholders, prompt_messages, render
from templates.services.validation import json_check, output_check, output_for_display, strip_fence
from tests.templates.factories import READING_SCHEMA


def _template(**kw):
    fields = {"system_prompt": "Reader: {{name}}.", "user_prompt_template": "Week of {{ name }} ({{mood}}).",
              "output_format": "text", "validation_schema": None}  # fmt: skip
    fields.update(kw)
    return SimpleNamespace(**fields)


def test_placeholders_are_found_with_or_without_spaces():
    assert placeholders("{{a}} {{ b_2 }} {{C}} {a} {{}}") == {"a", "b_2"}


def test_a_value_cannot_inject_another_placeholder():
    # given a user who types a placeholder into a field
    values = {"name": "{{secret}}", "secret": "TOP-SECRET"}
    # when
    text = render("Hello {{name}}, {{ missing }}!", values)
    # then the characters are inserted literally and nothing is expanded twice; a missing one is empty
    assert text == "Hello {{secret}}, !"


def test_booleans_and_numbers_render_as_text():
    assert render("{{a}} {{b}} {{c}}", {"a": True, "b": False, "c": 3.5}) == "yes no 3.5"


def test_text_output_messages():
    messages = prompt_messages(_template(), {"name": "Minji", "mood": "calm"})
    assert [(m.role, m.content) for m in messages] == [
        ("system", "Reader: Minji."),
        ("user", "Week of Minji (calm)."),
    ]


def test_json_output_states_the_schema_in_the_system_prompt():
    messages = prompt_messages(_template(output_format="json", validation_schema={"type": "object"}), {"name": "J"})
    assert messages[0].content == (
        "Reader: J.\n\nAnswer with one JSON object and nothing else: no prose before or after it and no code fence. "
        'It must validate against this JSON Schema:\n{"type": "object"}'
    )


def test_a_json_fence_is_tolerated():
    assert strip_fence('```json\n{"a": 1}\n```') == '{"a": 1}'
    assert strip_fence('```\n{"a": 1}```') == '{"a": 1}'
    assert json_check('```json\n{"summary": "ok", "lucky_number": 3}\n```', READING_SCHEMA).data == {
        "summary": "ok",
        "lucky_number": 3,
    }


def test_invalid_json_and_schema_violations_are_explained():
    assert json_check("{summary: ok}", READING_SCHEMA).error == (
        "it is not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2)."
    )
    check = json_check('{"summary": "", "lucky_number": 300}', READING_SCHEMA)
    assert (check.ok, check.error) == (
        False,
        "it does not match the schema: $.lucky_number: 300 is greater than the maximum of 99; "
        "$.summary: '' should be non-empty.",
    )
    assert json_check("[1, 2]", None).error == "it must be a JSON object."


def test_text_output_needs_only_text():
    assert output_check(_template(), "  Hello  ").data == {"text": "Hello"}
    assert output_check(_template(), "   ").error == "the answer was empty."


def test_output_is_shown_in_the_models_key_order():
    # given JSON stored in jsonb, which orders keys by length, and the validated answer text
    text = '```json\n{"overall_reading": "Good", "luck": {"number": 7, "color": "red"}}\n```'
    stored = {"luck": {"color": "red", "number": 7}, "overall_reading": "Good"}
    result = SimpleNamespace(output_format="json", result_text=text, result_data=stored)
    # then the page shows the model's order
    shown = output_for_display(result)
    assert list(shown) == ["overall_reading", "luck"] and list(shown["luck"]) == ["number", "color"]
    # and never anything but the stored data
    result.result_text = '{"overall_reading": "Changed"}'
    assert output_for_display(result) is stored
