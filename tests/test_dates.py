"""Time hints read from questions."""
from datetime import date

import pytest

from assistant.dates import TimeHints, time_hints

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize("question, expected", [
    ("le bulletin de mars 2025 sur les rançongiciels", TimeHints("2025-03-01", "2025-03-31")),
    ("veille fevrier 2026 IA", TimeHints("2026-02-01", "2026-02-28")),
    ("les bulletins de 2024 sur les rancongiciels", TimeHints("2024-01-01", "2024-12-31")),
    ("que dit le dernier bulletin sur l'IA ?", TimeHints(latest=True)),
    ("la derniere veille", TimeHints(latest=True)),
    ("bulletin n° 42", TimeHints(number=42)),
    ("le numero 37 parle de quoi", TimeHints(number=37)),
    ("le bulletin du mois dernier", TimeHints("2026-10-01", "2026-10-31")),
    ("qu'est-ce qui change le 2 août 2026 avec l'AI Act ?", TimeHints()),
    ("comment protéger ses données en 2025", TimeHints()),
    ("comment chiffrer un ordinateur portable", TimeHints()),
    # Periods of several months, as advisers name them
    ("la veille sur NIS 2 entre l'automne 2024 et l'été 2025", TimeHints("2024-09-01", "2025-08-31")),
    ("les bulletins de janvier à mars 2026", TimeHints("2026-01-01", "2026-03-31")),
    ("veille janvier-mars 2026", TimeHints("2026-01-01", "2026-03-31")),
    ("de novembre à février 2026, quels sujets ?", TimeHints("2025-11-01", "2026-02-28")),
    ("de septembre 2025 à février 2026", TimeHints("2025-09-01", "2026-02-28")),
    ("les bulletins du printemps 2025", TimeHints("2025-03-01", "2025-05-31")),
    ("l'hiver 2025", TimeHints("2024-12-01", "2025-02-28")),
    ("la veille de l'hiver 2025-2026", TimeHints("2025-12-01", "2026-02-28")),
    ("au second semestre 2025", TimeHints("2025-07-01", "2025-12-31")),
    ("le premier trimestre 2026", TimeHints("2026-01-01", "2026-03-31")),
    ("le dernier trimestre 2025", TimeHints("2025-10-01", "2025-12-31")),
    ("les bulletins T3 2025", TimeHints("2025-07-01", "2025-09-30")),
    ("depuis septembre 2025", TimeHints("2025-09-01", "2026-11-30")),
    ("l'euro numérique dans les bulletins depuis 2024", TimeHints("2024-01-01", "2026-11-30")),
    ("les bulletins de fin 2025", TimeHints("2025-10-01", "2025-12-31")),
    ("les bulletins de début 2026", TimeHints("2026-01-01", "2026-03-31")),
    ("les bulletins entre 2025 et 2026", TimeHints("2025-01-01", "2026-12-31")),
    ("les bulletins de la rentrée 2026", TimeHints("2026-09-01", "2026-09-30")),
    ("résume les trois derniers bulletins", TimeHints(latest=True, last=3)),
    ("les 2 derniers numéros", TimeHints(latest=True, last=2)),
    ("les derniers bulletins parlaient de quoi ?", TimeHints(latest=True, last=3)),
    ("que dit le dernier bulletin ?", TimeHints(latest=True)),
    ("la rubrique IA du premier semestre 2026", TimeHints("2026-01-01", "2026-06-30")),
    # A year's part is read as a period only with a publication word, like a year
    ("les obligations fin 2025", TimeHints()),
    ("depuis 2024 on a des soucis de mots de passe", TimeHints()),
    # A full date is about content
    ("depuis le 2 août 2026, quoi de neuf ?", TimeHints()),
    ("le cinquième trimestre 2025", TimeHints()),
])
def test_time_hints(question, expected):
    assert time_hints(question, today=TODAY) == expected


def test_time_words_are_the_latest_words_of_a_question_about_the_latest_issue():
    from assistant.dates import time_words
    from assistant.lexical import analyze

    assert set(analyze("dernier")) <= time_words("que dit le dernier bulletin sur l'IA ?")
    assert set(analyze("récente")) <= time_words("la veille la plus récente sur la blockchain")
    # Without a publication word, « dernier » is about the content.
    assert not time_words("le dernier rapport de l'ANSSI sur l'IA")
    # A named issue: its month, year and publication words say which issue, not what about.
    assert set(analyze("bulletin mars 2025")) <= time_words("le bulletin de mars 2025 sur l'IA")
    assert not set(analyze("IA")) & time_words("le bulletin de mars 2025 sur l'IA")
    assert "9" in time_words("le bulletin n° 9 sur la blockchain")
    # A month and year in a question on anything else are about the content.
    assert not time_words("qu'est-ce qui change en mars 2025 pour NIS 2 ?")


def test_the_topic_of_a_question_on_a_named_issue_leaves_out_what_asks_for_advice():
    from assistant.dates import issue_topic
    from assistant.lexical import analyze

    assert issue_topic("dernière veille : deepfake en visio, que faut il faire") == frozenset(analyze("deepfake visio"))
    assert issue_topic("le dernier bulletin") == frozenset()
    assert issue_topic("que faire contre les deepfakes en visio ?") is None
