"""The global search of the top bar: chats, decision units, documents (names and
contents), personas and service results of the active account, by full text."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.chats.factories import ChatSessionFactory, MessageFactory
from tests.knowledge.factories import ChunkFactory, DecisionUnitFactory, DocumentFactory
from tests.personas.factories import PersonaFactory, PlatformPersonaFactory
from tests.templates.factories import ServiceFactory, ServiceResultFactory
from workspace.search import highlight, query_words, workspace_search

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(tenants):
    """Account A and account B each hold a chat, a unit, a document and a persona about freight."""
    rows = {}
    for key, account, user in (("a", tenants.a, tenants.alice), ("b", tenants.b, tenants.carol)):
        unit = DecisionUnitFactory(account=account, name=f"Freight playbook {key}", description="Pallet rules.")
        document = DocumentFactory(unit=unit, name=f"rates-{key}.csv")
        ChunkFactory(document=document, text=f"Freight to Jeju costs 45000 won per pallet ({key}).")
        persona = PersonaFactory(account=account, name=f"Freight desk {key}", role_title="Answers about pallets")
        chat = ChatSessionFactory(account=account, user=user, persona=persona, title=f"Jeju question {key}")
        MessageFactory(session=chat, content="What does freight to Jeju cost?")
        rows[key] = {"unit": unit, "document": document, "persona": persona, "chat": chat}
    return rows


def _titles(results) -> set[tuple[str, str]]:
    return {(h.kind, h.title) for h in results.hits}


def test_it_finds_every_kind_of_the_active_account_and_nothing_of_another(tenants, content):
    # when alice searches account A for "freight"
    results = workspace_search(account=tenants.a, user=tenants.alice, query="freight")

    # then she finds A's chat (by its message), unit, document (by its content) and persona, and nothing of B
    assert _titles(results) == {
        ("chats", "Jeju question a"),
        ("units", "Freight playbook a"),
        ("documents", "rates-a.csv"),
        ("personas", "Freight desk a"),
    }
    assert results.counts == {"chats": 1, "units": 1, "documents": 1, "personas": 1}
    # and carol searching B gets B's rows only
    other = workspace_search(account=tenants.b, user=tenants.carol, query="freight")
    assert {t for _, t in _titles(other)} == {"Jeju question b", "Freight playbook b", "rates-b.csv", "Freight desk b"}


def test_words_match_as_prefixes_and_all_must_match(tenants, content):
    assert _titles(workspace_search(account=tenants.a, user=tenants.alice, query="pall")) >= {
        ("units", "Freight playbook a"),
        ("documents", "rates-a.csv"),
        ("personas", "Freight desk a"),
    }
    both = workspace_search(account=tenants.a, user=tenants.alice, query="jeju pallet")
    assert _titles(both) == {("documents", "rates-a.csv")}
    assert workspace_search(account=tenants.a, user=tenants.alice, query="freight zebra").hits == ()


def test_a_chat_of_another_member_is_not_found(tenants, content):
    # bob is a member of A, but chats are their owner's alone
    results = workspace_search(account=tenants.a, user=tenants.bob, query="jeju")
    assert ("chats", "Jeju question a") not in _titles(results)
    assert ("documents", "rates-a.csv") in _titles(results)


def test_platform_personas_are_found_by_every_account(tenants, content):
    PlatformPersonaFactory(name="Freight guru")
    for account, user in ((tenants.a, tenants.alice), (tenants.b, tenants.carol)):
        assert ("personas", "Freight guru") in _titles(workspace_search(account=account, user=user, query="guru"))


def test_service_results_are_found_by_service_name_and_answer_not_by_their_encrypted_inputs(tenants):
    service = ServiceFactory(service_type="weekly-reading", name_en="Weekly reading", name_ko="주간 운세")
    ServiceResultFactory(account=tenants.a, user=tenants.alice, service=service, result_text="A bright week ahead.")
    ServiceResultFactory(account=tenants.b, user=tenants.carol, service=service)

    for query in ("weekly", "bright", "주간"):
        results = workspace_search(account=tenants.a, user=tenants.alice, query=query)
        assert [h.kind for h in results.hits] == ["results"], query
        assert results.hits[0].url.startswith("/services/results/")
    # the inputs (the person's name, birth date) are encrypted at rest: the database cannot search them
    assert not workspace_search(account=tenants.a, user=tenants.alice, query="minji").hits


def test_symbols_and_tsquery_syntax_in_a_query_are_only_words(tenants, content):
    assert query_words("freight & | ! :* ' ( ) <->") == ("freight",)
    results = workspace_search(account=tenants.a, user=tenants.alice, query="freight & | ! :* ' ( ) <->")
    assert results.counts["units"] == 1
    assert workspace_search(account=tenants.a, user=tenants.alice, query="&&& ***").hits == ()


def test_the_snippet_is_escaped_and_marks_the_words():
    assert str(highlight("Ship <b>fast</b> & shipping", ["ship"])) == (
        "<mark>Ship</mark> &lt;b&gt;fast&lt;/b&gt; &amp; <mark>shipping</mark>"
    )


def test_the_results_page_lists_hits_with_links(client, tenants, content):
    client.force_login(tenants.alice)
    html = client.get("/search/", {"q": "freight"}).content.decode()
    assert 'data-testid="search-results"' in html
    assert f'href="/knowledge/units/{content["a"]["unit"].pk}/"' in html
    assert f'href="/knowledge/documents/{content["a"]["document"].pk}/"' in html
    assert "<mark>Freight</mark> to Jeju" in html
    assert "Freight playbook b" not in html and str(content["b"]["unit"].pk) not in html


def test_the_results_page_narrows_to_one_kind(client, tenants, content):
    client.force_login(tenants.alice)
    html = client.get("/search/", {"q": "freight", "kind": "documents"}).content.decode()
    assert "rates-a.csv" in html and "Freight desk a" not in html


def test_nothing_found_teaches_what_is_searched(client, tenants, content):
    client.force_login(tenants.alice)
    html = client.get("/search/", {"q": "zebra"}).content.decode()
    assert 'data-testid="empty-state"' in html and "Nothing matches" in html


def test_the_type_ahead_answers_json_for_the_active_account(client, tenants, content):
    client.force_login(tenants.carol)
    body = client.get("/search/suggest.json", {"q": "jeju"}).json()
    assert body["query"] == "jeju"
    assert {(r["kind"], r["title"]) for r in body["results"]} == {
        ("chats", "Jeju question b"),
        ("documents", "rates-b.csv"),
    }
    assert all(r["url"].startswith("/") for r in body["results"])
    assert body["search_url"] == "/search/?q=jeju"


def test_a_short_or_empty_query_searches_nothing(client, tenants, content):
    client.force_login(tenants.alice)
    assert client.get("/search/suggest.json", {"q": ""}).json()["results"] == []
    assert client.get("/search/suggest.json", {"q": "!!"}).json()["results"] == []


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/search/suggest.json", {"q": "freight"})
    assert response.status_code == 302 and "/auth/login/" in response["Location"]


def test_one_query_per_kind_however_many_rows_match(client, tenants, content):
    # given many more matching rows in A
    unit = content["a"]["unit"]
    for i in range(8):
        document = DocumentFactory(unit=unit, name=f"freight-{i}.md")
        ChunkFactory(document=document, text="Freight rules.")
        DecisionUnitFactory(account=tenants.a, name=f"Freight unit {i}")
    client.force_login(tenants.alice)
    client.get("/search/suggest.json", {"q": "freight"})  # warm the session and caches

    # when the page and the type-ahead search
    with CaptureQueriesContext(connection) as page:
        assert client.get("/search/", {"q": "freight"}).status_code == 200
    with CaptureQueriesContext(connection) as suggest:
        assert client.get("/search/suggest.json", {"q": "freight"}).status_code == 200

    # then each costs the same few queries: the request's own plus one per kind
    def statements(ctx):
        return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]

    searches = [sql for sql in statements(suggest) if "@@" in sql]
    assert len(searches) == 5
    # (user, tenant context, membership, context again, the search's context, five searches)
    assert len(statements(suggest)) == 10, statements(suggest)
    # (the same, plus the credits badge and the account switcher of the top bar)
    assert len(statements(page)) == 12, statements(page)
