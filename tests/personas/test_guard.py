"""The output guard blocks answers that repeat the system prompt, verbatim or in
long fragments (plain or cheaply disguised), and lets ordinary answers through."""

import pytest

from personas.guard import MIN_RUN_WORDS, GuardVerdict, guard_output
from tests.personas.leak_corpus import ATTEMPTS, INNOCENT_ANSWERS, MARKER, SYSTEM_PROMPT

EXPECTED_REASONS = {
    "verbatim": "verbatim",
    "verbatim in a code block": "verbatim",
    "quoted": "verbatim",
    "upper case": "verbatim",
    "whitespace collapsed": "verbatim",
    "first two lines": "fragment",
    "the marker line": "fragment",
    "long fragment in a sentence": "fragment",
    "reformatted as a bullet list": "verbatim",
    "numbered list": "fragment",
    "lines in reverse order": "fragment",
    "punctuation stripped": "fragment",
    "spaced-out letters": "collapsed",
    "base64": "base64",
    "base64 wrapped at 76 columns": "base64",
    "hex": "hex",
    "rot13": "rot13",
    "leetspeak": "leetspeak",
    "reversed text": "reversed",
    "zero-width spaces": "fragment",
}
MUST_BLOCK = [a for a in ATTEMPTS if a.must_block]


def test_the_corpus_is_big_enough_and_plants_the_marker():
    assert len(ATTEMPTS) >= 20 and len(INNOCENT_ANSWERS) >= 10
    assert MARKER in SYSTEM_PROMPT
    assert sorted(a.name for a in MUST_BLOCK) == sorted(EXPECTED_REASONS)


@pytest.mark.parametrize("attempt", MUST_BLOCK, ids=lambda a: a.name)
def test_verbatim_and_long_fragments_are_blocked(attempt):
    # when the model's answer repeats the prompt or a long part of it
    verdict = guard_output(SYSTEM_PROMPT, attempt.answer)
    # then the guard blocks it and says how it was found
    assert (verdict.blocked, verdict.reason) == (True, EXPECTED_REASONS[attempt.name])
    assert verdict.matched_fragment_len >= 40


@pytest.mark.parametrize("answer", INNOCENT_ANSWERS, ids=lambda a: a[:30])
def test_ordinary_answers_pass(answer):
    verdict = guard_output(SYSTEM_PROMPT, answer)
    assert (verdict.blocked, verdict.reason) == (False, "")


def test_a_verbatim_copy_reports_the_whole_prompt_length():
    letters_and_digits = sum(ch.isalnum() for ch in SYSTEM_PROMPT)
    assert guard_output(SYSTEM_PROMPT, SYSTEM_PROMPT) == GuardVerdict(True, "verbatim", letters_and_digits)


def test_the_run_threshold_is_eight_words():
    # given a fragment of 7 consecutive prompt words, then one of 8
    seven = "Help account managers plan freight routes, warehouse"
    eight = "Help account managers plan freight routes, warehouse capacity"
    # then 7 pass and 8 are blocked
    assert MIN_RUN_WORDS == 8
    assert guard_output(SYSTEM_PROMPT, f"I {seven.lower()} stuff.").blocked is False
    assert guard_output(SYSTEM_PROMPT, f"I {eight.lower()} stuff.").blocked is True


def test_a_short_prompt_is_protected_by_a_share_of_its_words():
    # given a 6-word prompt: 60% of it is 4 words
    prompt = "Always answer like a pirate captain."
    # then repeating 4 consecutive words is a leak, 3 are not
    assert guard_output(prompt, "Sure! I answer like a pirate, arr.") == GuardVerdict(True, "fragment", 17)
    assert guard_output(prompt, "I answer like you asked.").blocked is False


def test_an_empty_prompt_or_answer_never_blocks():
    assert guard_output("", "anything") == GuardVerdict(False, "", 0)
    assert guard_output(SYSTEM_PROMPT, "") == GuardVerdict(False, "", 0)
