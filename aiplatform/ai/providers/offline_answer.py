"""The offline model's answer: extractive, from the context it was given.

There is no language model here. The answer is the (at most three) sentences of
the context that share the most (and the rarest) words with the question, in their original
order, introduced as coming from the offline model. The context is the system
messages (persona prompt, retrieved knowledge passages) and earlier user
messages; sentences that instruct the assistant ("You are…", "Never…") are not
facts and are skipped. With nothing relevant it says so instead of inventing.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from ..types import ChatMessage

MAX_SENTENCES = 3
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n+")
_WORD = re.compile(r"\w+", re.UNICODE)
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_INSTRUCTION = re.compile(
    r"^(you\b|you're|your (role|task|job)|as an ai|always\b|never\b|do not\b|don't\b|respond\b|answer\b|reply\b)",
    re.IGNORECASE,
)
_STOPWORDS = frozenset(
    "a an the and or but if of to in on at for with by from as is are was were be been being it its this that "
    "these those i me my we our you your he she they them what which who whom how why when where do does did "
    "can could should would will shall may might must have has had not no yes so than then there here about "
    "into over under again more most some any all each other such only own same too very just also please tell".split()
)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _terms(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 1}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def relevant_sentences(messages: list[ChatMessage] | tuple[ChatMessage, ...]) -> tuple[str, list[str]]:
    """The question (last user message) and the context sentences that answer it.

    A sentence scores the summed rarity (log(1 + N / sentences containing the
    word)) of the question's words it shares, so a word every sentence has counts
    little; sentences under half the best score are left out."""
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    question = messages[last_user].content if last_user is not None else ""
    context = [m.content for i, m in enumerate(messages) if m.role == "system" or (m.role == "user" and i != last_user)]
    candidates: list[tuple[str, set[str]]] = []
    seen: set[str] = set()
    for sentence in (s for block in context for s in _sentences(block)):
        if sentence not in seen and not _INSTRUCTION.match(sentence):
            seen.add(sentence)
            candidates.append((sentence, _terms(sentence)))
    wanted = _terms(question)
    frequency = Counter(term for _, terms in candidates for term in terms & wanted)
    weight = {term: math.log(1 + len(candidates) / count) for term, count in frequency.items()}
    scored = [(sum(weight[t] for t in terms & wanted), i) for i, (_, terms) in enumerate(candidates)]
    scored = [(score, i) for score, i in scored if score > 0]
    if not scored:
        return question, []
    best = max(score for score, _ in scored)
    top = sorted((item for item in scored if item[0] >= best / 2), key=lambda item: (-item[0], item[1]))
    return question, [candidates[i][0] for i in sorted(i for _, i in top[:MAX_SENTENCES])]


def offline_answer(messages: list[ChatMessage] | tuple[ChatMessage, ...]) -> str:
    question, found = relevant_sentences(messages)
    korean = bool(_HANGUL.search(question))
    if found:
        intro = (
            "오프라인 모델의 답변입니다. 제공된 정보에 따르면:"
            if korean
            else ("This is the offline model. From the information I was given:")
        )
        return f"{intro} {' '.join(found)}"
    if korean:
        return (
            "오프라인 모델입니다(언어 모델이 연결되어 있지 않습니다). 제공된 정보에서만 답할 수 있는데, "
            "질문과 관련된 내용이 없습니다. 운영자가 모델 레지스트리에서 호스팅 모델을 켤 수 있습니다."
        )
    return (
        "This is the offline model (no language model is connected), so I can only answer from the information "
        "I was given, and none of it matches your question. An operator can enable a hosted model in the model "
        "registry."
    )


def offline_image_refusal(messages: list[ChatMessage] | tuple[ChatMessage, ...]) -> str:
    """What the offline model says when it is sent an image: it cannot see it."""
    question = next((m.content for m in reversed(messages) if m.role == "user"), "")
    if _HANGUL.search(question):
        return (
            "오프라인 모델입니다. 이미지를 볼 수 없어서 사진을 읽거나 풀이하지 않았습니다. "
            "사진을 읽으려면 운영자가 모델 레지스트리에서 이미지를 읽는 호스팅 모델을 켜야 합니다."
        )
    return (
        "This is the offline model. It cannot see images, so it did not read or interpret the photo. "
        "An operator can enable a hosted vision model in the model registry to read photos."
    )
