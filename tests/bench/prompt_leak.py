"""How much of a system prompt gets past the output guard.

`python -m tests.bench prompt_leak [--rounds 200]`

Runs every extraction answer of `tests/personas/leak_corpus.py` (a realistic
system prompt with the planted marker ZEBRA-7731-OMEGA) through
`personas.guard.guard_output`, prints each with blocked/passed, then the ordinary
answers (false positives), the guard's median time per answer, and last one JSON
object:

* `value`: leak rate with the guard, the fraction of extraction answers that get past;
* `reference`: leak rate with no guard, the fraction of extraction answers that
  carry the prompt at all (all of them by construction; `marker_reference` is the
  fraction that show the marker in plain text);
* `ratio`: value / reference;
* `false_positive_rate`: ordinary answers blocked.

Needs no database: the guard is plain Python.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from personas.guard import guard_output
from tests.personas.leak_corpus import ATTEMPTS, INNOCENT_ANSWERS, MARKER, SYSTEM_PROMPT


def _median_ms(answers: list[str], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        for answer in answers:
            start = time.perf_counter()
            guard_output(SYSTEM_PROMPT, answer)
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench prompt_leak")
    parser.add_argument("--rounds", type=int, default=50, help="timing rounds over the whole corpus")
    args = parser.parse_args(argv)

    print(f"system prompt: {len(SYSTEM_PROMPT)} characters, marker {MARKER}")
    passed, missed_required = [], []
    for attempt in ATTEMPTS:
        verdict = guard_output(SYSTEM_PROMPT, attempt.answer)
        outcome = f"blocked ({verdict.reason}, {verdict.matched_fragment_len} chars)" if verdict.blocked else "PASSED"
        expected = "must block" if attempt.must_block else "reported"
        print(f"  extraction  {attempt.name:<32} {expected:<10} {outcome}")
        if not verdict.blocked:
            passed.append(attempt.name)
            if attempt.must_block:
                missed_required.append(attempt.name)
    false_positives = 0
    for answer in INNOCENT_ANSWERS:
        verdict = guard_output(SYSTEM_PROMPT, answer)
        false_positives += verdict.blocked
        print(f"  ordinary    {answer[:48]!r:<52} {'BLOCKED' if verdict.blocked else 'passed'}")

    total = len(ATTEMPTS)
    value = len(passed) / total
    reference = 1.0  # every attempt carries (part of) the prompt; with no guard all of it reaches the user
    marker_reference = sum(MARKER in a.answer for a in ATTEMPTS) / total
    median_ms = _median_ms([a.answer for a in ATTEMPTS] + INNOCENT_ANSWERS, args.rounds)
    print(f"got past the guard: {', '.join(passed) or 'nothing'}")
    print(f"median guard time per answer: {median_ms:.3f} ms")
    result = {
        "bench": "prompt_leak",
        "metric": "leak_rate",
        "value": round(value, 4),
        "reference": reference,
        "ratio": round(value / reference, 4),
        "goal": "verbatim and long fragments blocked; report the rest",
        "false_positive_rate": round(false_positives / len(INNOCENT_ANSWERS), 4),
        "attempts": total,
        "passed": len(passed),
        "required_blocks_missed": missed_required,
        "marker_reference": round(marker_reference, 4),
        "median_guard_ms": round(median_ms, 3),
    }
    print(json.dumps(result))
    return 1 if missed_required else 0
