"""The French lexical retriever: analyzer, passage and sentence BM25, files on disk."""
import numpy as np
import pytest

from assistant.lexical import LexicalIndex, analyze
from assistant.schema import Passage


def _passage(pid: str, text: str, section: str = "") -> Passage:
    return Passage(id=pid, text=text, title="Mémo", source="memo.pdf", doc_type="memo", section=section)


PASSAGES = [
    # The question's words, often but scattered over sentences that each say something else.
    _passage("scattered", "Un brevet. Une durée. Une protection. Un brevet, une durée. Une protection, un brevet."),
    # The same words once each, together in one sentence, among unrelated ones.
    _passage("together", "La veille suit les concurrents sur les salons et dans la presse spécialisée. "
                         "La durée de protection d'un brevet déposé est de vingt ans. "
                         "Les salons professionnels sont une source utile pour les commerciaux."),
    _passage("other", "Les sauvegardes hors ligne protègent contre les rançongiciels.", section="Cyber"),
]


def test_analyzer_folds_accents_elisions_and_stems():
    assert analyze("L'entreprise sécurisée") == analyze("entreprises securisees")
    assert "le" not in analyze("le la les")


def test_analyzer_drops_prepositional_phrases_but_keeps_their_nouns_elsewhere():
    assert analyze("Qui est à l'origine du bulletin ?") == analyze("bulletin")
    assert analyze("en cas de cyberattaque, par rapport au RGPD") == analyze("cyberattaque RGPD")
    assert analyze("les garanties d'origine") == analyze("garantie origine")
    assert analyze("le rapport de l'ANSSI") == analyze("rapport ANSSI")


def test_sentence_index_prefers_words_standing_together():
    index = LexicalIndex.build(PASSAGES)
    scores = index.scores("duree de protection d'un brevet")
    assert scores.argmax() == 1
    assert 0 <= scores.min() and scores.max() <= 1.0 + 1e-6
    # Passage-level BM25 alone prefers the short passage that repeats the words.
    assert LexicalIndex(index.model).scores("duree de protection d'un brevet").argmax() == 0


def test_unknown_words_score_zero_everywhere():
    index = LexicalIndex.build(PASSAGES)
    assert not index.scores("teurgoule").any()


def test_saved_index_scores_the_same(tmp_path):
    index = LexicalIndex.build(PASSAGES)
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    question = "sauvegardes contre les rançongiciels"
    assert np.allclose(loaded.scores(question), index.scores(question))
    assert loaded.size == 3


def test_sentence_table_that_does_not_match_the_passages_is_refused(tmp_path):
    index = LexicalIndex.build(PASSAGES)
    index.starts = index.starts[:2]
    index.save(tmp_path)
    with pytest.raises(ValueError, match="sentences"):
        LexicalIndex.load(tmp_path)


def test_ignored_stems_weigh_nothing():
    passages = [_passage("autumn", "Présentée l'automne dernier, la proposition sur l'IA avance."),
                _passage("latest", "Les PME cartographient leurs usages de l'IA.")]
    index = LexicalIndex.build(passages)
    question = "le dernier bulletin sur l'IA"
    assert index.scores(question).argmax() == 0
    scores = index.scores(question, frozenset(analyze("dernier")))
    assert scores[0] == pytest.approx(scores[1], abs=0.2) and scores[1] > 0


def test_typos_and_missing_apostrophes_find_the_indexed_word():
    passages = [_passage("bench", "Le benchmarking compare l'entreprise à ses concurrents."),
                _passage("brevet", "Le brevet d'invention protège une innovation technique pendant vingt ans."),
                _passage("mairie", "La mairie de Caen organise un atelier.")]
    index = LexicalIndex.build(passages)
    assert index.scores("le benchmarcking ca sert a quoi").argmax() == 0
    assert index.scores("brevet dinvention").argmax() == 1
    assert index.known(analyze("benchmarcking")[0]) == analyze("benchmarking")[0]
    assert index.known(analyze("dinvention")[0]) == analyze("invention")[0]
    # Short stems and words far from every indexed one are left as typed: they match nothing.
    assert index.known("mari") == "mari"
    assert index.known(analyze("cryptomonnaie")[0]) == analyze("cryptomonnaie")[0]
    assert not index.scores("cryptomonnaie").any()


def test_a_french_word_is_not_read_as_a_typo_of_another():
    passages = [_passage("dessous", "Le dessous de la carte mère."), _passage("portail", "Le portail de la Région."),
                _passage("sauvegarde", "La sauvegarde des données.")]
    index = LexicalIndex.build(passages)
    for word in ("dessus", "portable", "préfet", "prefet"):
        assert index.known(analyze(word)[0]) == analyze(word)[0], word
    assert index.known(analyze("sauvgarde")[0]) == analyze("sauvegarde")[0]  # a typo still is one


def test_accents_come_back_from_the_passages_own_words():
    from assistant.lexical import Accents

    accents = Accents(["La sécurité du système passe par la sécurité des postes.", "Voyager à l'étranger.",
                       "Un tel usage, ou un autre ; il a été animé. Une activité animée anime le salon."])
    assert accents.restore("Securite des pc a l'etranger") == "Sécurité des pc a l'étranger"
    # « tel », « anime » are words the passages write bare too often; one- and two-letter words stay.
    assert accents.restore("un tel salon anime ou pas") == "un tel salon anime ou pas"


def test_accents_leave_a_word_of_general_french_as_typed():
    from assistant.lexical import Accents
    from assistant.scope import general_words

    passages = ["Ce qu'il a pensé du marché ; le guide conseillé par l'agence, la sécurité d'abord."]
    # Without the words of general French, the verbs typed become past participles and nouns.
    assert Accents(passages).restore("je pense que le marche") == "je pensé que le marché"
    words = general_words()
    assert {"pense", "marche", "conseille"} <= words and "securite" not in words
    accents = Accents(passages, words)
    assert accents.restore("je pense qu'il conseille la securite du marche") == \
        "je pense qu'il conseille la sécurité du marche"


def test_accents_rule_off_leaves_the_question_as_typed():
    from assistant import rules
    from assistant.lexical import Accents

    accents = Accents(["La sécurité avant tout."])
    with rules.switched_off("accents"):
        assert accents.restore("securite") == "securite"


def test_pay_and_paid_are_not_read_as_country():
    # Snowball stems « paye » and « payé » like « pays »: they go with « paie » and « payer ».
    assert analyze("la paye") == analyze("la paie") == analyze("payer")
    assert analyze("payé") == analyze("payer")
    assert analyze("les pays") != analyze("la paye")
