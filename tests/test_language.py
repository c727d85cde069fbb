"""Tests for telling English from the other languages tickets arrive in."""

from __future__ import annotations

import pytest

from classifier.analysis import NOTE_NOT_ENGLISH, analyze


@pytest.mark.parametrize(
    "text",
    [
        "Seit Montag tut mir der untere Rücken weh und ich kann nicht sitzen",
        "Desde el lunes me duele mucho la espalda, ¿qué hago?",
        "J'ai mal au dos depuis lundi et je ne peux pas dormir",
        "Ho mal di schiena da ieri e non riesco a dormire",
        "Estou com dor nas costas desde ontem",
        "Ik heb sinds gisteren last van mijn rug",
        # a loan word that matches a cue does not make the text English
        "Ich habe seit einer Woche eine Sciatica und starke Schmerzen im Bein",
    ],
)
def test_text_in_another_language_is_noted(text: str) -> None:
    assert NOTE_NOT_ENGLISH in analyze(text).notes


@pytest.mark.parametrize(
    "text",
    [
        "Twisted my ankle playing basketball",
        "lower back sore after deadlifts yesterday",
        "Watching the Tour de France, my legs ache after my own ride",
        "my back is sore, I went to the gym with mein Freund",
    ],
)
def test_english_with_a_foreign_word_is_not_noted(text: str) -> None:
    assert NOTE_NOT_ENGLISH not in analyze(text).notes
