"""Output guard: stops answers that give away a persona's system prompt.

`guard_output(system_prompt, answer)` compares the answer with the prompt after
normalising both (Unicode NFKC, case folded, invisible characters dropped,
punctuation and whitespace ignored) and blocks when the answer shares

* a run of at least MIN_RUN_WORDS consecutive words with the prompt (for a short
  prompt: SHORT_PROMPT_FRACTION of its words) — verbatim copies, quotes, long
  fragments, the prompt reflowed as a list;
* whole prompt sentences or lines, in any order, adding up to REORDERED_WORDS
  words — reversed or shuffled lines;
* the same number of whole prompt words once spaces are removed — spaced-out
  letters ("Y o u  a r e"), words glued or hyphenated apart; the same on
  reversed text;
* any of the above after undoing cheap encodings: leetspeak, ROT13, base64
  and hex payloads inside the answer.

It does not catch translations, paraphrases or a few words at a time (for
instance a single secret code from the prompt): `tests/bench/prompt_leak.py`
reports how much of that gets past. The check is plain Python, linear in the
answer for typical text, and needs no model.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import codecs
import math
import re
import unicodedata
from dataclasses import dataclass

MIN_RUN_WORDS = 8
SHORT_PROMPT_FRACTION = 0.6
MIN_SHORT_RUN_WORDS = 4
REORDERED_WORDS = 12
MIN_SEGMENT_WORDS = 4
SEED_CHARS = 12
MAX_SEED_OCCURRENCES = 16
VERBATIM_FRACTION = 0.9

_WORD = re.compile(r"[^\W_]+")
_SEGMENT_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_\-]{20,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){16,}\b")
_WRAPPED_LINE = re.compile(r"(?<=[A-Za-z0-9+/=])[ \t]*\r?\n[ \t]*(?=[A-Za-z0-9+/])")
_LEET = str.maketrans({"0": "o", "1": "i", "l": "i", "!": "i", "|": "i", "3": "e", "4": "a", "@": "a",
                       "5": "s", "$": "s", "7": "t", "+": "t", "8": "b", "9": "g"})  # fmt: skip


@dataclass(frozen=True)
class GuardVerdict:
    blocked: bool
    reason: str  # "" when passed; else what was found (see REASONS)
    matched_fragment_len: int  # letters and digits of the longest fragment shared with the prompt


REASONS = {
    "verbatim": "The answer repeats the system prompt.",
    "fragment": "The answer repeats a long fragment of the system prompt.",
    "reordered": "The answer repeats sentences of the system prompt in another order.",
    "collapsed": "The answer spells out part of the system prompt with its spacing changed.",
    "reversed": "The answer repeats part of the system prompt backwards.",
    "leetspeak": "The answer repeats part of the system prompt in leetspeak.",
    "rot13": "The answer repeats part of the system prompt in ROT13.",
    "base64": "The answer carries part of the system prompt encoded in base64.",
    "hex": "The answer carries part of the system prompt encoded in hex.",
}


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    # Zero-width spaces and joiners (category Cf) would otherwise split words invisibly.
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").casefold()


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _longest_run(answer: list[str], prompt_positions: dict[str, list[int]], prompt: list[str]) -> tuple[int, int]:
    """(words, characters) of the longest run of words `answer` shares with the prompt.

    Dynamic programming over matching positions only: row i keeps, for each prompt
    position j equal to answer[i], the length of the common run ending there.
    """
    best, best_end = 0, -1
    previous: dict[int, int] = {}
    for word in answer:
        current = {j: previous.get(j - 1, 0) + 1 for j in prompt_positions.get(word, ())}
        for j, run in current.items():
            if run > best:
                best, best_end = run, j
        previous = current
    chars = sum(len(w) for w in prompt[best_end - best + 1 : best_end + 1]) if best else 0
    return best, chars


def _positions(words: list[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for j, word in enumerate(words):
        found.setdefault(word, []).append(j)
    return found


def _offsets(words: list[str]) -> list[int]:
    """Start of each word in "".join(words), plus the end."""
    starts, at = [], 0
    for word in words:
        starts.append(at)
        at += len(word)
    return [*starts, at]


def _longest_common_chars(answer: str, prompt: str, offsets: list[int]) -> tuple[int, int]:
    """(words, characters): the longest substring `answer` shares with the collapsed
    prompt, and how many whole prompt words it covers. Seeds of SEED_CHARS are
    looked up in an index of the prompt, then extended."""
    if len(answer) < SEED_CHARS or len(prompt) < SEED_CHARS:
        return 0, 0
    starts: dict[str, list[int]] = {}
    for j in range(len(prompt) - SEED_CHARS + 1):
        seen = starts.setdefault(prompt[j : j + SEED_CHARS], [])
        if len(seen) < MAX_SEED_OCCURRENCES:
            seen.append(j)
    best, best_j = 0, 0
    i = 0
    while i <= len(answer) - SEED_CHARS:
        found = 0
        for j in starts.get(answer[i : i + SEED_CHARS], ()):
            length = SEED_CHARS
            while i + length < len(answer) and j + length < len(prompt) and answer[i + length] == prompt[j + length]:
                length += 1
            if length > best:
                best, best_j = length, j
            found = max(found, length)
        i += max(1, found - SEED_CHARS + 1)  # skip inside a match: keeps a verbatim copy linear
    if not best:
        return 0, 0
    covered = bisect.bisect_right(offsets, best_j + best) - 1 - bisect.bisect_left(offsets, best_j)
    return max(covered, 0), best


class _Prompt:
    """The prompt, normalised once for every comparison."""

    def __init__(self, text: str):
        cleaned = _clean(text)
        self.words = _words(cleaned)
        self.positions = _positions(self.words)
        self.collapsed = "".join(self.words)
        self.run_needed = min(MIN_RUN_WORDS, max(math.ceil(SHORT_PROMPT_FRACTION * len(self.words)),
                                                 min(len(self.words), MIN_SHORT_RUN_WORDS)))  # fmt: skip
        self.offsets = _offsets(self.words)
        segments = [_words(s) for s in _SEGMENT_END.split(cleaned)]
        self.segments = [s for s in segments if len(s) >= MIN_SEGMENT_WORDS]
        leet_words = _words(cleaned.translate(_LEET))
        self.leet_words, self.leet_positions = leet_words, _positions(leet_words)
        self.leet_collapsed = "".join(leet_words)
        self.leet_offsets = _offsets(leet_words)


def _plain_checks(prompt: _Prompt, answer: str) -> tuple[str, int]:
    """(reason, characters) of the first leak found in `answer` as written, or ("", longest seen)."""
    cleaned = _clean(answer)
    words = _words(cleaned)
    longest = 0

    run, chars = _longest_run(words, prompt.positions, prompt.words)
    longest = max(longest, chars)
    if prompt.words and run >= prompt.run_needed:
        return ("verbatim" if run >= VERBATIM_FRACTION * len(prompt.words) else "fragment"), chars

    answer_text = f" {' '.join(words)} "
    whole = [s for s in prompt.segments if f" {' '.join(s)} " in answer_text]
    whole_words = sum(len(s) for s in whole)
    if len(whole) >= 2 and whole_words >= REORDERED_WORDS:
        return "reordered", sum(len(w) for s in whole for w in s)

    collapsed = "".join(words)
    covered, chars = _longest_common_chars(collapsed, prompt.collapsed, prompt.offsets)
    if prompt.words and covered >= prompt.run_needed:
        return "collapsed", chars
    covered, chars = _longest_common_chars(collapsed[::-1], prompt.collapsed, prompt.offsets)
    if prompt.words and covered >= prompt.run_needed:
        return "reversed", chars
    run, chars = _longest_run(words[::-1], prompt.positions, prompt.words)
    if prompt.words and run >= prompt.run_needed:
        return "reversed", chars

    leet = _words(cleaned.translate(_LEET))
    run, chars = _longest_run(leet, prompt.leet_positions, prompt.leet_words)
    if prompt.leet_words and run >= prompt.run_needed:
        return "leetspeak", chars
    covered, chars = _longest_common_chars("".join(leet), prompt.leet_collapsed, prompt.leet_offsets)
    if prompt.leet_words and covered >= prompt.run_needed:
        return "leetspeak", chars

    rot = _words(codecs.encode(cleaned, "rot13"))
    run, chars = _longest_run(rot, prompt.positions, prompt.words)
    if prompt.words and run >= prompt.run_needed:
        return "rot13", chars
    return "", longest


def _printable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 8:
        return None
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    return text if printable >= 0.9 * len(text) else None


def _decoded_payloads(answer: str) -> list[tuple[str, str]]:
    """(encoding, text) of every base64 or hex run in `answer` that decodes to text."""
    found = []
    joined = _WRAPPED_LINE.sub("", answer)  # base64 is often wrapped at 64 or 76 columns
    for match in _HEX.findall(joined):
        if text := _printable(binascii.unhexlify(match)):
            found.append(("hex", text))
    for match in _BASE64.findall(joined):
        raw = match.rstrip("=").replace("-", "+").replace("_", "/")
        raw += "=" * (-len(raw) % 4)
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            continue
        if text := _printable(data):
            found.append(("base64", text))
    return found


def guard_output(system_prompt: str, answer: str) -> GuardVerdict:
    """Whether `answer` may be shown to a user who must not see `system_prompt`."""
    if not system_prompt or not system_prompt.strip() or not answer:
        return GuardVerdict(False, "", 0)
    prompt = _Prompt(system_prompt)
    reason, chars = _plain_checks(prompt, answer)
    if reason:
        return GuardVerdict(True, reason, chars)
    longest = chars
    for encoding, text in _decoded_payloads(answer):
        inner, inner_chars = _plain_checks(prompt, text)
        if inner:
            return GuardVerdict(True, encoding, inner_chars)
        longest = max(longest, inner_chars)
    return GuardVerdict(False, "", longest)


class StreamGuard:
    """What of a streaming answer may be shown before the rest of it exists.

    `guard_output` judges text that is there; a leak that is still being written
    (the first words of a copied sentence) passes it. So a streaming answer is
    shown only up to `release_offset`: its trailing words that continue a run of
    consecutive prompt words (and a last, unfinished word that could become one)
    are held back until the run breaks (then they are shown) or reaches the
    length that blocks (`blocked` says so as soon as it does). Answers that do
    not echo the prompt are held back by nothing but this check. The other
    checks (reordered sentences, spacing tricks, encodings) still run on the
    text shown so far and on the whole answer at its end; they can block an
    answer after part of it was shown.
    """

    def __init__(self, system_prompt: str):
        self.prompt = _Prompt(system_prompt)
        self.enabled = bool(self.prompt.words)
        self._prefixes = {w[:i] for w in self.prompt.positions for i in range(1, len(w) + 1)}

    def _run_start(self, words: list[str]) -> int:
        """How many trailing `words` continue one run of consecutive prompt words (at most run_needed)."""
        positions, prompt_words, cap = self.prompt.positions, self.prompt.words, self.prompt.run_needed
        ends = positions.get(words[-1], []) if words else []
        best = 0
        for end in ends:
            k = 1
            while k < cap and k < len(words) and end - k >= 0 and prompt_words[end - k] == words[-1 - k]:
                k += 1
            best = max(best, k)
            if best >= cap:
                break
        return best

    def release_offset(self, text: str, start: int = 0) -> tuple[int, bool]:
        """(offset, blocked): `text[:offset]` may be shown; only words from `start` on
        (the first not shown yet) are examined."""
        if not self.enabled or start >= len(text):
            return len(text), False
        matches = list(_WORD.finditer(text, max(0, start - 1)))
        if not matches:
            return len(text), False
        words = [_clean(m.group()) for m in matches]
        spans = [m.start() for m in matches]
        unfinished = matches[-1].end() == len(text)
        tail_word = words[-1]
        if unfinished and tail_word not in self.prompt.positions:
            # The piece may have ended mid-word: hold it only if it could still become a prompt word.
            if tail_word not in self._prefixes:
                return len(text), False
            k = self._run_start(words[:-1]) if tail_word in self._prefixes else 0
            # The unfinished word is held with the run it may continue.
            return spans[len(words) - 1 - k], False
        k = self._run_start(words)
        if k >= self.prompt.run_needed:
            return spans[len(words) - k], True
        if k == 0:
            return len(text), False
        return spans[len(words) - k], False
