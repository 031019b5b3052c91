"""Retrieval quality with the real model on a small real subset: fails when retrieval regresses."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant import rules
from assistant.config import Settings, load_settings
from assistant.evaluate import EvalQuestion, local_matcher
from assistant.index import build_index
from assistant.service import Assistant
from conftest import ROOT

pytestmark = pytest.mark.model

SUBSET = ["corpus/strategie", "corpus/charte", "corpus/memo", "corpus/pages",
          "corpus/bulletins/bulletin-veille-2025-03.pdf", "corpus/bulletins/bulletin-veille-2026-03.pdf",
          "corpus/bulletins/bulletin-veille-2026-10.pdf"]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    base = load_settings()
    settings = Settings(index_dir=tmp_path_factory.mktemp("quality") / "index", cache_dir=base.cache_dir)
    paths = [ROOT / p for p in SUBSET]
    build_index(paths, settings, _embedder(settings), show_progress=False)
    return Assistant.load(settings, _embedder(settings))


_MODEL = {}


def _embedder(settings):
    if "e5" not in _MODEL:
        from assistant.embed import get_embedder

        _MODEL["e5"] = get_embedder(settings.model, settings.cache_dir, settings.encoder)
    return _MODEL["e5"]


def _subset_questions():
    """Every in-scope evaluation question whose gold document is in the subset."""
    names = {Path(p).name for p in SUBSET}
    names |= {f.name for p in SUBSET if (ROOT / p).is_dir() for f in (ROOT / p).iterdir()}
    out = []
    for line in (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if not row.get("in_scope", True) or not row.get("gold"):
            continue
        if row["gold"]["doc"] in names:
            gold = [row["gold"]] + list(row.get("alternatives") or [])
            out.append(EvalQuestion(id=row["id"], question=row["question"], gold=gold))
    return out


def test_recall_at_5_on_the_subset(assistant):
    questions = _subset_questions()
    assert len(questions) >= 40, "the evaluation set lost its questions on the subset"
    misses = []
    for q in questions:
        hits = assistant.searcher.search(q.question, k=5)
        if not any(local_matcher(h.passage, q) for h in hits):
            misses.append(q.question)
    recall = 1 - len(misses) / len(questions)
    assert recall >= 0.85, f"Recall@5 {recall:.3f} < 0.85 on {len(questions)} questions; missed: {misses[:10]}"


def test_three_practices_question_finds_the_programme_page(assistant):
    answer = assistant.ask("Quels sont les trois modes d'action de l'intelligence économique ?")
    assert not answer.abstained
    first = answer.hits[0].passage
    assert first.doc_type == "strategie" and first.section and first.title and first.source, first
    listing = [h.passage for h in answer.hits[:3] if "nticiper" in h.passage.text and "rotéger" in h.passage.text]
    assert listing, [h.passage.text[:80] for h in answer.hits]


def test_latest_bulletin_comes_first(assistant):
    hits = assistant.searcher.search("que dit le dernier bulletin de veille ?", k=3)
    assert hits[0].passage.date.startswith("2026-10"), [h.passage.date for h in hits]


def test_off_topic_questions_are_refused_with_no_passage(assistant):
    for question in ("Quelle est la recette de la tarte normande aux pommes ?",
                     "Qui a gagné le dernier match du Stade Malherbe de Caen ?",
                     "mon chat vomit des boules de poils c grave ?"):
        answer = assistant.ask(question)
        assert answer.outcome == "off_topic" and answer.abstained and not answer.hits, \
            (question, [h.passage.title for h in answer.hits])
        assert "Les documents indexés couvrent" in answer.text  # what is covered, said instead
    # Known miss: every word of it is the index's (« temps », « Rouen », « demain »); never answered, though.
    assert assistant.ask("Quel temps fera-t-il à Rouen demain ?").outcome != "answered"


def test_a_new_subject_off_topic_is_not_read_as_a_follow_up(assistant):
    previous = ["Comment sécuriser les ordinateurs portables avant un déplacement à l'étranger ?"]
    # It opens with « et », but its own words say enough, and they are off topic: read and refused alone.
    question = "et quels sont les horaires des marées au Mont-Saint-Michel pour dimanche prochain ?"
    answer = assistant.ask(question, history=previous)
    assert answer.outcome == "off_topic" and answer.understood_as is None, answer.understood_as
    with rules.switched_off("alone"):
        assert assistant.ask(question, history=previous).understood_as, "the rule `alone` measured nothing"
    # A real follow-up, off topic alone, keeps the turn before.
    follow_up = assistant.ask("et au retour ?", history=previous)
    assert follow_up.understood_as and follow_up.outcome != "off_topic", follow_up.understood_as


def test_questions_a_business_owner_asks_are_answered(assistant):
    # Refused with nothing shown before the three outcomes (issue « three outcomes »).
    for question in ("Mon entreprise a été victime d'un rançongiciel, que faire tout de suite ?",
                     "Comment savoir si un investisseur étranger qui veut racheter ma PME est fiable ?"):
        answer = assistant.ask(question)
        assert answer.outcome != "off_topic" and answer.hits, question


def test_who_to_contact_quotes_the_row_of_the_memo_contacts_table(assistant):
    # The memo's « Qui contacter ? » table read one row a line (readers.layout_tables): a row is quoted whole.
    answer = assistant.ask("qui contacter pour protéger une marque ?")
    assert "Brevets, marques, dessins et modèles — À qui vous adresser : INPI" in answer.text, answer.text


def test_near_domain_questions_are_uncertain_with_the_closest_passages(assistant):
    # On the documents' topics, asking what they do not hold: flagged, and the closest passages shown.
    answer = assistant.ask("Quel est le numéro de téléphone du délégué à la sécurité économique du Calvados ?")
    assert answer.outcome == "uncertain" and not answer.abstained and answer.hits, answer.text
    # It points to the contacts the documents give, none repeating what a passage shown already says.
    assert answer.contacts, answer.text
    shown = " ".join(" ".join(h.passage.text.split()) for h in answer.hits)
    assert not [c.text for c in answer.contacts if c.text.strip("… ") in shown], answer.contacts


def test_a_refusal_names_the_nearest_topics_and_a_contact_chosen_for_the_question(assistant):
    recipe = assistant.ask("Quelle est la recette de la tarte normande aux pommes ?")
    assert recipe.outcome == "off_topic" and len(recipe.nearest_topics) == 3
    # The programme's own address: a named cyber service (« contactez 17Cyber ») would answer another question.
    assert [c.text for c in recipe.contacts if "@" in c.text], recipe.contacts
    payload = recipe.to_dict()
    assert payload["nearest_topics"] == list(recipe.nearest_topics) and payload["contacts"][0]["title"]


def test_what_an_issue_holds_is_the_list_of_its_items(assistant):
    answer = assistant.ask("le dernier bulletin parle de quoi ?")
    assert answer.outcome == "answered"
    assert answer.text.startswith("Au sommaire de « Bulletin de veille collaborative n° 49 — octobre 2026 »"), answer.text
    sections = [h.passage.section for h in answer.hits]
    assert all(h.passage.source.endswith("bulletin-veille-2026-10.pdf") for h in answer.hits), sections
    expected = list(dict.fromkeys(p.section for p in assistant.index.passages
                                  if p.source.endswith("bulletin-veille-2026-10.pdf") and p.section
                                  and not p.points_elsewhere))
    assert sections == expected, "every item of the issue once, in the issue's order"
    assert answer.cited_ranks() == [h.rank for h in answer.hits]
    lines = answer.text.splitlines()[1:]
    assert len(lines) == len(expected) and all(line.startswith("– ") for line in lines), lines
    assert "INTELLIGENCE ÉCONOMIQUE TERRITORIALE" not in answer.text


def test_an_issue_rubric_lists_its_items_with_their_first_sentence(assistant):
    answer = assistant.ask("les sujets IA du bulletin de mars 2025")
    assert answer.text.startswith("Au sommaire de « Bulletin de veille collaborative n° 30 — mars 2025 », publié le 13 "
                                  "mars 2025, rubrique « Intelligence artificielle » :"), answer.text
    assert answer.hits and all(h.passage.section.startswith("Intelligence artificielle ›") for h in answer.hits)
    assert all(q.text in h.passage.text for q, h in zip(answer.quotes, answer.hits)), "each item's first sentence"


def test_a_question_on_a_topic_in_an_issue_is_searched_not_listed(assistant):
    from assistant import rules

    answer = assistant.ask("le dernier bulletin parle de quoi sur NIS 2 ?")
    assert not answer.text.startswith("Au sommaire") and "NIS" in answer.text, answer.text
    with rules.switched_off("contents"):
        assert not assistant.ask("le dernier bulletin parle de quoi ?").text.startswith("Au sommaire")


def test_what_the_issues_of_a_period_hold_is_one_line_an_issue(assistant):
    from assistant import rules

    answer = assistant.ask("les bulletins de 2026 parlaient de quoi dans l'ensemble ?")
    assert answer.outcome == "answered"
    assert answer.text.startswith("Au sommaire des 2 bulletins parus du 12 mars 2026 au 13 octobre 2026 :"), answer.text
    assert [h.passage.source[-11:] for h in answer.hits] == ["2026-03.pdf", "2026-10.pdf"], "oldest first"
    lines = answer.text.splitlines()[1:]
    assert [line.split(" : ")[0] for line in lines] == ["– n° 42 — mars 2026", "– n° 49 — octobre 2026"], lines
    assert answer.cited_ranks() == [1, 2]
    # Each line names the issue's first items and says how many more there are.
    first = [p.section.split(" › ")[-1] for p in assistant.index.passages
             if p.source.endswith("2026-03.pdf") and p.section and not p.points_elsewhere]
    assert lines[0].startswith(f"– n° 42 — mars 2026 : {first[0]}"), lines[0]
    assert re.search(r"; et \d+ autres\. \[1\]$", lines[0]), lines[0]
    with rules.switched_off("overview"):
        assert not assistant.ask("les bulletins de 2026 parlaient de quoi ?").text.startswith("Au sommaire des")


def test_a_rubric_over_a_period_lists_all_its_items_issue_by_issue(assistant):
    answer = assistant.ask("quels sujets IA dans les bulletins du premier semestre 2026 ?")
    # The first half of 2026 holds one issue of the subset: its own contents.
    assert answer.text.startswith("Au sommaire de « Bulletin de veille collaborative n° 42 — mars 2026 »"), answer.text
    answer = assistant.ask("quels sujets IA dans les bulletins de 2026 ?")
    assert answer.text.startswith("Au sommaire des 2 bulletins parus du 12 mars 2026 au 13 octobre 2026, rubrique "
                                  "« Intelligence artificielle » :"), answer.text
    for line, hit in zip(answer.text.splitlines()[1:], answer.hits):
        titles = list(dict.fromkeys(p.section.split(" › ")[1] for p in assistant.index.passages
                                    if p.source == hit.passage.source and p.section
                                    and p.section.startswith("Intelligence artificielle ›")))
        assert all(title.rstrip(". ") in line for title in titles), (line, titles)
    # A subject that is not a rubric is searched, not listed.
    answer = assistant.ask("les bulletins de 2026 parlaient de quoi sur NIS 2 ?")
    assert not answer.text.startswith("Au sommaire") and "NIS" in answer.text, answer.text


@pytest.mark.parametrize("question, lead", [
    ("résume-moi les deux derniers bulletins parus", " :"),
    ("que faut-il retenir côté cyber des bulletins de 2026 ?", ", rubrique « Cybersécurité » :"),
])
def test_the_last_issues_and_a_rubric_named_by_its_start(assistant, question, lead):
    text = assistant.ask(question).text
    assert text.startswith(f"Au sommaire des 2 bulletins parus du 12 mars 2026 au 13 octobre 2026{lead}"), text


def test_a_cover_is_never_the_quoted_answer(assistant):
    from assistant import rules

    question = "quels sujets blockchain et IA dans le numéro de mars 2026 ?"
    answer = assistant.ask(question)
    quoted = {q.passage_id for q in answer.quotes}
    covers = {h.passage.id for h in answer.hits if h.passage.points_elsewhere}
    assert answer.quotes and not quoted & covers, answer.text
    with rules.switched_off("covers"):
        assert assistant.ask(question).text != answer.text


def test_a_summary_of_an_issue_is_its_contents(assistant):
    for question in ("résume le numéro de mars 2026", "quel est le dernier bulletin paru et qu'est-ce qu'il contient ?"):
        assert assistant.ask(question).text.startswith("Au sommaire de « Bulletin de veille collaborative n° "), question
    # A follow-up turning to another rubric (« et côté blockchain ? ») lists that rubric's items.
    answer = assistant.ask("et côté blockchain ?", history=["quels sujets IA dans le numéro de mars 2026 ?"])
    assert answer.text.startswith("Au sommaire de « Bulletin de veille collaborative n° 42 — mars 2026 », publié le 12 "
                                  "mars 2026, rubrique « Blockchain »"), answer.text[:200]
    # A follow-up naming the next half of the year lists its issues (read « la période de … à … »).
    answer = assistant.ask("et au second ?", history=["quels sujets IA dans les bulletins du premier semestre 2026 ?"])
    assert answer.text.startswith("Au sommaire de « Bulletin de veille collaborative n° 49 — octobre 2026 »"), \
        (answer.understood_as, answer.text[:200])
    # A follow-up pointing back to another issue asks the same of it.
    answer = assistant.ask("et celui d'un an avant ?", history=["que contient le bulletin de mars 2026 ?"])
    assert answer.text.startswith("Au sommaire de « Bulletin de veille collaborative n° 30 — mars 2025 »"), \
        (answer.understood_as, answer.text[:200])


def test_a_word_the_documents_do_not_use_is_read_as_theirs(assistant):
    answer = assistant.ask("qu'est-ce que la veille a publié sur les deepfakes ?")
    assert answer.understood_as == "qu'est-ce que la veille a publié sur les hypertrucages ?"
    assert any("Hypertrucages" in (h.passage.section or "") for h in answer.hits[:3]), \
        [h.passage.section for h in answer.hits[:3]]


def test_what_the_bulletins_published_on_a_topic_lists_their_items_newest_first(assistant):
    from assistant import rules
    from assistant.answer import ARTICLES

    question = "qu'est-ce que les bulletins ont publié sur la post-quantique ?"
    answer = assistant.ask(question)
    assert answer.outcome == "answered" and ARTICLES in answer.text, answer.text
    quoted, listed = answer.text.split(f"\n{ARTICLES}\n")
    assert re.search(r"\[\d+\]", quoted), "the quotes come first, as in any answer"
    lines = listed.splitlines()
    by_rank = {h.rank: h.passage for h in answer.hits}
    items = [by_rank[int(re.search(r"\[(\d+)\]$", line)[1])] for line in lines]
    assert len(items) >= 2 and all(p.doc_type == "bulletin" for p in items), lines
    assert [p.date for p in items] == sorted((p.date for p in items), reverse=True), "newest first"
    assert len({(p.source, p.section) for p in items}) == len(items), "each item once"
    assert all("quantique" in f"{p.section} {p.text}".lower() for p in items), "items that treat the subject only"
    with rules.switched_off("articles"):
        assert ARTICLES not in assistant.ask(question).text
    # Items beyond the passages shown are listed too, marked after them.
    assert max(h.rank for h in answer.hits) == len(answer.hits)
    # A count of the items is answered by their list.
    answer = assistant.ask("combien d'articles des bulletins ont parlé du post-quantique ?")
    lead, *lines = answer.text.splitlines()
    assert answer.outcome == "answered" and lead == (f"Au moins {len(lines)} articles des bulletins indexés évoquent ce "
                                                     "sujet, du plus récent au plus ancien :"), answer.text
    assert len(lines) >= 2 and all("quantique" in line.lower() for line in lines), lines
    assert [int(re.search(r"\[(\d+)\]$", line)[1]) for line in lines] == list(range(1, len(lines) + 1)), \
        "the list is the answer: its marks in its order"
    assert assistant.ask("à quelle fréquence le post-quantique apparaît-il dans les bulletins ?").text.startswith(
        "Au moins ")
    # « combien de fois » without a publication word asks a number of the documents, as before. (The singular
    # « son mot de passe » sits on the scope's boundary on this 7-file index, 0.0002 under it: e5 puts it near the
    # background's « Le passeport d'un adulte est valable dix ans », 0.873; on the shipped index it is in scope.)
    answer = assistant.ask("combien de fois faut-il changer ses mots de passe ?")
    assert answer.outcome == "uncertain" and ARTICLES not in answer.text, answer.text
    # No subject named (« les bulletins de 2025 parlaient de quoi ? »): no list of arbitrary items.
    assert ARTICLES not in assistant.ask("les bulletins de 2025 parlaient de quoi ?").text


def test_a_word_of_the_documents_in_its_everyday_sense_is_off_topic(assistant):
    from assistant import rules

    question = "Je dois refaire ma charte graphique et mon logo, vous avez des idées de couleurs qui font sérieux ?"
    answer = assistant.ask(question)
    assert answer.outcome == "off_topic" and not answer.hits, [h.passage.title for h in answer.hits]
    # Read with « charte », it is drawn to the cyber charter: only the homonyms or the question bank keep it out.
    with rules.switched_off("homonyms", "bank"):
        assert assistant.ask(question).outcome != "off_topic"
    # The documents' own sense is answered.
    assert assistant.ask("que demande la charte cyber aux prestataires ?").outcome == "answered"


@pytest.mark.parametrize("question", ["quel ordinateur portable pour faire du montage vidéo ?",
                                      "comment motiver mon équipe commerciale ?"])
def test_a_question_nearer_questions_off_the_documents_is_off_topic(assistant, question):
    from assistant import rules

    # Everyday IT and management share words with the documents (« ordinateur », « équipe »): the question bank,
    # not the background of statements, tells them apart.
    assert assistant.ask(question).outcome == "off_topic"
    with rules.switched_off("bank"):
        assert assistant.ask(question).outcome != "off_topic"
    # The documents' own questions, as owners word them, stay answered.
    for own in ("mon fournisseur m'a envoyé un mail pour changer son RIB, c'est louche ?",
                "on part au salon de Shanghai avec nos commerciaux, on prend nos PC portables ?"):
        assert assistant.ask(own).outcome != "off_topic", own
