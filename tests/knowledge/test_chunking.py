"""Chunks on sentence boundaries, with overlap, within pages; table rows packed whole."""

from __future__ import annotations

import pytest

from knowledge.extractors import Segment
from knowledge.services.chunking import ChunkDraft, chunk_segments, count_tokens, split_text


def test_tokens_are_words_and_punctuation_marks():
    assert count_tokens("Margins fell 4.5% in Q3, again.") == 11  # 4 . 5 % count apart


def test_sentences_stay_whole_and_the_last_one_is_carried_over():
    # given four sentences of 5 tokens each (4 words and a full stop)
    text = "Alpha beta gamma delta. Epsilon zeta eta theta. Iota kappa lambda mu. Nu xi omicron pi."
    # when chunks hold 10 tokens and overlap up to 5
    spans = split_text(text, size=10, overlap=5)
    # then every chunk is whole sentences, and each repeats the previous chunk's last one
    assert [text[s.start : s.end] for s in spans] == [
        "Alpha beta gamma delta. Epsilon zeta eta theta.",
        "Epsilon zeta eta theta. Iota kappa lambda mu.",
        "Iota kappa lambda mu. Nu xi omicron pi.",
    ]
    assert [s.tokens for s in spans] == [10, 10, 10]


def test_without_overlap_no_sentence_repeats():
    text = "Alpha beta gamma delta. Epsilon zeta eta theta. Iota kappa lambda mu."
    spans = split_text(text, size=10, overlap=0)
    assert [text[s.start : s.end] for s in spans] == [
        "Alpha beta gamma delta. Epsilon zeta eta theta.",
        "Iota kappa lambda mu.",
    ]


def test_a_sentence_longer_than_a_chunk_is_cut_into_overlapping_windows():
    text = " ".join(f"w{i}" for i in range(25))
    spans = split_text(text, size=10, overlap=2)
    assert [text[s.start : s.end].split() for s in spans] == [
        [f"w{i}" for i in range(0, 10)],
        [f"w{i}" for i in range(8, 18)],
        [f"w{i}" for i in range(16, 25)],
    ]


def test_chunks_never_cross_pages_and_keep_page_numbers_and_offsets():
    segments = [
        Segment(text="Page one says this. And that.", page=1),
        Segment(text="Page two is short.", page=2),
    ]
    assert chunk_segments(segments, size=50, overlap=10) == [
        ChunkDraft(position=0, text="Page one says this. And that.", page=1, row=None, row_end=None, section="",
                   char_offset=0, token_count=8),
        ChunkDraft(position=1, text="Page two is short.", page=2, row=None, row_end=None, section="",
                   char_offset=0, token_count=5),
    ]  # fmt: skip


def test_rows_are_packed_whole_and_cite_their_first_and_last_row():
    rows = [Segment(text=f"sku: A-{i}; margin: {i}%", row=i) for i in range(1, 6)]  # 10 tokens each
    drafts = chunk_segments(rows, size=25, overlap=5)
    assert [(d.row, d.row_end, d.token_count) for d in drafts] == [(1, 2, 20), (3, 4, 20), (5, 5, 10)]
    assert drafts[0].text == "sku: A-1; margin: 1%\nsku: A-2; margin: 2%"


def test_rows_of_different_sheets_are_not_packed_together():
    rows = [Segment(text="a: 1", page=1, row=1, section="One"), Segment(text="b: 2", page=2, row=1, section="Two")]
    drafts = chunk_segments(rows, size=100, overlap=10)
    assert [(d.section, d.row, d.text) for d in drafts] == [("One", 1, "a: 1"), ("Two", 1, "b: 2")]


@pytest.mark.parametrize(("size", "overlap"), [(4, 0), (100, 100), (100, -1)])
def test_impossible_sizes_are_refused(size, overlap):
    with pytest.raises(ValueError):
        chunk_segments([Segment(text="x")], size=size, overlap=overlap)
