"""Extractive answers: sentences in the passage's own words, [n] marks, honest abstention."""
from __future__ import annotations

import re

from assistant.answer import NOT_FOUND, Abstention, compose_answer, split_sentences
from assistant.schema import Hit, Passage


def _hit(rank, text, dense=0.9, score=1.0):
    passage = Passage(id=f"p{rank}", text=text, title="Mémo", source="corpus/memo.pdf", doc_type="memo", page=rank)
    return Hit(passage=passage, score=score, rank=rank, dense=dense)


def test_split_sentences_respects_french_abbreviations():
    text = "Selon l'art. 3 de la charte, M. Martin signe. Voir p. 12 du mémo ! « Est-ce utile ? » Oui.\nListe : a"
    assert split_sentences(text) == ["Selon l'art. 3 de la charte, M. Martin signe.", "Voir p. 12 du mémo !",
                                     "« Est-ce utile ? » Oui.", "Liste : a"]


def test_answer_takes_sentences_verbatim_with_marks():
    hits = [_hit(1, "La veille commence par des questions claires. Il faut chiffrer les ordinateurs portables "
                    "avant un déplacement à l'étranger. Les stagiaires signent une clause."),
            _hit(2, "En voyage, ne laissez jamais un ordinateur portable sans surveillance à l'hôtel.", score=0.7)]
    answer = compose_answer("faut-il chiffrer son ordinateur portable avant un déplacement ?", hits)
    assert not answer.abstained
    marks = re.findall(r"\[(\d)\]", answer.text)
    assert marks and set(marks) <= {"1", "2"}
    assert "Il faut chiffrer les ordinateurs portables avant un déplacement à l'étranger. [1]" in answer.text
    for sentence in re.split(r" \[\d\] ?", answer.text):
        if sentence:
            assert any(sentence in h.passage.text for h in hits), sentence


def test_abstains_without_hits_or_below_threshold():
    assert compose_answer("question", []).abstained
    low = compose_answer("recette de la tarte aux pommes", [_hit(1, "La charte engage les prestataires.", dense=0.70)],
                         Abstention(min_confidence=0.8))
    assert low.abstained and low.text == NOT_FOUND and low.hits == ()


def test_idf_weights_prefer_rare_question_words():
    hits = [_hit(1, "L'intelligence économique est une démarche économique collective. "
                    "Elle articule trois modes d'action : anticiper, influencer et se protéger.")]
    idf = lambda tokens: {t: (5.0 if t == "mod" else 0.1) for t in tokens}
    answer = compose_answer("les modes de l'intelligence économique", hits, idf=idf, max_sentences=1)
    assert answer.text.startswith("Elle articule trois modes d'action")
