"""Every message the Python code shows a user goes through gettext (issue 16).

`makemessages` finds only strings already wrapped in a translation call, so a bare
English message in a service error, a validation error or a flash message never
reaches the Korean catalogue and the Korean user reads English. This test reads the
source of every app and fails on such a message:

- the first argument (or `message=`) of a platform error (`aiplatform.errors.ServiceError`
  and every subclass the apps define), of Django's `ValidationError` and `PermissionDenied`,
  and the message of `require_role(actor, role, message)` and `form.add_error(field, message)`;
- the text of `messages.success/info/warning/error(request, text)`;
- the success text of `run_and_report(request, call, text)`;
- `label=`, `help_text=`, `verbose_name=` and `empty_label=` of forms, models and admin
  (not in the API's modules, serializers*.py and api*.py: their help texts document the
  schema for programmers).

A literal (or f-string) there is a failure; `_("...")`, `gettext(...)` and friends,
a variable, or a message built by another function are not (they are checked where
they are written). Management commands speak to operators in a terminal and are left out.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps

from aiplatform.errors import ServiceError

ROOT = Path(__file__).resolve().parents[2]
APPS = ["aiplatform", "workspace", "accounts", "billing", "knowledge", "personas", "chats",
        "channels_bot", "templates", "canvas"]  # fmt: skip
SKIP_PARTS = {"migrations", "management", "static", "__pycache__", "locale", "templates_tags"}
FLASH = {"success", "info", "warning", "error", "debug"}
API_MODULES = ("serializers", "api")  # their help texts document the schema, in English
LABEL_KEYWORDS = {"label", "help_text", "verbose_name", "verbose_name_plural", "empty_label"}
_WORDS = re.compile(r"[A-Za-z]{2,}")


def _error_names() -> set[str]:
    """Names of ServiceError and every subclass defined anywhere in the project."""
    for config in apps.get_app_configs():
        if config.name.split(".")[0] in APPS:
            for module in ("services", "api", "views"):
                try:
                    importlib.import_module(f"{config.name}.{module}")
                except ModuleNotFoundError:
                    pass
    names, todo = set(), [ServiceError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names | {"ValidationError", "PermissionDenied"}


def _is_text(node: ast.AST | None) -> bool:
    """A literal a person would read: a string (or f-string) with words in it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_WORDS.search(node.value)) and " " in node.value.strip()
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and _WORDS.search(str(v.value)) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return _is_text(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _is_text(node.func.value)
    return False


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _shown_texts(node: ast.Call, errors: set[str], labels: bool) -> list[ast.AST]:
    """The arguments of `node` that a user reads."""
    name, shown = _callee(node), []
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    if name in errors:
        shown += node.args[:1] + [keywords.get("message")]
    if name in FLASH and isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "messages":
        shown += node.args[1:2]
    if name == "run_and_report":
        shown += node.args[2:3] + [keywords.get("success")]
    if name == "require_role":
        shown += node.args[2:3] + [keywords.get("message")]
    if name == "add_error":
        shown += node.args[1:2] + [keywords.get("error")]
    if labels:
        shown += [value for key, value in keywords.items() if key in LABEL_KEYWORDS]
    return [arg for arg in shown if arg is not None]


def untranslated(source: str, errors: set[str], labels: bool = True) -> list[tuple[int, str]]:
    """(line, text) of every user-facing literal of `source` left outside gettext;
    `labels`: field labels and help texts too (not in the API's serializers, whose
    help texts document the schema for programmers, in English)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            shown = _shown_texts(node, errors, labels)
            found += [(arg.lineno, ast.unparse(arg)[:100]) for arg in shown if _is_text(arg)]
    return found


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if not SKIP_PARTS.intersection(path.relative_to(ROOT).parts):
                yield path


def test_the_scanner_finds_a_bare_message_and_passes_a_wrapped_one():
    errors = {"InvalidInput", "ValidationError"}
    bare = 'raise InvalidInput("Give the key a name.")\nraise InvalidInput(f"Unknown role {role}.")\n'
    flash = 'messages.success(request, "Profile saved.")\nforms.CharField(label="Your name")\n'
    wrapped = (
        'raise InvalidInput(_("Give the key a name."))\n'
        'raise ValidationError(gettext("Unknown role %(role)s.") % {"role": role})\n'
        'messages.success(request, _("Profile saved."))\nraise InvalidInput(message)\n'
        'forms.CharField(label=_("Your name"))\nraise InvalidInput("invalid")\n'
    )
    assert [line for line, _ in untranslated(bare, errors)] == [1, 2]
    assert [line for line, _ in untranslated(flash, errors)] == [1, 2]
    assert untranslated(wrapped, errors) == []


@pytest.mark.django_db(databases=[])
def test_every_message_python_shows_a_user_goes_through_gettext():
    errors = _error_names()
    assert {"InvalidInput", "MediaInputInvalid", "FeatureDisabled"} <= errors
    left = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in _sources()
        for line, text in untranslated(path.read_text(), errors, labels=not path.name.startswith(API_MODULES))
    ]
    assert not left, (
        f"{len(left)} user-facing messages are not wrapped in gettext; wrap each in _() "
        "(placeholders as %(name)s), then `manage.py makemessages -l ko` in its app and "
        "translate the new entries:\n" + "\n".join(left)
    )
