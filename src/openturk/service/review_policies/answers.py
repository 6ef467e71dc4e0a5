"""How the review policies read a submitted answer: both compare answers as sets of trimmed values."""

from __future__ import annotations

from openturk.service.form_answers import parse_answers


def answer_sets(document: str | None) -> dict[str, frozenset[str]]:
    """Each question's answer as a set of trimmed values (empty values dropped)."""
    grouped: dict[str, set[str]] = {}
    for question, value in parse_answers(document or ""):
        grouped.setdefault(question.strip(), set())
        if value.strip():
            grouped[question.strip()].add(value.strip())
    return {q: frozenset(v) for q, v in grouped.items()}
