"""Extractive answers: sentences in the passage's own words, [n] marks, honest abstention."""
from __future__ import annotations

import math
import re
from dataclasses import replace

import pytest

from assistant import rules
from assistant.answer import CLOSEST, DOUBT, NOT_FOUND, Certainty, compose_answer, coverage
from assistant.chunking import split_sentences
from assistant.lexical import analyze
from assistant.schema import Hit, Passage


def _hit(rank, text, dense=0.9, score=1.0):
    passage = Passage(id=f"p{rank}", text=text, title="Mémo", source="corpus/memo.pdf", doc_type="memo", page=rank)
    return Hit(passage=passage, score=score, rank=rank, dense=dense)


def test_split_sentences_respects_french_abbreviations():
    text = "Selon l'art. 3 de la charte, M. Martin signe. Voir p. 12 du mémo ! « Est-ce utile ? » Oui.\nListe : a"
    assert split_sentences(text) == ["Selon l'art. 3 de la charte, M. Martin signe.", "Voir p. 12 du mémo !",
                                     "« Est-ce utile ? » Oui.", "Liste : a"]
    # A list item's number is not a sentence.
    assert split_sentences("Trois étapes :\n1. Orienter.\n2. Collecter les informations.") == [
        "Trois étapes :", "1. Orienter.", "2. Collecter les informations."]


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


def test_the_lead_section_goes_on_in_its_passages_shown_after_the_first_three():
    def hit(rank, text, section, score):
        passage = Passage(id=f"p{rank}", text=text, title="Mémo", source="corpus/memo.pdf", doc_type="memo",
                          page=rank, section=section)
        return Hit(passage=passage, score=score, rank=rank, dense=0.9)

    # The rule `spread` put the travel section's second passage 4th, after two other sections.
    hits = [hit(1, "Avant de partir à l'étranger, faites le point sur les informations que vous emportez.",
                "Voyager", 1.0),
            hit(2, "Les salons professionnels réunissent clients et concurrents.", "Salons", 0.8),
            hit(3, "Le télétravail demande un poste à jour.", "Télétravail", 0.7),
            hit(4, "Emportez un ordinateur portable vidé de ses données sensibles et chiffrez son disque.",
                "Voyager", 0.6),
            hit(5, "Chiffrez les sauvegardes des serveurs.", "Sauvegardes", 0.5)]
    answer = compose_answer("quel ordinateur portable emporter à l'étranger ?", hits)
    assert "Emportez un ordinateur portable vidé de ses données sensibles et chiffrez son disque. [4]" in answer.text
    # Another section's 4th passage is not read.
    other = [*hits[:3], replace(hits[3], passage=replace(hits[3].passage, section="Autre"))]
    assert "Emportez" not in compose_answer("quel ordinateur portable emporter à l'étranger ?", other).text


def test_uncertain_without_hits_or_below_threshold_shows_the_closest_passages():
    empty = compose_answer("question", [])
    assert empty.outcome == "uncertain" and empty.text == NOT_FOUND and empty.hits == () and not empty.abstained
    hits = [_hit(1, "La charte engage les prestataires à sauvegarder les données.", dense=0.70)]
    low = compose_answer("sauvegarde des données chez un prestataire", hits, Certainty(min_confidence=0.8))
    # Flagged, not hidden: the sentence that says so, then the closest passage's words, and the passage.
    assert low.outcome == "uncertain" and not low.abstained and low.hits == tuple(hits)
    assert low.reason == DOUBT
    assert low.text == f"{DOUBT} {CLOSEST} La charte engage les prestataires à sauvegarder les données. [1]"
    high = compose_answer("sauvegarde des données chez un prestataire", hits, Certainty(min_confidence=0.6))
    assert high.outcome == "answered" and high.reason is None


def test_idf_weights_prefer_rare_question_words():
    hits = [_hit(1, "L'intelligence économique est une démarche économique collective. "
                    "Elle articule trois modes d'action : anticiper, influencer et se protéger.")]
    answer = compose_answer("les modes de l'intelligence économique", hits, lexical=_RareModes(), max_sentences=1)
    assert answer.text.startswith("Elle articule trois modes d'action")


class _RareModes:
    """A lexical side where « modes » is rare and every other word common; it reads « modse » as « modes »."""

    def terms(self, question, ignored=frozenset()):
        stems = analyze(question) if isinstance(question, str) else question  # its text or its Query's stems
        return ["mod" if t == "mods" else t for t in stems if t not in ignored]

    def idf(self, tokens):
        return {t: (5.0 if t == "mod" else 0.1) for t in tokens}


def test_the_answer_reads_the_question_as_the_search_did():
    hits = [_hit(1, "L'intelligence économique est une démarche économique collective. "
                    "Elle articule trois modes d'action : anticiper, influencer et se protéger.")]
    # « modse » (a typo) weighs as « modes », the rare word: its sentence leads, and counts in the coverage.
    answer = compose_answer("les modse de l'intelligence économique", hits, lexical=_RareModes(), max_sentences=1)
    assert answer.text.startswith("Elle articule trois modes d'action"), answer.text
    assert coverage("les modse", hits[0].passage.text, _RareModes()) == 1.0
    assert coverage("les modse", hits[0].passage.text) == 0.0


def test_answer_prefers_the_sentence_that_holds_what_is_asked():
    # Both sentences share the question's words; only the second says when, who, or where.
    cases = [
        ("En quelle année le comité stratégique a-t-il été créé ?",
         "Le comité stratégique a été créé pour coordonner la démarche régionale.",
         "Le comité stratégique a été créé en 2017 par la Région et l'État."),
        ("Qui anime le comité stratégique ?",
         "Le comité stratégique est animé chaque trimestre autour des priorités.",
         "Le comité stratégique est animé par Claire Martin et la préfecture."),
        ("Où se réunit le comité stratégique ?",
         "Le comité stratégique se réunit deux fois par an avec les partenaires.",
         "Le comité stratégique se réunit à Caen avec les partenaires."),
    ]
    for question, plain, answering in cases:
        answer = compose_answer(question, [_hit(1, f"{plain} {answering}")], max_sentences=1)
        assert answer.text == f"{answering} [1]", question
        # Without the shape the first sentence wins on position: the bonus is what chose.
        assert compose_answer("le comité stratégique", [_hit(1, f"{plain} {answering}")],
                              max_sentences=1).text == f"{plain} [1]"


def test_answer_quotes_a_fact_once_when_two_pages_repeat_it():
    hits = [_hit(1, "Le comité stratégique a été mis en place en juillet 2017. "
                    "Il est co-présidé par la Région et l'État."),
            _hit(2, "Un comité stratégique, co-présidé par la Région et l'État, a été mis en place "
                    "en juillet 2017.", score=0.98)]
    answer = compose_answer("quand le comité stratégique a-t-il été mis en place ?", hits)
    assert answer.text.count("juillet 2017") == 1, answer.text


def test_answer_prefers_sentences_to_headings_and_labels():
    hits = [_hit(1, "Source : rapport institutionnel\nRÉGION NORMANDIE\n"
                    "Les entités essentielles et importantes sont entrées dans une phase opérationnelle.")]
    answer = compose_answer("où en est la directive NIS 2 ?", hits, max_sentences=1)
    assert answer.text == "Les entités essentielles et importantes sont entrées dans une phase opérationnelle. [1]"
    # A question in the text (a heading such as « Qui la saisit ? ») does not answer one.
    hits = [_hit(1, "Qui saisit la commission de conciliation ?\n"
                    "Le bailleur ou plusieurs locataires peuvent saisir la commission de conciliation.")]
    answer = compose_answer("qui peut saisir la commission de conciliation ?", hits, max_sentences=1)
    assert answer.text == ("Le bailleur ou plusieurs locataires peuvent saisir la commission de conciliation. "
                           "[1]"), answer.text


def test_a_sentence_announcing_a_list_brings_the_list():
    hits = [_hit(1, "La veille est un processus. Elle suit un cycle en trois étapes :\n1. Orienter.\n"
                    "2. Collecter : le référent rassemble les informations.\n3. Diffuser.\n"
                    "Le mémo détaille chaque étape.")]
    answer = compose_answer("les étapes du cycle de la veille", hits, max_sentences=1)
    assert answer.text == ("Elle suit un cycle en trois étapes : 1. Orienter. "
                           "2. Collecter : le référent rassemble les informations. 3. Diffuser. [1]"), answer.text


@pytest.mark.parametrize("items, quoted", [
    # Lines without numbers or bullets: the list ends at the first period.
    ("la Chambre d'Agriculture,\nla CCI Normandie.", "la Chambre d'Agriculture, la CCI Normandie."),
    # Bullets are layout: the items read on one line, up to the first line that is not one.
    ("- la Chambre d'Agriculture ;\n• la CCI Normandie ;\n- le Pôle TES.",
     "la Chambre d'Agriculture ; la CCI Normandie ; le Pôle TES."),
])
def test_a_list_ends_where_its_items_end(items, quoted):
    hits = [_hit(1, f"Le bulletin est réalisé en partenariat avec :\n{items}\n"
                    "Il paraît chaque mois sur la cybersécurité.")]
    answer = compose_answer("avec qui le bulletin est-il réalisé ?", hits, max_sentences=1)
    assert answer.text == f"Le bulletin est réalisé en partenariat avec : {quoted} [1]", answer.text


def test_a_list_cut_for_room_says_it_goes_on():
    partners = ",\n".join(f"la chambre consulaire numéro {n} de la région" for n in range(1, 9)) + "."
    hits = [_hit(1, f"Le bulletin est réalisé en partenariat avec :\n{partners}")]
    answer = compose_answer("avec qui le bulletin est-il réalisé ?", hits, max_chars=200)
    assert answer.text.startswith("Le bulletin est réalisé en partenariat avec : la chambre consulaire numéro 1")
    assert answer.text.endswith(" … [1]") and len(answer.text) < 260, answer.text


def test_a_list_goes_on_into_the_passage_cut_after_it():
    # Chunks overlap: the next passage repeats the line « 2. … » (cut short here) before the list goes on.
    first = replace(_hit(1, "L'adhésion est gratuite. Elle se déroule en trois étapes :\n1. Le prestataire écrit.\n"
                           "2. Il répond au").passage, id="charte-p5-17.0")
    sequel = replace(first, id="charte-p5-17.1",
                     text="2. Il répond au questionnaire.\n3. Le dirigeant signe.\nChaque année, il fait le point.")
    following = {first: sequel}.get
    hits = [Hit(passage=first, score=1.0, rank=1, dense=0.9)]
    answer = compose_answer("quelles étapes se déroulent ?", hits, max_sentences=1, following=following)
    assert answer.text == ("Elle se déroule en trois étapes : 1. Le prestataire écrit. 2. Il répond au questionnaire. "
                           "3. Le dirigeant signe. [1]"), answer.text
    # Without the passage that follows, the list stops where the passage does.
    alone = compose_answer("quelles étapes se déroulent ?", hits, max_sentences=1)
    assert alone.text.endswith("1. Le prestataire écrit. 2. Il répond au [1]"), alone.text


def test_a_list_over_a_page_break_cites_the_next_page():
    first = replace(_hit(1, "La veille suit un cycle en quatre étapes :\n1. Orienter les questions.\n"
                           "2. Collecter les informations.").passage, id="memo-p4", page=4)
    page5 = replace(first, id="memo-p5", page=5, text="3. Analyser ce qui est collecté.\n4. Diffuser une note.")
    other = _hit(2, "Le benchmarking compare l'entreprise à ses concurrents.", score=0.5)
    hits = [Hit(passage=first, score=1.0, rank=1, dense=0.9), other]
    answer = compose_answer("quelles étapes du cycle de la veille ?", hits, max_sentences=1,
                            following={first: page5}.get)
    # Steps 3 and 4 are read on page 5: they are cited with it, as a source of its own after the hits.
    assert answer.text == ("La veille suit un cycle en quatre étapes : 1. Orienter les questions. "
                           "2. Collecter les informations. [1] 3. Analyser ce qui est collecté. "
                           "4. Diffuser une note. [3]"), answer.text
    assert [(h.rank, h.passage.page) for h in answer.hits] == [(1, 4), (2, 2), (3, 5)]
    # The quotes are built as the answer quotes: each piece with its mark and the passage it was read from.
    assert [(q.rank, q.passage_id) for q in answer.quotes] == [(1, "memo-p4"), (3, "memo-p5")], answer.quotes
    assert answer.quotes[1].text == "3. Analyser ce qui est collecté. 4. Diffuser une note."
    assert answer.cited_ranks() == [1, 3]
    # When page 5's passage is already among the hits, its own mark is used.
    ranked = compose_answer("quelles étapes du cycle de la veille ?", [*hits[:1], Hit(page5, 0.6, 2, 0.8)],
                            max_sentences=1, following={first: page5}.get)
    assert ranked.text.endswith("4. Diffuser une note. [2]") and len(ranked.hits) == 2, ranked.text


def test_a_list_going_on_in_a_passage_shown_on_the_same_page_cites_that_passage():
    # The list's tail, on the same page, is shown first (its section's best passage): its lines carry its mark [1],
    # not the head's [2] (the page rule is for a passage that is not shown).
    head = replace(_hit(2, "La présente charte a pour objet :\n- de définir les engagements des signataires ;").passage,
                   id="charte-p2-0", page=2)
    tail = replace(head, id="charte-p2-1", text="- de constituer un réseau régional de prestataires.")
    hits = [Hit(passage=tail, score=1.0, rank=1, dense=0.9), Hit(passage=head, score=0.9, rank=2, dense=0.9)]
    answer = compose_answer("quel est l'objet de la charte ?", hits, max_sentences=1, following={head: tail}.get)
    assert answer.text.endswith("des signataires ; [2] de constituer un réseau régional de prestataires. [1]"), \
        answer.text
    assert [q.passage_id for q in answer.quotes] == ["charte-p2-0", "charte-p2-1"] and len(answer.hits) == 2


def test_a_list_keeps_its_first_item_and_its_lines_are_not_quoted_twice():
    first = _hit(1, "L'adhésion à la charte est ouverte à toute entreprise normande de services numériques et "
                    "ses étapes sont simples, " + "x" * 120 + ".")
    steps = _hit(2, "L'adhésion à la charte se déroule en trois étapes :\n1. Le prestataire écrit au secrétariat.\n"
                    "2. Il remplit le questionnaire.\n3. Le dirigeant signe la charte, dernière des étapes de l'adhésion.",
                score=0.9)
    # The third step is also the first line of the passage cut after it, ranked third here.
    hits = [first, steps, _hit(3, "3. Le dirigeant signe la charte, dernière des étapes de l'adhésion.\n"
                                  "Il en informe ses clients.", score=0.8)]
    # The first sentence leaves no room for the steps: the first one comes all the same.
    answer = compose_answer("les étapes de l'adhésion à la charte", hits, max_chars=len(first.passage.text) + 60)
    assert "en trois étapes : 1. Le prestataire écrit au secrétariat. … [2]" in answer.text, answer.text
    roomy = compose_answer("les étapes de l'adhésion à la charte", hits, max_chars=1000)
    assert "2. Il remplit le questionnaire. 3. Le dirigeant signe la charte, dernière des étapes de l'adhésion. [2]" \
        in roomy.text, roomy.text
    assert roomy.text.count("Le dirigeant signe la charte") == 1, roomy.text


def test_a_step_chosen_before_its_list_is_not_quoted_twice():
    hits = [_hit(1, "L'adhésion se déroule en trois étapes :\n1. Le prestataire écrit au secrétariat.\n"
                    "2. Il remplit le questionnaire.\n3. Le dirigeant signe la charte.")]
    # « 3. Le dirigeant signe la charte. » shares more of the question's words than the announcement: it is
    # chosen first, then the list brings it again.
    answer = compose_answer("quelles étapes pour signer la charte ?", hits)
    assert answer.text == ("L'adhésion se déroule en trois étapes : 1. Le prestataire écrit au secrétariat. "
                           "2. Il remplit le questionnaire. 3. Le dirigeant signe la charte. [1]"), answer.text


def test_answer_never_quotes_a_sample_documents_notice():
    notice = ("Document d'exemple rédigé pour la démonstration de l'assistant — ne constitue pas une publication "
              "officielle de la Région Normandie.")
    hit = _hit(1, f"{notice}\nRéalisé en partenariat avec : la Chambre d'Agriculture de Normandie "
                  "et la CCI Normandie.")
    hit = Hit(passage=replace(hit.passage, sample=True), score=1.0, rank=1, dense=0.9)
    answer = compose_answer("qui rédige le bulletin de veille pour la Région Normandie ?", [hit])
    assert "Document d'exemple" not in answer.text
    assert answer.text.startswith("Réalisé en partenariat avec")


# ---------------------------------------------------------------- questions that ask for a value


def test_question_kinds_and_focus():
    from assistant.asked import asked_value

    cases = {
        "Combien coûte un dépôt de brevet ?": ("montant", "depot"),
        "combien ça coûte ?": ("montant", None),
        "date limite de la déclaration d'impôt": ("date", "declar"),
        "dates exactes des prochains NetSecureDays": ("date", "netsecureday"),
        "depuis quand existe le comité stratégique ?": ("date", None),
        "montant de la subvention régionale pour un antivirus": ("montant", "subvent"),
        "prix d'une licence Microsoft 365": ("montant", "licenc"),
        "cours du bitcoin aujourd'hui": ("montant", "bitcoin"),
        "taux de TVA pour la restauration": ("taux", "tva"),
        "combien d'habitants en Normandie": ("nombre", "habit"),
        "monaidecyber ça dure combien de temps": ("durée", None),
        "numéro de téléphone de la CCI": ("téléphone", None),
        "adresse mail pour recevoir le bulletin": ("courriel", None),
        "adresse postale de la mission": ("adresse", None),
        "horaires d'ouverture de la mairie": ("horaire", None),
    }
    for question, (kind, focus) in cases.items():
        asked = asked_value(question)
        assert asked is not None and (asked.kind, asked.focus) == (kind, focus), (question, asked)
    # Questions about a topic, or words that only look like a value request.
    for question in ("À qui s'adresser si un concurrent nous approche ?", "Quels sont les trois modes d'action ?",
                     "qui est à l'origine de la charte ?",
                     # Words that look like a value request and are not (found on PIAF and Service-Public):
                     "Que faire quand des squatteurs occupent un logement ?", "Qui remporte deux grands prix ?",
                     "A-t-on droit plusieurs fois au prêt à taux zéro ?",
                     "changer d'hébergeur sans frais de sortie", "les stablecoins en euros, c'est quoi ?",
                     "Que s'est-il passé au cours du XVIIe siècle ?", "un titre en cours de validité",
                     "des cours de langue pour les salariés",
                     # Whether or how, about prices: no amount answers them.
                     "est-ce qu'on a le droit de récupérer les tarifs d'un concurrent ?",
                     "comment fixer le prix de ses prestations ?", "pourquoi le taux de clics baisse ?"):
        assert asked_value(question) is None, question
    # A person in a role: the answer names someone (M. / Mme), else it is uncertain, not refused.
    for question in ("Qui est le président de la région ?", "le directeur de l'anssi il s'appelle comment ?",
                     "le nom du conseiller de la CCI à Cherbourg"):
        assert asked_value(question).kind == "identité", question
    assert asked_value("qui pilote la démarche en Normandie ?") is None
    assert asked_value("comment savoir combien coûte un dépôt de marque ?").kind == "montant"
    # A figure for a year: the value must stand near the year (« combien de PME … en 2024 »).
    assert asked_value("Nombre exact de plaintes déposées dans le Calvados en 2025 ?").year == "2025"
    from assistant.asked import AskedValue

    counted = AskedValue("nombre", "pme", year="2024")
    assert counted.given_by("En 2024, 37 PME normandes ont déclaré un incident.")
    assert not counted.given_by("37 PME normandes ont déclaré un incident, selon une enquête menée auprès des "
                                "adhérents des chambres consulaires et des fédérations professionnelles de toute la "
                                "région, dont le rapport complet sur la sécurité numérique paraîtra en 2024.")
    assert asked_value("et ça coûte combien ?").kind == "montant"  # a follow-up's word order
    assert asked_value("c'est combien pour adhérer ?").kind == "montant"
    # Someone's address (« son email »), not a mailbox (« mon mail a été piraté », « un mail bizarre »).
    assert asked_value("la personne qui a rédigé le bulletin, son email ?").kind == "courriel"
    assert asked_value("mon mail a été piraté, que faire ?") is None
    # Someone's own address: a site's link does not give it.
    personal = asked_value("Qui est le délégué ANSSI en Normandie et quel est son adresse mail perso ?")
    assert personal.kind == "courriel personnel"
    assert not personal.given_by("Lien : https://cyber.gouv.fr/action-territoriale")
    assert personal.given_by("Écrivez à ie@normandie.fr pour toute question.")
    # « combien exactement de », « combien au juste de »: a count asked for.
    assert asked_value("Combien exactement d'entreprises ont été touchées en 2025 ?").kind == "nombre"
    assert asked_value("combien au juste de signataires ?").kind == "nombre"
    assert asked_value("on a reçu un mail bizarre de la banque") is None
    assert asked_value("est-ce que vous avez le numéro de téléphone de la CCI ?").kind == "téléphone"
    assert asked_value("donne-moi le numéro de portable du chargé de mission").kind == "téléphone"
    for question in ("nom et tel du délégué ANSSI en Normandie svp", "le préfet de région, et son tel ?",
                     "quel est le téléphone de la CCI Normandie ?", "vous avez le 06 du gars de la CCI ?",
                     "la dame de l'agence, vous avez son numero direct ?", "il a un numéro perso ?",
                     "sa ligne directe svp"):
        assert asked_value(question).kind == "téléphone", question
    # A number written out is not asked for.
    assert asked_value("le 06 12 34 56 78 m'appelle tous les jours, c'est une arnaque ?") is None
    # A telephone named, no number asked for.
    for question in ("j'ai des caméras que je regarde depuis mon téléphone, c'est risqué ?",
                     "et si un salarié perd son téléphone ?", "au retour de Chine, je fais quoi du telephone du boulot ?",
                     "notre facture telephone a explosé ce mois-ci"):
        assert asked_value(question) is None, question


def test_values_are_found_in_french_writing():
    from assistant.asked import AskedValue, asked_value

    assert AskedValue("montant").given_by("Le diagnostic coûte 1 500 € HT.")
    assert AskedValue("montant").given_by("Le diagnostic est gratuit pour les PME.")
    assert AskedValue("montant", "subvent").given_by("Une subvention de trois mille euros est prévue.")
    assert not AskedValue("montant", "subvent").given_by("Le diagnostic coûte 1 500 €.")  # not about the subsidy
    assert AskedValue("nombre", analyze("pôles")[0]).given_by("La Normandie compte six pôles de compétitivité.")
    # A count is neither a year, nor a list item's number, nor a vague « nombreux ».
    webinar = analyze("webinaires")[0]
    assert AskedValue("nombre", webinar).given_by("Douze webinaires ont eu lieu.")
    assert not AskedValue("nombre", webinar).given_by("Les nombreux webinaires de 2024 ont réuni les PME.")
    assert not AskedValue("nombre", webinar).given_by("Étapes : 1. Les webinaires sont annoncés.")
    assert not AskedValue("nombre", analyze("prestataire")[0]).given_by("Choisissez un prestataire de confiance.")
    assert AskedValue("nombre", analyze("réformes")[0]).given_by("Le régime provisoire ne comporte aucune réforme.")
    # The day of a date and an hour count nothing: a calendar of webinars does not say how many there were.
    assert not AskedValue("nombre", webinar).given_by("| Jeudi 12 juin 2025, 11 h – 12 h | Webinaire « Voyager » |")
    assert AskedValue("nombre", analyze("heures")[0]).given_by("La formation dure 14 heures.")
    # The value must sit near the word asked about: a table that names filings in one row and a free
    # diagnosis rows later does not say what a filing costs.
    filing = AskedValue("montant", analyze("dépôt")[0])
    assert filing.given_by("Le dépôt d'une demande de brevet coûte 26 € en ligne.")
    assert not filing.given_by("INPI : information sur les dépôts, diagnostic, recherche d'antériorités, "
                               "accompagnement des démarches de protection auprès des offices étrangers. "
                               "Agence régionale de développement, réseau des chambres consulaires, services "
                               "de l'État en région : diagnostic gratuit et plan d'action.")
    # The noun completing the focus must be there too: a date about another declaration does not answer.
    asked = asked_value("date limite de la déclaration d'impôt sur le revenu")
    assert (asked.focus, asked.complement) == (analyze("déclaration")[0], analyze("impôt")[0])
    assert not asked.given_by("Depuis le 1er janvier 2026, la déclaration des transactions en crypto-actifs "
                              "est transmise au fisc.")
    assert asked.given_by("La déclaration d'impôt sur le revenu est à déposer avant le 22 mai.")
    assert AskedValue("montant", analyze("abonnement")[0]).given_by("L'abonnement annuel coûte 75 000 USD.")
    assert AskedValue("date").given_by("Le comité a été installé en juillet 2017.")
    assert AskedValue("date").given_by("Le comité a été installé en 2017.")
    assert not AskedValue("date").given_by("Le comité compte 2017 membres.")
    assert AskedValue("date", analyze("webinaire")[0]).given_by("Le webinaire aura lieu le 12 mars à Caen.")
    assert not AskedValue("date").given_by("Les NetSecureDays réunissent les entreprises normandes.")
    assert AskedValue("identité").given_by("La mission est animée par Mme Durand.")
    assert asked_value("Quand le comité a-t-il été créé ?").kind == "date"
    assert not AskedValue("identité").given_by("La Région Normandie préside le comité.")
    assert AskedValue("durée").given_by("Le diagnostic dure 1h30 environ.")
    assert AskedValue("téléphone").given_by("Appelez le 02 31 00 00 00.")
    assert not AskedValue("téléphone").given_by("Contactez la CCI Normandie.")


def test_uncertain_when_no_passage_gives_the_value_asked():
    hits = [_hit(1, "La Région finance des diagnostics de cybersécurité pour les PME normandes."),
            _hit(2, "Un antivirus à jour protège les postes de travail.", score=0.8)]
    answer = compose_answer("montant de la subvention régionale pour acheter un antivirus", hits)
    assert answer.outcome == "uncertain" and answer.hits == tuple(hits)
    assert answer.text.startswith("Les documents indexés ne donnent pas ce montant")
    assert f"{CLOSEST} La Région finance des diagnostics" in answer.text
    from assistant import rules

    with rules.switched_off("value"):  # the rule measured off: the closest passages answer
        assert compose_answer("montant de la subvention régionale pour acheter un antivirus", hits).outcome == \
            "answered"
    # The same question, with a passage that gives the amount, is answered from it.
    hits.append(_hit(3, "La subvention régionale couvre 50 % du diagnostic, dans la limite de 2 000 €.", score=0.7))
    answer = compose_answer("montant de la subvention régionale pour acheter un antivirus", hits)
    assert answer.outcome == "answered" and "2 000 €" in answer.text



def test_the_value_asked_is_taken_from_any_passage_shown():
    # The top passages define the topic; the fourth states the count, the sixth is not shown to the reader.
    topic = [_hit(n, f"Un pôle de compétitivité rassemble des entreprises et des laboratoires, mission {word}.",
                  score=1.0 - n / 10) for n, word in ((1, "de conseil"), (2, "d'innovation"), (3, "de formation"))]
    count = _hit(4, "Le financement des six pôles de compétitivité normands a été approuvé en 2020.", score=0.6)
    answer = compose_answer("combien de pôles de compétitivité en Normandie ?", topic + [count])
    assert not answer.abstained and "des six pôles de compétitivité normands a été approuvé en 2020. [4]" in answer.text
    # A title is the document's own words too: « Les six pôles… » answers, and leads the answer.
    titled = [replace(h, passage=replace(h.passage, title="Les six pôles de compétitivité normands")) for h in topic]
    answer = compose_answer("combien de pôles de compétitivité en Normandie ?", titled)
    assert answer.text.startswith("Les six pôles de compétitivité normands [1] Un pôle de compétitivité"), answer.text
    unseen = [*topic, _hit(4, "Les pôles accompagnent les projets d'innovation.", score=0.6),
              _hit(5, "Les pôles organisent des rencontres entre adhérents.", score=0.5), replace(count, rank=6)]
    assert compose_answer("combien de pôles de compétitivité en Normandie ?", unseen).outcome == "uncertain"


def test_a_table_read_as_one_line_is_quoted_by_the_row_asked_about():
    rows = [("Veille, information sur les marchés", "CCI Normandie et CCI territoriales", "réunions d'information"),
            ("Innovation, projets collaboratifs", "Pôles de compétitivité, AD Normandie", "montage de projets"),
            ("Approche suspecte, ingérence", "Services de l'État en région, gendarmerie", "conseil confidentiel"),
            ("Brevets, marques, dessins et modèles", "INPI, conseils en propriété industrielle", "diagnostic"),
            ("Cyberattaque en cours", "17Cyber, votre prestataire informatique", "premiers conseils")]
    table = "Votre besoin À qui vous adresser Ce que vous pouvez en attendre " + " ".join(" ".join(r) for r in rows)
    table += " " + " ".join(f"Ligne de démonstration numéro {n} sans objet" for n in range(8))
    assert len(table) > 450
    answer = compose_answer("qui contacter en cas d'approche suspecte ou d'ingérence ?", [_hit(1, table)])
    assert answer.text.startswith("… ") and "Approche suspecte, ingérence Services de l'État en région" in answer.text
    quoted = answer.text.removeprefix("… ").removesuffix(" [1]").removesuffix(" …")
    assert quoted in table and len(quoted.split()) <= 40, answer.text


def test_a_passage_followed_by_its_sub_sections_brings_their_first_items_under_their_own_mark():
    intro = replace(_hit(1, "Un déplacement à l'étranger expose l'entreprise à des risques particuliers. Quelques "
                            "précautions simples limitent fortement ces risques.").passage,
                    id="travel", section="Se protéger › Voyager à l'étranger")
    before = replace(intro, id="travel-before", section="Se protéger › Voyager à l'étranger › Avant le départ",
                     text="– Emportez un ordinateur dédié au voyage.\n– Chiffrez les données emportées.")
    hits = [Hit(passage=intro, score=1.0, rank=1, dense=0.9)]
    question = "quelles précautions pour un déplacement à l'étranger ?"
    answer = compose_answer(question, hits, max_sentences=2, first_child={intro: before}.get)
    assert answer.text.endswith("Quelques précautions simples limitent fortement ces risques. [1] Emportez un "
                                "ordinateur dédié au voyage. Chiffrez les données emportées. [2]"), answer.text
    assert [(q.rank, q.passage_id) for q in answer.quotes][-1] == (2, "travel-before")
    # Switched off, or with no sub-section after it, the passage's own sentences are the answer.
    with rules.switched_off("subsections"):
        assert compose_answer(question, hits, max_sentences=2, first_child={intro: before}.get).text.endswith(
            "limitent fortement ces risques. [1]")
    assert compose_answer(question, hits, max_sentences=2).text.endswith("limitent fortement ces risques. [1]")


def test_a_date_or_address_named_in_a_situation_is_not_asked_for():
    from assistant.asked import asked_value

    # The asker's own address, and dates in a file described before « je dois faire quoi ? ».
    assert asked_value("des mails ont l'air de venir de notre adresse mais c pas nous, on peut empecher ça ?") is None
    assert asked_value("un fichier clients avec noms et dates d'anniv, niveau rgpd je dois faire quoi ?") is None
    # Asked for, they still are: a bare request, a « quel », « comment trouver l'… ».
    assert asked_value("adresse postale de la mission intelligence economique").kind == "adresse"
    assert asked_value("comment trouver l'adresse de la CCI ?").kind == "adresse"
    assert asked_value("quelle est la date du webinaire, je dois m'inscrire comment ?").kind == "date"
    with rules.switched_off("mentioned"):
        assert asked_value("des mails ont l'air de venir de notre adresse, on peut empecher ça ?").kind == "adresse"


def test_a_courriel_received_is_a_message_not_an_address_asked_for():
    from assistant.asked import asked_value

    for message in ("on a reçu un courriel disant qu'on doit s'inscrire sur une plateforme, c'est vrai ?",
                    "des courriels bizarres arrivent de notre banque", "ils l'envoient par courriel ?",
                    "mon courriel a été piraté, je fais quoi ?"):
        assert asked_value(message) is None, message
    for request in ("quel est le courriel de la mission IE ?", "le courriel du délégué ?", "son courriel ?"):
        assert asked_value(request).kind == "courriel", request


def test_a_documents_details_are_not_quoted_unless_asked_for():
    from assistant.answer import is_field_line

    assert is_field_line("Éditeur : ANSSI — Thématique : Journalisation — Mise à jour : 2022-01-28")
    assert is_field_line("Source : conférence")
    assert not is_field_line("Lien : https://cyber.gouv.fr/guide-journalisation")  # where to read on
    assert not is_field_line("À retenir : centralisez les journaux sur un serveur dédié.")
    assert not is_field_line("Les journaux sont centralisés :")
    text = ("Éditeur : ANSSI — Thématique : Journalisation centralisée — Mise à jour : 2022-01-28\n"
            "Ce guide présente une architecture de journalisation centralisée des systèmes d'information.")
    hits = [_hit(1, text)]
    answer = compose_answer("éditeur et thématique du guide journalisation centralisée ?", hits)
    assert answer.text == ("Ce guide présente une architecture de journalisation centralisée des systèmes "
                           "d'information. [1]")
    # A question that asks for the date the line gives gets it.
    assert "2022-01-28" in compose_answer("date de mise à jour du guide journalisation ?", hits).text
    # The rule measured off: the details line, holding the question's words, is quoted.
    with rules.switched_off("fields"):
        assert "Thématique" in compose_answer("éditeur et thématique du guide journalisation centralisée ?", hits).text


def test_the_leading_passages_own_advice_is_quoted_with_it():
    text = ("Un mail demande de changer le RIB d'un fournisseur avant l'échéance. "
            "Ce mail de changement de RIB imite le fournisseur. "
            "Le RIB du fournisseur changé dans ce mail est celui des escrocs. "
            "Les périodes de congés sont les plus exposées. "
            "À retenir : appelez toujours un numéro déjà connu avant tout virement.")
    question = "un mail demande de changer le RIB d'un fournisseur, c'est grave ?"
    answer = compose_answer(question, [_hit(1, text)])
    assert answer.text.startswith("Un mail demande de changer le RIB")
    assert answer.text.endswith("À retenir : appelez toujours un numéro déjà connu avant tout virement. [1]"), answer.text
    with rules.switched_off("advice"):
        assert "À retenir" not in compose_answer(question, [_hit(1, text)]).text


def test_a_question_asking_what_to_do_is_answered_with_the_advice():
    text = ("Un rançongiciel chiffre les fichiers des serveurs et affiche une demande de rançon. "
            "Les fichiers chiffrés des serveurs restent illisibles sans la clé des attaquants. "
            "La demande de rançon arrive souvent un vendredi soir. "
            "Les PME sont les cibles les plus fréquentes. "
            "Isolez les postes touchés du réseau, sans les éteindre.")
    question = "les fichiers du serveur sont chiffrés avec une demande de rançon, on fait quoi ?"
    answer = compose_answer(question, [_hit(1, text)])
    assert "Isolez les postes touchés du réseau, sans les éteindre. [1]" in answer.text
    # The rule measured off: the sentences sharing the question's words take the three places.
    with rules.switched_off("directives"):
        assert "Isolez" not in compose_answer(question, [_hit(1, text)]).text
    # A question that asks for a fact is not one that asks what to do.
    assert "Isolez" not in compose_answer("quel jour arrive la demande de rançon des serveurs chiffrés ?",
                                          [_hit(1, text)]).text


@pytest.mark.parametrize("sentence, advises", [
    ("Désignez un référent, même à temps très partiel.", True),
    ("Ne payez pas de rançon et déposez plainte.", True),
    ("N'ouvrez pas les pièces jointes inattendues.", True),
    ("- Mettre en œuvre une solution de type EDR.", True),
    ("3. Sauvegarder et tester : appliquer la règle « 3-2-1 ».", True),
    ("Il est recommandé de chiffrer les disques.", True),
    ("Toute demande de changement de coordonnées bancaires doit être confirmée par un autre moyen.", True),
    ("Chez nous, chacun administre son poste.", False),
    ("Premier constat : les PME sont visées.", False),
    ("Fichier clients : les données sont exposées.", False),
    ("Le RGPD est une réglementation européenne.", False),
])
def test_a_sentence_that_advises_is_told_from_one_that_describes(sentence, advises):
    from assistant.french import DIRECTIVE

    assert bool(DIRECTIVE.search(sentence)) is advises


@pytest.mark.parametrize("question, asks", [
    ("tous les fichiers sont chiffrés, on fait quoi la tout de suite ??", True),
    ("quelles precautions prendre avec mon ordinateur au salon ?", True),
    ("par ou je commence pour la cyber ?", True),
    ("ma secretaire note les mdp dans un carnet, vous conseillez quoi ?", True),
    ("comment s'appelle le pole de competitivite de la logistique ?", False),
    ("quelle est la date du dernier bulletin ?", False),
])
def test_a_question_asking_what_to_do_is_told_from_one_asking_a_fact(question, asks):
    from assistant.asked import asks_advice
    from assistant.lexical import fold

    assert asks_advice(fold(question)) is asks


def test_an_issue_not_indexed_is_named_as_asked():
    from assistant.answer import period_not_found
    from assistant.dates import TimeHints

    def said(hints):
        return period_not_found("?", hints).text

    assert "(de 2027)" in said(TimeHints("2027-01-01", "2027-12-31"))
    assert "(de mars 2027)" in said(TimeHints("2027-03-01", "2027-03-31"))
    assert "(de mars 2027 à mai 2027)" in said(TimeHints("2027-03-01", "2027-05-31"))
    assert "(de janvier 2027 à décembre 2028)" in said(TimeHints("2027-01-01", "2028-12-31"))
    assert "(n° 60)" in said(TimeHints(number=60))


def test_a_long_question_weighs_its_length_in_the_certainty():
    hits = [_hit(1, "Activez la double authentification sur les comptes administrateurs de vos pages.", dense=0.80)]
    short = "page piratée ?"
    long = "notre page Facebook s'est fait pirater, on ne peut plus se connecter et ils publient des pubs à notre nom"
    certainty = Certainty(min_confidence=2.0, max_similarity=0.85, length_weight=1.0)
    assert compose_answer(short, hits, certainty, standing=0.5).outcome == "uncertain"
    assert compose_answer(long, hits, certainty, standing=0.5).outcome == "answered"
    assert compose_answer(long, hits, replace(certainty, length_weight=0.0), standing=0.5).outcome == "uncertain"


def _signal_row(name, scope, standing, words, phrases=("x",), margin=1.0, bank=0.0):
    from assistant.evaluate import EvalQuestion
    question = EvalQuestion(id="", question="", scope=scope, split="dev", phrases=phrases if name == "natural" else ())
    return {"set": name, "q": question, "margin": margin, "known": 1.0, "odds": {s: 0.0 for s in (0.1, 0.2, 0.5, 1.0,
            2.0, 5.0, 10.0, 20.0)}, "bank": bank, "best": standing, "dense": 0.8, "covered": 0.0,
            "length": math.log1p(words), "decided": False}


def test_calibration_learns_the_question_banks_weight_when_it_tells_off_topic_questions_apart():
    from assistant.evaluate import calibrate
    # Off-topic questions as near the index as answerable ones, but nearer the bank's off-topic questions.
    rows = ([_signal_row("natural", "answerable", 3.0, 12, margin=0.02 + i / 1000) for i in range(40)]
            + [_signal_row("natural", "off_topic", 3.0, 12, margin=0.03, bank=-0.05) for _ in range(10)])
    learnt = calibrate(rows)
    assert learnt["scope_bank_weight"] > 0 and learnt["scope_caught"] == 10
    # Without that difference the bank has nothing to add: its weight stays at 0.
    rows = [{**r, "bank": 0.0} for r in rows]
    assert calibrate(rows)["scope_bank_weight"] == 0.0


def test_calibration_learns_the_length_weight_within_every_sets_budget():
    from assistant.evaluate import calibrate
    # Near-domain questions short, answerable ones long, at the same standing: only the length tells them apart.
    blind = ([_signal_row("natural", "answerable", 3.0 + i / 100, 12) for i in range(40)]
             + [_signal_row("natural", "near", 3.0 + i / 100, 2) for i in range(10)])
    learnt = calibrate(blind)
    assert learnt["certainty_length"] > 0 and learnt["certainty_caught"] == 10
    # PIAF's answerable questions are short too: flagging the near ones would flag more than its budget of them.
    piaf = [_signal_row("piaf", "answerable", 3.0 + i / 100, 2) for i in range(40)]
    learnt = calibrate(blind + piaf)
    assert learnt["certainty_caught"] <= 2


def test_a_sentence_holding_questions_is_quoted_only_when_nothing_else_answers():
    hits = [_hit(1, "Formulez en quelques lignes votre question : « Un investisseur inconnu souhaite entrer au "
                    "capital ? », « Notre messagerie a été piratée ? ». "
                    "Avant d'accueillir un investisseur au capital, vérifiez l'identité de ses actionnaires.")]
    answer = compose_answer("un investisseur veut entrer au capital, que vérifier ?", hits, max_sentences=1)
    assert answer.text.startswith("Avant d'accueillir un investisseur au capital"), answer.text
    with rules.switched_off("questions"):
        answer = compose_answer("un investisseur veut entrer au capital, que vérifier ?", hits, max_sentences=1)
        assert answer.text.startswith("Formulez"), answer.text


def test_a_sentence_many_documents_repeat_is_not_quoted():
    from pathlib import Path

    import numpy as np

    from assistant.index import LoadedIndex
    from assistant.stages import Context

    disclaimer = ("Les Essentiels de l'ANSSI visent à éclairer l'ensemble de nos lecteurs sur les grands enjeux de la "
                  "cybersécurité.")
    guides = [Passage(id=f"g{i}", text=f"{disclaimer} Le guide {i} traite d'un sujet à part.", title=f"Guide {i}",
                      source=f"anssi/guide-{i}.md", doc_type="guide") for i in range(6)]
    cms = Passage(id="cms", text=f"{disclaimer} Mettez à jour le CMS et ses extensions dès leur publication.",
                  title="Mise en œuvre sécurisée d'un CMS", source="anssi/cms.md", doc_type="guide")
    index = LoadedIndex(folder=Path("x"), manifest={}, passages=[*guides, cms], vectors=None, lexical=None,
                        owners=np.zeros(0, dtype=np.int64))
    # In all seven documents, at least five: boilerplate. Each guide's own sentence is in one.
    assert len(index.boilerplate()) == 1
    searcher = type("Searcher", (), {"index": index, "place_not_covered": lambda self, question: None})()
    context = Context(searcher=searcher, certainty=Certainty(), standing=10.0)
    hits = [Hit(passage=cms, score=1.0, rank=1, dense=0.9)]
    answer = compose_answer("un guide de l'ANSSI pour sécuriser un CMS ?", hits, context=context)
    assert answer.text == "Mettez à jour le CMS et ses extensions dès leur publication. [1]", answer.text
    with rules.switched_off("boilerplate"):
        assert "Les Essentiels" in compose_answer("un guide de l'ANSSI pour sécuriser un CMS ?", hits,
                                                  context=context).text


def test_a_sentence_about_its_own_document_answers_only_a_question_on_the_document():
    hits = [_hit(1, "Si vous ne savez pas ce que préparent vos concurrents, ce mémo est fait pour vous. "
                    "Pour savoir ce que font vos concurrents, écoutez vos commerciaux après chaque visite.")]
    question = "comment savoir ce que préparent mes concurrents ?"
    answer = compose_answer(question, hits, max_sentences=1)
    assert answer.text.startswith("Pour savoir ce que font vos concurrents"), answer.text
    with rules.switched_off("about"):
        assert compose_answer(question, hits, max_sentences=1).text.startswith("Si vous ne savez pas"), answer.text
    # Asked about the memo itself, the sentence about it may lead.
    answer = compose_answer("ce mémo est fait pour qui, pour savoir ce que préparent les concurrents ?", hits,
                            max_sentences=1)
    assert answer.text.startswith("Si vous ne savez pas"), answer.text


def test_a_short_line_that_reads_as_a_heading_is_not_the_answer():
    hits = [_hit(1, "Trois questions pour commencer\nSavez-vous ce que prépareront vos concurrents ?"),
            _hit(2, "Sur un salon, décidez à l'avance ce que le stand montrera et ce qu'il taira.", score=0.8)]
    question = "comment eviter d'en dire trop sur un salon, trois questions a se poser ?"
    assert compose_answer(question, hits, max_sentences=1).text.startswith("Sur un salon"), question
    with rules.switched_off("headlines"):
        assert compose_answer(question, hits, max_sentences=1).text.startswith("Trois questions pour commencer")


def test_a_sentence_is_read_under_its_passage_heading():
    pole = Passage(id="nov", title="Les six pôles de compétitivité", source="pages/poles.html", doc_type="page",
                   section="NOV@LOG › Le lien avec l'intelligence économique",
                   text="Les chaînes logistiques concentrent des informations stratégiques sur les flux et les clients.")
    table = Passage(id="contacts", title="Mémo", source="memo.pdf", doc_type="memo", section="Qui contacter ?",
                    text="– Innovation, filières — À qui vous adresser : Pôles de compétitivité (Mov'eo, NOV@LOG).")
    hits = [Hit(passage=pole, score=1.0, rank=1, dense=0.9), Hit(passage=table, score=0.87, rank=2, dense=0.88)]
    question = "NOV@LOG quel rapport avec l'intelligence economique ?"
    assert compose_answer(question, hits, max_sentences=1).text.startswith("Les chaînes logistiques")
    with rules.switched_off("headings"):
        assert compose_answer(question, hits, max_sentences=1).text.startswith("– Innovation")


def test_a_question_on_whom_to_turn_to_prefers_the_sentence_that_names_a_contact():
    from assistant.asked import answer_shape

    for question in ("tous nos fichiers sont bloqués, qui j'appelle ???", "fuite de données, on prévient qui ?",
                     "a qui je dois en parler ?", "qui peut m'aider à faire un diagnostic ?"):
        assert answer_shape(question) is not None and answer_shape(question).search("contactez 17Cyber"), question
    hits = [_hit(1, "Les premiers réflexes :\n1. Isolez les postes touchés sans les éteindre.\n"
                    "2. Alertez votre prestataire informatique, puis contactez 17Cyber.")]
    answer = compose_answer("tous nos fichiers sont bloqués, qui j'appelle ?", hits, max_sentences=1)
    assert "contactez 17Cyber" in answer.text, answer.text
    # Asked what to do, the list of steps is quoted from its start.
    answer = compose_answer("tous nos fichiers sont bloqués, on fait quoi ?", hits, max_sentences=1)
    assert answer.text.startswith("Les premiers réflexes : 1. Isolez"), answer.text


STEPS = ("En cas de cyberattaque : les premiers réflexes\n"
         "1. Isolez les équipements touchés en les déconnectant du réseau, sans les éteindre.\n"
         "2. Alertez votre prestataire informatique et la direction, puis contactez 17Cyber.\n"
         "3. Conservez les preuves : messages reçus, fichiers de journalisation, demande de rançon.\n"
         "4. Ne payez pas de rançon et déposez plainte auprès de la police ou de la gendarmerie.\n"
         "5. Prévenez votre assureur et votre banque.")


def test_a_next_step_question_is_answered_with_the_steps_after_those_it_says_are_done():
    from assistant.followup import done_statement

    question = "ok on a tout débranché du réseau et alerté notre prestataire. et maintenant ?"
    assert done_statement(question) == "on a tout débranché du réseau et alerté notre prestataire"
    hits = [_hit(1, "Un rançongiciel chiffre les fichiers et réclame une rançon ; l'entreprise a été paralysée dix "
                    "jours après avoir débranché son réseau."),
            _hit(2, STEPS, score=0.9)]
    answer = compose_answer(f"{question} — le serveur est chiffré, on fait quoi ?", hits)
    # The steps after the last one done lead, in their order; those done are not quoted back.
    assert answer.text.startswith("3. Conservez les preuves")
    assert "4. Ne payez pas de rançon" in answer.text
    assert "1. Isolez" not in answer.text and "2. Alertez" not in answer.text
    with rules.switched_off("steps"):
        assert not compose_answer(f"{question} — le serveur est chiffré, on fait quoi ?", hits).text.startswith("3.")


@pytest.mark.parametrize("question", [
    "et ensuite ?",  # nothing said done
    "notre messagerie est piratée, on fait quoi maintenant ?",  # a situation, not a step done
    "Comment réagir à un rançongiciel ?",
])
def test_a_question_that_says_no_step_done_is_answered_as_before(question):
    from assistant.followup import done_statement

    assert done_statement(question) is None


def _guide_context(passages):
    from pathlib import Path

    import numpy as np

    from assistant.index import LoadedIndex
    from assistant.stages import Context

    index = LoadedIndex(folder=Path("x"), manifest={}, passages=passages, vectors=None, lexical=None,
                        owners=np.zeros(0, dtype=np.int64))
    searcher = type("Searcher", (), {"index": index, "place_not_covered": lambda self, question: None})()
    return index, Context(searcher=searcher, certainty=Certainty(), standing=10.0)


def test_a_guides_preamble_gives_way_to_its_recommendations():
    preamble = Passage(id="g0", title="Organiser un exercice de gestion de crise cyber", source="anssi/exercice.md",
                       doc_type="guide", text="Face à une menace toujours croissante, l'entraînement à la gestion de "
                                              "crise cyber est une nécessité pour toutes les organisations.")
    advice = Passage(id="g1", title=preamble.title, source=preamble.source, doc_type="guide",
                     text="Pour l'entraînement de l'équipe de direction à la gestion de crise cyber, un exercice sur "
                          "table de deux heures par an suffit.")
    other = Passage(id="o0", title="Autre guide", source="anssi/autre.md", doc_type="guide", text="Autre sujet.")
    index, context = _guide_context([preamble, advice, other])
    assert index.opens(preamble) and not index.opens(advice)
    assert not index.opens(other)  # a document of one passage has no preamble to skip
    question = "l'entraînement à la gestion de crise cyber, on s'y prend comment ?"
    hits = [Hit(passage=preamble, score=1.0, rank=1, dense=0.9), Hit(passage=advice, score=0.9, rank=2, dense=0.88)]
    answer = compose_answer(question, hits, max_sentences=1, context=context)
    assert answer.text.startswith("Pour l'entraînement de l'équipe de direction"), answer.text
    with rules.switched_off("preamble"):
        assert compose_answer(question, hits, max_sentences=1, context=context).text.startswith("Face à une menace")
    # A page that is not a guide opens on its answer (a Service-Public page): its first passage is read as any other.
    page = [Passage(**{**p.to_dict(), "doc_type": "autre", "source": "spf/F1.xml"}) for p in (preamble, advice)]
    _, context = _guide_context(page)
    hits = [Hit(passage=page[0], score=1.0, rank=1, dense=0.9), Hit(passage=page[1], score=0.9, rank=2, dense=0.88)]
    assert compose_answer(question, hits, max_sentences=1, context=context).text.startswith("Face à une menace")


def test_a_numbered_list_is_quoted_without_a_gap():
    steps = ("En cas de cyberattaque : les premiers réflexes\n"
             "1. Isolez les équipements touchés du réseau, sans les éteindre.\n"
             "2. Alertez votre prestataire informatique et la direction.\n"
             "3. Conservez les preuves : messages reçus, journaux, demande de rançon.\n"
             "4. Ne payez pas de rançon et déposez plainte.")
    question = "fichiers chiffrés, demande de rançon : on isole les équipements, on conserve les preuves ?"
    hits = [_hit(1, steps)]
    answer = compose_answer(question, hits)
    assert "1. Isolez" in answer.text and "3. Conservez" in answer.text, answer.text
    assert "2. Alertez" in answer.text, answer.text
    positions = [answer.text.index(f"{n}. ") for n in (1, 2, 3)]
    assert positions == sorted(positions), answer.text
    with rules.switched_off("gaps"):
        assert "2. Alertez" not in compose_answer(question, hits).text
    # No room for the missing item: what follows the gap goes rather than be quoted after it.
    long_step = "2. Alertez votre prestataire informatique et la direction" + ", puis vos clients" * 50 + "."
    hits = [_hit(1, steps.replace("2. Alertez votre prestataire informatique et la direction.", long_step))]
    answer = compose_answer(question, hits)
    assert "1. Isolez" in answer.text and "3. Conservez" not in answer.text and "2. Alertez" not in answer.text, \
        answer.text
