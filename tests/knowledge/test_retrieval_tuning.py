"""The retrieval behaviours the tuning of `python -m tests.bench retrieval_quality`
relies on (docs/adr/0003): heading paths prefixed to chunks, full text that falls
back from all words to any word, and per-document diversity in the top k."""

from __future__ import annotations

import uuid

import pytest

from accounts.tenancy.context import account_context
from knowledge.extractors.markup import extract_html, extract_markdown
from knowledge.models import Chunk, DecisionUnit
from knowledge.services.chunking import chunk_segments, count_tokens
from knowledge.services.retrieval import Passage, diversified, retrieve, text_search

SENTENCE = "The charger must stay dry and the cable must be checked before every shift of the day."


def _html(sections: dict[str, int]) -> bytes:
    body = "".join(f"<h2>{title}</h2>" + "".join(f"<p>{SENTENCE}</p>" for _ in range(n))
                   for title, n in sections.items())  # fmt: skip
    return f"<html><head><title>Site</title></head><body><h1>Forklift batteries</h1>{body}</body></html>".encode()


# --- heading paths -----------------------------------------------------------------------------


def test_every_html_chunk_starts_with_the_page_title_and_its_section():
    # given a page with two sections, each longer than a chunk
    segments = extract_html(_html({"Charging": 12, "Storage": 12}))
    # when it is chunked
    drafts = chunk_segments(segments, size=60, overlap=10)
    # then each chunk names the page and the section it comes from, once
    heads = [d.text.split("\n", 1)[0] for d in drafts]
    assert heads[0] == "Forklift batteries"  # the first chunk starts with the h1 itself: not repeated
    assert "Forklift batteries \u203a Charging" in heads
    assert "Forklift batteries \u203a Storage" in heads
    assert not any(d.text.startswith("Forklift batteries \u203a Charging\nCharging") for d in drafts)
    assert all(d.token_count <= 60 and d.token_count == count_tokens(d.text) for d in drafts)
    # and the chunk's own text starts where char_offset says
    text = segments[0].text
    for draft in drafts[1:]:
        body = draft.text.split("\n", 1)[1]
        assert text[draft.char_offset : draft.char_offset + len(body)] == body


def test_a_page_without_h1_is_headed_by_its_html_title():
    segments = extract_html(b"<html><head><title>Returns policy</title></head><body><h2>Refunds</h2>"
                            b"<p>Refunds take five days.</p></body></html>")  # fmt: skip
    assert segments[0].headings == ((0, "Returns policy"), (0, "Returns policy \u203a Refunds"))
    assert chunk_segments(segments, size=60, overlap=10)[0].text == "Returns policy\nRefunds\n\nRefunds take five days."


def test_markdown_headings_make_paths_by_level():
    text = b"# Guide\n\nIntro.\n\n## Install\n\nRun pip.\n\n### Linux\n\nUse apt.\n\n## Use\n\nGo."
    segments = extract_markdown(text)
    assert [path for _, path in segments[0].headings] == [
        "Guide", "Guide \u203a Install", "Guide \u203a Install \u203a Linux", "Guide \u203a Use",
    ]  # fmt: skip


def test_a_comment_in_a_markdown_code_block_is_not_a_heading():
    text = b"# Setup\n\nRun this:\n\n```sh\n# install the tools\npip install x\n```\n\n## Next\n\nDone."
    assert [path for _, path in extract_markdown(text)[0].headings] == ["Setup", "Setup \u203a Next"]


def test_the_title_finds_a_passage_whose_own_words_never_name_it(kb, django_capture_on_commit_callbacks):
    # given a page whose "Storage" section never says "forklift" or "battery"
    kb.add("batteries.html", _html({"Charging": 12, "Storage": 12}), capture=django_capture_on_commit_callbacks)
    with account_context(kb.tenants.a.id):
        DecisionUnit.objects.filter(pk=kb.unit.pk).update(vector_weight=0)  # words only
        # when searching by the page's subject and the section's name
        result = retrieve(account=kb.tenants.a, unit_ids=[kb.unit.pk], query="forklift battery storage", k=1)
    # then a chunk of the storage section is found through its heading line: its own words name neither
    # (a chunk that starts in "Charging" and runs into "Storage" ranks the same; which one is a tie)
    heading, body = result.passages[0].text.split("\n", 1)
    assert heading.startswith("Forklift batteries \u203a ")
    assert "Storage" in result.passages[0].text
    assert "forklift" not in body.lower() and "batter" not in body.lower()


# --- full text: all words first, then any word ------------------------------------------------------


@pytest.fixture
def texts(kb, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    kb.add("pallets.txt", "Pallets pallets pallets. Pallets are stacked three high on every pallet rack.",
           capture=capture)  # fmt: skip
    kb.add("routes.txt", "Freight on long routes is consolidated onto pallets to cut cost.", capture=capture)
    kb.add("dock.txt", "The loading dock opens at six in the morning.", capture=capture)
    return kb


def _names(kb, hits):
    with account_context(kb.tenants.a.id):
        names = dict(Chunk.objects.filter(pk__in=[h[0] for h in hits]).values_list("pk", "document__name"))
    return [names[h[0]] for h in hits]


def test_a_question_with_a_word_no_chunk_has_still_finds_the_others(texts):
    # "zebra" is in no chunk: an AND query alone would find nothing
    with account_context(texts.tenants.a.id):
        hits = text_search(account_id=texts.tenants.a.id, unit_ids=[texts.unit.pk], query="zebra dock", limit=5)
    assert _names(texts, hits) == ["dock.txt"]
    assert 0 < hits[0][1] < 1  # an any-word match ranks below 1


def test_chunks_with_every_word_rank_before_chunks_repeating_one(texts):
    # pallets.txt says "pallets" five times, routes.txt says "freight" and "pallets" once each
    with account_context(texts.tenants.a.id):
        hits = text_search(account_id=texts.tenants.a.id, unit_ids=[texts.unit.pk], query="freight pallets", limit=5)
    assert _names(texts, hits) == ["routes.txt", "pallets.txt"]
    assert hits[0][1] >= 1 > hits[1][1]


# --- per-document diversity ----------------------------------------------------------------------


def _passage(document: uuid.UUID, score: float) -> Passage:
    return Passage(chunk_id=uuid.uuid4(), unit_id=uuid.uuid4(), document_id=document, document_name="d", text="t",
                   page=None, row=None, row_end=None, section="", score=score, vector_rank=None, text_rank=None,
                   distance=None)  # fmt: skip


def test_diversity_caps_passages_per_document_and_tops_up_when_sources_run_out():
    a, b = uuid.uuid4(), uuid.uuid4()
    ranked = [_passage(a, 0.9), _passage(a, 0.8), _passage(a, 0.7), _passage(b, 0.1)]
    assert [p.document_id for p in diversified(ranked, 3, 2)] == [a, a, b]
    assert [p.document_id for p in diversified(ranked, 4, 1)] == [a, b, a, a]  # topped up in order
    assert diversified(ranked, 3, 0) == ranked[:3]  # 0: no cap


def test_one_long_document_does_not_fill_the_whole_top_k(kb, django_capture_on_commit_callbacks, settings):
    # given a long document whose every chunk has all the words, and a short one that has some
    capture = django_capture_on_commit_callbacks
    kb.add("charging.html", _html({"Charging": 60}), capture=capture)
    kb.add("shift.txt", "Check the cable before the shift.", capture=capture)
    with account_context(kb.tenants.a.id):
        DecisionUnit.objects.filter(pk=kb.unit.pk).update(vector_weight=0)  # words only: a fixed order

    def top(per_document):
        settings.KNOWLEDGE_PASSAGES_PER_DOCUMENT = per_document
        with account_context(kb.tenants.a.id):
            found = retrieve(account=kb.tenants.a, unit_ids=[kb.unit.pk], query="charger cable shift", k=4)
        return [p.document_name for p in found.passages]

    # then with the cap the short document makes the top 4, the long one fills the rest; without, it does not
    assert top(2) == ["charging.html", "charging.html", "shift.txt", "charging.html"]
    assert top(0) == ["charging.html"] * 4


# --- re-index path -----------------------------------------------------------------------------


def test_reindex_command_requeues_html_and_markdown_and_they_get_headings(kb, django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    from knowledge.models import Document

    capture = django_capture_on_commit_callbacks
    page = kb.add("batteries.html", _html({"Charging": 12}), capture=capture)
    kb.add("dock.txt", "The loading dock opens at six in the morning.", capture=capture)
    with account_context(kb.tenants.a.id):
        # as if indexed before heading paths existed
        Chunk.objects.filter(document=page).update(text="old chunk")
    out = StringIO()
    call_command("knowledge_reindex", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "1 documents would be re-ingested."
    with capture(execute=True):
        call_command("knowledge_reindex", stdout=StringIO())
    with account_context(kb.tenants.a.id):
        assert Document.objects.get(pk=page.pk).status == "done"
        texts = list(Chunk.objects.filter(document=page).values_list("text", flat=True))
    assert "old chunk" not in texts
    assert any(t.startswith("Forklift batteries \u203a Charging\n") for t in texts)
