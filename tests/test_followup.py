"""Follow-up questions: which ones depend on the turn before, and how they are read."""
from __future__ import annotations

import pytest

from assistant import rules
from assistant.followup import depends_on_context, emphasised, understand


@pytest.mark.parametrize("question", [
    "et ça coûte combien ?", "et pour les collectivités ?", "et en 2025 ?", "et le mois d'avant ?", "pourquoi ?",
    "des exemples ?", "c'est obligatoire ?", "ça coûte combien", "ce guide dit quoi sur les sauvegardes ?",
    "il faut le signer ?", "mais si le presta refuse ?", "qui le fait ?", "qui l'écrit ?", "c obligatoire ?",
    "c fiable ?", "Comment est-il censé être utilisé ?", "pkoi ?", "on l'applique comment avec un seul serveur ?",
    "ok on a tout débranché du réseau. et ensuite ?", "concrètement on commence par quoi ?", "on fait comment ?",
    # More of what was answered, a pronoun for what was named, a question word and one content word.
    "détaille celle sur les sauvegardes", "tu peux développer ?", "et ceux qui travaillent à distance ?",
    "comment on adhère ?", "qui contacter ?",
    # Pronouns and fillers do not make a question long; a verb after « on »/« je » and « comment » asks how.
    "ça coute cher les outils pour faire ça ?", "il faut former les salariés la dessus ?", "faut les former ?",
    "Le dernier numéro en parle encore ?", "Lequel est le plus récent ?", "C'était dans quel numéro ?",
    "on verifie comment concretement ?",
    # A reply to the turn before, or the next step asked in so many words, at any length; a personal subject.
    "c'est bon on a listé nos activités et nos données à protéger. on enchaîne sur quoi ?",
    "D'accord, ils partent là-dessus. On attaque par quel atelier et avec quels supports ?",
    "ok j'ai bien identifié mon besoin, c'est la protection de ce procédé. l'étape d'apres c'est d'appeler qui ?",
    "Une fois l'exercice joué, qu'est-ce qu'on fait derrière ?", "Le Tier 0 est reconstruit. On passe à quoi ensuite ?",
    "Il veut réagir : il fait quoi maintenant, et il prévient qui ?", "elle est obligatoire ?", "il est gratuit ?",
    "J'ai changé le mot de passe et prévenu la banque, quoi d'autre ?", "Concrètement, il sert à quoi ?",
    "plainte deposee ce midi aussi. il reste quoi a faire maintenant ?", "on nous pose quel genre de questions dedans ?",
    "J'ai rédigé ma proposition, je l'envoie où et comment ça se passe ensuite ?",
    "Les risques sur les connecteurs, c'est développé dans le même numéro ?",
])
def test_follow_ups_depend_on_the_turn_before(question):
    assert depends_on_context(question), question


@pytest.mark.parametrize("question", [
    "le dernier bulletin", "Quels sont les trois modes d'action de l'intelligence économique ?",
    "on a reçu un mail bizarre de notre banque, c'est grave ça ?", "Comment adhérer à la charte cybersécurité ?",
    "il faut faire quoi après un rançongiciel ?", "veille blockchain 2025", "faut-il une charte informatique ?",
    "y a-t-il un guide sur les sauvegardes ?", "notre messagerie vient d'etre piratee on fait quoi en urgence",
    "que faire après une cyberattaque ?", "détailler les étapes d'une réponse à un rançongiciel pour une PME",
    "comment adhérer à la charte cyber ?", "rançongiciel ?", "je fais comment pour chiffrer mon disque dur ?",
    # An impersonal « il » is no one named before; « bonjour » is not « bon ».
    "il existe un guide pour les sauvegardes des TPE ?", "il va pleuvoir a deauville ce week end ?",
    "Il est obligatoire de signaler une fuite de données à la CNIL ?", "bonjour, comment signer la charte cyber ?",
    "on fait quoi maintenant que la messagerie est piratée et que les clients reçoivent de fausses factures ?",
    # What « il » or « dedans » stands for is named in the question itself.
    "il est ou le bulletin hors serie special JO de Paris 2024 ?", "le mooc secnumacadémie, y a quels modules dedans ?",
])
def test_standalone_questions_stand_alone(question):
    assert not depends_on_context(question), question
    assert understand(question, ["Comment adhérer à la charte cybersécurité ?"]) == question


def test_a_follow_up_carries_the_previous_topic_and_its_own_period():
    charter = ["Comment adhérer à la charte cybersécurité ?"]
    assert understand("et ça coûte combien ?", charter) == "et ça coûte combien ? — Comment adhérer à la charte " \
                                                           "cybersécurité ?"
    assert understand("et ça coûte combien ?", []) == "et ça coûte combien ?"
    # A period replaces the previous one; a month alone keeps the previous year; « d'avant » counts back.
    ransom = ["les bulletins de mars 2025 sur les rançongiciels"]
    assert understand("et en 2024 ?", ransom) == "et en 2024 ? — les bulletins sur les rançongiciels"
    # A chain of follow-ups keeps the first topic; a standalone question starts a new one.
    chain = ["Comment adhérer à la charte cybersécurité ?", "et ça coûte combien ?"]
    assert understand("pourquoi ?", chain).endswith("Comment adhérer à la charte cybersécurité ?")
    assert "charte" not in understand("pourquoi ?", chain + ["Que faire après un rançongiciel ?"])


@pytest.mark.parametrize("follow_up, previous, read_as", [
    # A month alone keeps the previous year; « d'avant », « suivant » count back or on.
    ("et en janvier ?", "les bulletins de 2025 sur les rançongiciels", "les bulletins de 2025 sur les rançongiciels"),
    ("et le mois d'avant ?", "les articles IA du bulletin de décembre 2025",
     "les articles IA du bulletin de novembre 2025"),
    ("et le numéro suivant ?", "que dit le bulletin n° 38 sur la blockchain",
     "que dit le bulletin n° 39 sur la blockchain"),
    # A quarter, a half or a season counts back or on by as many months, or is named by its rank, and reads as
    # French (« d'avril », not « de avril »; « de mars », not « d'mars »).
    ("et le trimestre suivant ?", "les bulletins du premier trimestre 2025 sur NIS 2",
     "les bulletins de la période d'avril 2025 à juin 2025 sur NIS 2"),
    ("et la saison d'avant ?", "les bulletins de l'automne 2025 sur l'IA",
     "les bulletins de la période de juin 2025 à août 2025 sur l'IA"),
    ("et au second ?", "les bulletins du premier semestre 2025 sur l'IA",
     "les bulletins de la période de juillet 2025 à décembre 2025 sur l'IA"),
    ("et le dernier ?", "la veille du premier trimestre 2025 sur NIS 2",
     "la veille de la période d'octobre 2025 à décembre 2025 sur NIS 2"),
    # A season or a month named with « d'après » / « d'avant » is the first of that name after or before it.
    ("et l'été d'après ?", "les bulletins de l'automne 2024 sur l'IA", "les bulletins de l'été 2025 sur l'IA"),
    ("et le printemps d'avant ?", "les bulletins de l'automne 2024 sur l'IA",
     "les bulletins du printemps 2024 sur l'IA"),
    ("et l'hiver d'après ?", "les bulletins de l'été 2025 sur l'IA", "les bulletins de l'hiver 2026 sur l'IA"),
    ("et en juin d'après ?", "le bulletin de mars 2025 parlait de quoi ?", "le bulletin de juin 2025 parlait de quoi ?"),
    ("et celui d'avant ?", "Que contient le bulletin de mai 2026 ?", "Que contient le bulletin d'avril 2026 ?"),
    # A bare year, named by a follow-up before, is counted from too.
    ("et l'année d'après ?", "Et en 2024 ? — les ateliers du mois de sensibilisation",
     "Et en 2025 ? — les ateliers du mois de sensibilisation"),
    ("et celui d'avant ?", "Que contient le bulletin d'avril 2026 ?", "Que contient le bulletin de mars 2026 ?"),
    # A shift counted in issues, months or years.
    ("Et deux numéros plus tard ?", "Dans le bulletin de janvier 2025, où en était NIS 2 ?",
     "Dans le bulletin de mars 2025, où en était NIS 2 ?"),
    ("et trois numéros avant ?", "que disait le bulletin n° 38 sur les rançongiciels ?",
     "que disait le bulletin n° 35 sur les rançongiciels ?"),
    ("et deux ans après ?", "les bulletins de 2025 sur la blockchain", "les bulletins de 2027 sur la blockchain"),
    ("et 3 mois plus tard ?", "le bulletin de novembre 2025 sur l'IA", "le bulletin de février 2026 sur l'IA"),
])
def test_a_follow_ups_period_is_counted_from_the_previous_one(follow_up, previous, read_as):
    assert understand(follow_up, [previous]) == f"{follow_up} — {read_as}"


def test_words_that_only_say_which_period_do_not_make_a_follow_up_a_new_subject():
    from assistant.followup import could_stand_alone

    assert not could_stand_alone("Et deux numéros plus tard ?")
    assert not could_stand_alone("et le numéro d'avant, en mars 2025 ?")
    assert could_stand_alone("et une idée de cadeau pour les 60 ans de ma mère ?")


def test_a_follow_up_naming_another_audience_does_not_search_the_previous_one():
    first = "On lance une start-up dans le numérique à Caen, des conseils cyber pour nous ?"
    follow_up = "Et si on était une PME industrielle, ce serait quoi les conseils ?"
    understood = understand(follow_up, [first])
    assert understood == f"{follow_up} — {first}"  # the reading shown keeps the turn before whole
    searched = emphasised(follow_up, understood)
    assert "start-up" not in searched and "numérique" not in searched and "PME industrielle" in searched
    assert "conseils cyber" in searched and "Caen" in searched
    # The same audience, or none named: the previous question is searched whole.
    assert "start-up" in emphasised("et pour une start-up de 3 personnes ?",
                                    understand("et pour une start-up de 3 personnes ?", [first]))
    assert "start-up" in emphasised("et ça coûte combien ?", understand("et ça coûte combien ?", [first]))
    with rules.switched_off("audience"):
        assert "start-up" in emphasised(follow_up, understood)


def test_a_reply_is_read_alone_with_the_rule_off():
    with rules.switched_off("replies"):
        assert not depends_on_context("ok c'est fait, on enchaîne sur quoi pour la suite de la démarche ?")
    assert depends_on_context("ok c'est fait, on enchaîne sur quoi pour la suite de la démarche ?")


def test_a_follow_ups_own_words_are_searched_once_more_not_shown():
    first = "des conseils pour securiser nos pc portables quand on est en deplacement ?"
    understood = understand("et pour les téléphones ?", [first])
    assert understood == f"et pour les téléphones ? — {first}"
    assert emphasised("et pour les téléphones ?", understood) == f"{understood} téléphones"
    # Words the previous question has are not repeated; a standalone question is searched as it is.
    assert emphasised("et pour nos pc ?", understand("et pour nos pc ?", [first])).endswith(first)
    assert emphasised("Comment adhérer à la charte ?", "Comment adhérer à la charte ?") == "Comment adhérer à la charte ?"
    with rules.switched_off("emphasis"):
        assert emphasised("et pour les téléphones ?", understood) == understood


@pytest.mark.parametrize("follow_up, previous, read_as", [
    # Another law, scheme or body named: the previous one's name goes, its frame stays.
    ("et le CRA ca me concerne aussi ?", "c quoi NIS2, ma pme de 60 personnes est concernee ?",
     "c quoi, ma pme de 60 personnes est concernee ?"),
    ("et le Cyber Resilience Act, ça nous concerne aussi ?", "on se prépare à NIS 2, on commence par où ?",
     "on se prépare, on commence par où ?"),
    ("et pour le CRA ?", "quelles obligations pour NIS 2 ?", "quelles obligations ?"),
    # An audience is not another subject; no name of its own, nothing goes.
    ("et pour une PME ?", "l'ANSSI a un guide pour les start-up ?", "l'ANSSI a un guide pour les start-up ?"),
    ("et côté IA ?", "Que contient le bulletin d'avril 2026 en cybersécurité ?",
     "Que contient le bulletin d'avril 2026 en cybersécurité ?"),
])
def test_a_follow_up_naming_another_subject_replaces_the_previous_name(follow_up, previous, read_as):
    assert understand(follow_up, [previous]) == f"{follow_up} — {read_as}"


def test_the_latest_issues_are_counted_back_from_the_newest_indexed():
    latest = "2026-10-13"
    assert understand("et le trimestre d'avant ?", ["les derniers bulletins parlaient de quoi côté blockchain ?"],
                      latest=latest) == ("et le trimestre d'avant ? — les bulletins parlaient de quoi côté blockchain "
                                         "de la période de mai 2026 à juillet 2026 ?")
    assert understand("et le mois d'avant ?", ["les deux derniers bulletins sur l'IA"], latest=latest) \
        == "et le mois d'avant ? — les deux bulletins sur l'IA en août 2026"
    # Without the newest issue's date there is nothing to count from: the subject is kept, with no period.
    assert understand("et le trimestre d'avant ?", ["les derniers bulletins sur l'IA"]) \
        == "et le trimestre d'avant ? — les bulletins sur l'IA"
