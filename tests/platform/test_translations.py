"""Korean and English (issue 16): every string of a finished app has a Korean
translation, the committed .mo files are what bin/setup would compile, and the
language follows the user (their locale, the switcher, Accept-Language, sign-up)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

from accounts.models import User
from aiplatform.i18n import ROOT, compile_all
from tests.accounts.factories import UserFactory

# Apps whose every user-facing template string is wrapped and translated to Korean; the
# tests below keep them so: a new {% translate %} without a Korean msgstr fails the first,
# a new line of page text outside the translation tags fails the second.
COMPLETE_APPS = [
    "aiplatform",  # the shell: base template, top bar and user menu, error pages, API error messages
    "workspace",  # sidebar navigation labels, search
    "accounts",  # home, dashboard, settings, members, API keys, invitation page and email
    "billing",  # wallet, usage and plan, cost controls, checkout, admin forms, payment messages
    "knowledge",  # decision units, documents, retrieval test
    "personas",  # gallery, detail, editor, admin test chat
    "chats",  # the chat page and its script's strings
    "channels_bot",  # inbox (and its script), channels, connect flows, orders, products
    "templates",  # services, results, sharing, component library, prompt admin
    "canvas",  # boards, projects, content and media studios, builder, campaigns, analytics, integrations
]

_COPY_IGNORE = shutil.ignore_patterns("static", "__pycache__", "*.mo", "*.pyc", "node_modules")


def _fresh_catalogue(app: str, tmp_path: Path) -> polib.POFile:
    """The app's .po after extracting its current sources, as `makemessages -l ko`
    would leave it (run by Django's own command on a copy, so the tree is untouched)."""
    shutil.copytree(ROOT / app, tmp_path / app, ignore=_COPY_IGNORE)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        call_command("makemessages", locale=["ko"], no_obsolete=True, verbosity=0, ignore_patterns=["static/*"])
    finally:
        os.chdir(cwd)
    return polib.pofile(str(tmp_path / app / "locale" / "ko" / "LC_MESSAGES" / "django.po"))


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="extraction needs GNU gettext (xgettext) at dev time")
@pytest.mark.parametrize("app", COMPLETE_APPS)
def test_every_string_of_a_complete_app_has_a_korean_translation(app, tmp_path):
    # given the app's sources as they are now, extracted into its Korean catalogue
    catalogue = _fresh_catalogue(app, tmp_path)

    # then no entry is left untranslated or merely guessed (fuzzy)
    missing = [e.msgid for e in catalogue if not e.obsolete and (not e.translated() or e.fuzzy)]
    assert not missing, (
        f"{app}: {len(missing)} string(s) without a Korean translation; run "
        f"`manage.py makemessages -l ko` and translate {app}/locale/ko/LC_MESSAGES/django.po: {missing[:10]}"
    )


# Page text that is not a sentence to translate: the brand, units, and what looks like an
# address or a code (placeholders such as https://example.com, /spring, go.example.com).
_NOT_PROSE = re.compile(r"^(aiplatform|GB|MB|px|ms|[\w.+-]*[./:][\w./:#?=&%-]*)$")
_STRIP = re.compile(
    r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|<!--.*?-->|<(script|style|code|pre)\b[^>]*>.*?</\1>"
    r"|{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}",
    re.S | re.I,
)
_TAG = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)
_ATTRIBUTE = re.compile(r'\b(placeholder|title|aria-label|alt|data-label)="([^"]*)"')


def _untranslated_text(template: str) -> list[str]:
    """Words a reader sees that no translation tag covers (text between tags, labels)."""
    text = _TAG.sub(" ", _STRIP.sub(" ", template))
    found = [value for _, value in _ATTRIBUTE.findall(text)]
    found += re.split(r"<[^>]*>", text)
    words = (" ".join(chunk.split()) for chunk in found)
    return [
        w
        for w in words
        if re.search(r"[A-Za-z]{2,}", w)
        and not all(_NOT_PROSE.match(t) or not re.search("[A-Za-z]", t) for t in w.split())
    ]


@pytest.mark.parametrize("app", COMPLETE_APPS)
def test_the_pages_of_a_complete_app_have_no_text_outside_translation_tags(app):
    # given every template of the app
    templates = [p for p in sorted((ROOT / app).rglob("*.html")) if "static" not in p.parts]

    # then no text a reader sees is left outside {% translate %} / {% blocktranslate %}
    left = {str(p.relative_to(ROOT)): words for p in templates if (words := _untranslated_text(p.read_text()))}
    assert not left, f"{app}: wrap these in {{% translate %}} and translate them: {left}"


def test_the_check_for_unwrapped_text_finds_it():
    page = '{% load i18n %}<h1>{% translate "Usage" %}</h1><p>Credits of {{ name }}</p><input placeholder="Search">'

    assert _untranslated_text(page) == ["Search", "Credits of"]
    assert _untranslated_text("<p>{% blocktranslate %}Hi {{ n }}{% endblocktranslate %} 5 GB</p>") == []


def test_the_committed_mo_files_are_compiled_from_their_po():
    # when the catalogues are compiled as bin/setup does (pure Python, no msgfmt)
    stale = compile_all(check=True)

    # then every committed .mo already matches its .po
    assert stale == [], f"run `python -m aiplatform.i18n` and commit: {stale}"


@pytest.mark.django_db
def test_a_korean_user_sees_the_dashboard_in_korean_and_the_switcher_changes_it(client, tenants):
    # given a signed-in member of an account whose locale is Korean
    user = tenants.alice
    user.locale = "ko"
    user.save(update_fields=["locale"])
    client.force_login(user)

    # when they open the dashboard
    page = client.get("/dashboard/").content.decode()

    # then the page, the navigation and the user menu speak Korean
    assert '<html lang="ko"' in page
    assert "<h1>대시보드</h1>" in page
    assert "로그아웃" in page and "페르소나" in page
    assert "Sign out" not in page

    # when they switch to English from the user menu
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/dashboard/"})

    # then they are sent back, their locale is saved, and the dashboard is English
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    user.refresh_from_db()
    assert user.locale == "en"
    page = client.get("/dashboard/").content.decode()
    assert "<h1>Dashboard</h1>" in page and "Sign out" in page and "대시보드" not in page


@pytest.mark.django_db
def test_the_switcher_refuses_an_unknown_language_and_a_foreign_next(client):
    user = UserFactory(locale="ko")
    client.force_login(user)

    response = client.post("/i18n/setlang/", {"language": "xx", "next": "https://evil.example/"})

    assert response.status_code == 302 and response["Location"] == "/"
    user.refresh_from_db()
    assert user.locale == "ko"


@pytest.mark.django_db
def test_a_visitor_is_answered_in_the_language_of_their_browser(client):
    korean = client.get("/", HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9,en;q=0.5").content.decode()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()

    assert "무료 계정 만들기" in korean
    assert "Create your free account" in english


@pytest.mark.django_db
@pytest.mark.parametrize(("accept", "locale"), [("ko-KR,ko;q=0.9", "ko"), ("en-GB,en;q=0.8", "en"), ("fr-FR", "en")])
def test_a_sign_up_takes_the_language_of_its_browser(client, accept, locale):
    password = "a-Long-passw0rd!"
    client.post(
        "/auth/signup/",
        {"email": "new@example.com", "password1": password, "password2": password},
        HTTP_ACCEPT_LANGUAGE=accept,
    )

    assert User.objects.get(email="new@example.com").locale == locale


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "korean", "english"),
    [
        ("/billing/", "거래 내역", "Ledger"),
        ("/billing/usage/", "비용 관리", "Cost controls"),
        ("/knowledge/", "새 디시전 유닛", "New decision unit"),
        ("/personas/", "이름 또는 역할", "Name or role"),
        ("/chats/", "채팅 검색", "Search chats"),
        ("/inbox/", "읽고 답할 대화를 선택하세요.", "Choose a conversation to read it and answer."),
        ("/inbox/orders/", "주문 상태", "Order status"),
        ("/canvas/", "캔버스 프로젝트", "Canvas projects"),
    ],
)
def test_a_korean_user_sees_each_product_page_in_korean(client, tenants, path, korean, english):
    # given the owner of an account, reading Korean
    user = tenants.alice
    user.locale = "ko"
    user.save(update_fields=["locale"])
    client.force_login(user)

    # when they open the product's page
    response = client.get(path)

    # then it speaks Korean, not English
    page = response.content.decode()
    assert response.status_code == 200
    assert korean in page and english not in page


def test_status_and_type_labels_follow_the_language():
    from django.utils import translation

    from billing.models import CreditTransaction
    from canvas.models import CampaignStatus
    from chats.models import Message

    labels = [CreditTransaction.Type.TOP_UP.label, CampaignStatus.DRAFT.label, Message.Status.STOPPED.label]
    with translation.override("ko"):
        korean = [str(label) for label in labels]
    with translation.override("en"):
        english = [str(label) for label in labels]

    assert korean == ["충전", "초안", "중지됨"]
    assert english == ["Top-up", "Draft", "Stopped"]
