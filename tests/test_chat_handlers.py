"""The chat without a browser: rendering of answers, filters, the welcome, and the Chainlit handlers.

Rendering is tested on hand-made answers; the handlers run inside a Chainlit
context with a recording emitter (as Chainlit's own tests do), over a hash-model
index of the shipped corpus plus a hostile file.
"""
from __future__ import annotations

import asyncio
import importlib.util
import re
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant.catalog import Catalog
from assistant.chat import (
    ALL, STARTERS, answer_markdown, describe_filters, escape_markdown, filter_choices, filters_from_settings,
    not_found_markdown, passage_panel, pdf_panel, render_reply, welcome_markdown,
)
from assistant.schema import Answer, Hit, Passage, Quote
from assistant.search import Filters
from conftest import HOSTILE, ROOT



def passage(n: int, **kw) -> Passage:
    base = dict(id=f"p{n}", text=f"Texte du passage {n}.", title=f"Document {n}", source=f"corpus/doc{n}.pdf",
                doc_type="charte", page=n, date="2024-05-21", sample=True)
    base.update(kw)
    return Passage(**base)


def quotes_of(text: str) -> tuple[Quote, ...]:
    """The quotes of a hand-written answer: each piece with the [n] mark that closes it (« A. [1] B [2] »)."""
    quotes, start = [], 0
    for mark in re.finditer(r"\s*\[(\d+)\]", text):
        piece = text[start:mark.start()].strip()
        if piece:
            quotes.append(Quote(rank=int(mark[1]), text=piece))
        start = mark.end()
    return tuple(quotes)


def answer_with(text: str, passages: list[Passage], abstained: bool = False) -> Answer:
    hits = tuple(Hit(passage=p, score=1.0 - i / 10, rank=i + 1, dense=0.9) for i, p in enumerate(passages))
    return Answer(question="q ?", text=text, abstained=abstained, hits=hits, quotes=quotes_of(text))


# ---------------------------------------------------------------- rendering


def test_reply_has_marks_sources_and_one_button_per_source():
    answer = answer_with("Première phrase. [1] Seconde phrase. [2]", [passage(1), passage(2), passage(3)])
    reply = render_reply(answer, has_pdf=lambda p: True)
    assert reply.content.startswith(r"Première phrase\. \[1\] Seconde phrase\. \[2\]")
    assert "**Sources**" in reply.content and "**Autres passages trouvés**" in reply.content
    sources = reply.content.split("**Sources**")[1].split("**Autres passages trouvés**")[0]
    assert r"**\[1\]** Document 1 — charte — page 1 — 21 mai 2024 — _document d'exemple_" in sources
    assert "Document 3" not in sources, "only the cited passages are listed as sources"
    assert reply.content.count("_document d'exemple_") == 3, "each sample source carries the mark"
    labels = [b.label for b in reply.buttons]
    assert labels == ["[1]", "[2]", "[3]", "PDF [1] p. 1", "PDF [2] p. 2"], "PDF buttons for cited passages only"
    assert [b.passage_id for b in reply.buttons if b.kind == "pdf"] == ["p1", "p2"]
    assert reply.buttons[0].tooltip == "Lire le passage : Document 1 — charte — page 1 — 21 mai 2024"


def test_an_answer_in_lines_keeps_them():
    # An issue's contents: a lead, then its items as a list (Markdown would join single lines into one paragraph).
    text = "Au sommaire de « Bulletin n° 3 » :\n– Cybersécurité — Un titre. [1]\n– Blockchain — Un autre. [2]"
    reply = render_reply(answer_with(text, [passage(1), passage(2)]))
    assert reply.content.startswith("Au sommaire de « Bulletin n° 3 » \\:  \n\n- Cybersécurité — Un titre\\. \\[1\\]\n"
                                    "- Blockchain — Un autre\\. \\[2\\]\n"), reply.content[:200]



def test_a_source_the_answer_already_names_is_listed_without_its_section():
    # The list of an issue's items names each item: its source line does not repeat the section.
    text = "Au sommaire de « Bulletin n° 3 » :\n– Cybersécurité — Un titre. [1]\n– Un texte cité. [2]"
    answer = answer_with(text, [passage(1, section="Cybersécurité › Un titre"),
                                passage(2, section="Blockchain › Un autre")])
    sources = render_reply(answer).content.split("**Sources**")[1]
    assert r"**\[1\]** Document 1 — charte — page 1 — 21 mai 2024" in sources
    assert "Un titre" not in sources and "section « Blockchain › Un autre »" in sources, sources


def test_sources_and_buttons_come_in_mark_order():
    # Quotes may cite [3] before [2] (a list running over the next page): the sources still read [1] [2] [3].
    answer = answer_with("Une phrase. [1] Une liste. [3] Une autre. [2]", [passage(1), passage(2), passage(3)])
    reply = render_reply(answer, has_pdf=lambda p: False)
    assert [b.label for b in reply.buttons] == ["[1]", "[2]", "[3]"]
    sources = reply.content.split("**Sources**")[1]
    assert sources.index(r"**\[2\]**") < sources.index(r"**\[3\]**")
    assert "ouvrir le PDF" not in reply.content  # no PDF button, no word of one


def test_a_follow_up_says_how_it_was_understood():
    answer = replace(answer_with("Une phrase. [1]", [passage(1)]), question="et en 2025 ?",
                     understood_as="et en 2025 ? — les bulletins sur les rançongiciels")
    reply = render_reply(answer)
    assert reply.content.startswith("_Compris comme : et en 2025 ? — les bulletins sur les rançongiciels_")
    assert "Compris comme" not in render_reply(answer_with("Une phrase. [1]", [passage(1)])).content


def test_side_panels():
    p = passage(1, text="Préambule.\nIl faut agir :\n- vite ;\n- bien.\nAutre chose.")
    panel = passage_panel(p, 1, ["Il faut agir : vite ; bien."])
    assert (panel.title, panel.kind, panel.element) == ("[1] Document 1", "text", "Passage")
    marked = [s["text"] for s in panel.props["segments"] if s["mark"]]
    assert marked == ["Il faut agir :\n- vite ;\n- bien."], "the list quoted on one line is marked in the passage"
    assert "".join(s["text"] for s in panel.props["segments"]) == p.text, "the passage is shown whole"
    assert panel.props["details"] == "charte · page 1 · 21 mai 2024"
    assert panel.props["source"] == {"label": "corpus/doc1.pdf", "href": None}
    assert panel.props["sample"].startswith("Document d'exemple")
    assert not any(s["mark"] for s in passage_panel(p, 1, ["Une phrase que le passage n'a pas."]).props["segments"])
    pdf = pdf_panel(p, 2, "/api/sources/corpus/doc1.pdf", "/api/pages/{page}/corpus/doc1.pdf", 5)
    assert (pdf.title, pdf.kind, pdf.page, pdf.element) == ("[2] Document 1 — page 1", "pdf", 1, "PdfPage")
    assert (pdf.props["page"], pdf.props["pages"], pdf.props["boxes"]) == (1, 5, [])


def test_quotes_are_passed_to_the_source_buttons():
    answer = answer_with("Une phrase. [1] Une autre. [2] Et la suite. [1]", [passage(1), passage(2)])
    reply = render_reply(answer, has_pdf=lambda p: True)
    quotes = {(b.kind, b.rank): b.quotes for b in reply.buttons}
    assert quotes[("passage", 1)] == quotes[("pdf", 1)] == ("Une phrase.", "Et la suite.")
    assert quotes[("passage", 2)] == ("Une autre.",)


def test_reply_without_pdf_or_sample():
    p = passage(1, source="corpus/pages/p.html", doc_type="strategie", page=None, section="Les trois pratiques",
                sample=False, url="https://www.normandie.fr/ie")
    reply = render_reply(answer_with("Une phrase. [1]", [p]), has_pdf=lambda p: False)
    assert [b.kind for b in reply.buttons] == ["passage"]
    assert "document d'exemple" not in reply.content.lower()
    props = passage_panel(p, 1).props
    assert "section « Les trois pratiques »" in props["details"]
    assert props["source"] == {"label": "https://www.normandie.fr/ie", "href": "https://www.normandie.fr/ie"}


def test_abstention_is_honest_and_shows_no_passage():
    from assistant.answer import NOT_FOUND

    reply = render_reply(answer_with(NOT_FOUND, [], abstained=True), filters=Filters(doc_types=("bulletin",)))
    assert reply.buttons == ()
    assert reply.content.startswith("Je n'ai trouvé dans les documents indexés aucun passage")
    assert "filtres (bulletins de veille)" in reply.content
    assert "[1]" not in reply.content


def test_off_topic_keeps_its_own_reason():
    # An off-topic question: the chat says why, then lists what it covers on its own.
    from assistant.answer import off_topic

    answer = off_topic("recette de la blanquette ?", "Les documents indexés couvrent : 1 mémo.")
    assert answer.outcome == "off_topic" and answer.abstained and answer.hits == ()
    reply = render_reply(answer, catalog=Catalog(documents=(), passages=0, doc_types=()))
    assert reply.content.startswith(escape_markdown(answer.reason)) and reply.buttons == ()
    assert "Les documents indexés couvrent" not in reply.content and "Je peux répondre sur" in reply.content


def test_uncertain_answer_is_flagged_and_shows_the_closest_passages():
    from assistant.answer import CLOSEST

    reason = "Les documents indexés ne donnent pas ce montant : aucun des passages trouvés ne l'indique."
    p = passage(1, text="La Région finance des diagnostics.")
    answer = replace(answer_with(f"{reason} {CLOSEST} La Région finance des diagnostics. [1]", [p]),
                     outcome="uncertain", reason=reason)
    reply = render_reply(answer, has_pdf=lambda p: False)
    assert reply.content.startswith("> ⚠️ **Réponse incertaine.** " + escape_markdown(reason))
    assert "**Passages les plus proches (à vérifier)**" in reply.content and "**Sources**" not in reply.content
    assert escape_markdown("La Région finance des diagnostics. [1]") in reply.content
    assert [b.label for b in reply.buttons] == ["[1]"]
    # No PDF button, no word of a PDF.
    assert "PDF" not in reply.content


def test_document_text_is_escaped():
    p = passage(1, text=HOSTILE, title="<b>titre</b> [x](javascript:alert(1))")
    reply = render_reply(answer_with(HOSTILE + " [1]", [p]))
    rendered = reply.content
    assert not re.search(r"(?<!\\)[<>\[\]()]", rendered), "an unescaped HTML or link character"
    assert r"\<script\>" in rendered and r"\<img src\=x onerror\=" in rendered


def test_escape_markdown_keeps_plain_words():
    assert escape_markdown("Région Normandie") == "Région Normandie"
    assert escape_markdown("a*b_c") == "a\\*b\\_c"


def test_filters_from_settings():
    assert filters_from_settings({}) == Filters()
    assert filters_from_settings({"doc_type": ALL, "practice": ALL, "topic": ALL,
                                  "date_from": ALL, "date_to": ALL}) == Filters()
    f = filters_from_settings({"doc_type": "bulletin", "practice": "se-proteger", "topic": "cybersecurite",
                               "date_from": "2024-01", "date_to": "2024-12"})
    assert f == Filters(doc_types=("bulletin",), practices=("se-proteger",), topics=("cybersecurite",),
                        date_from="2024-01-01", date_to="2024-12-31")
    assert describe_filters(f) == ("bulletins de veille · Se protéger · Cybersécurité · "
                                   "de janvier 2024 à décembre 2024")
    swapped = filters_from_settings({"date_from": "2025-02", "date_to": "2024-02"})
    assert (swapped.date_from, swapped.date_to) == ("2024-02-01", "2025-02-28")
    junk = filters_from_settings({"doc_type": "<script>", "date_from": "2024-13", "practice": 3})
    assert junk == Filters()


def test_starters_are_questions_that_show_what_they_ask():
    labels = [s.label for s in STARTERS]
    assert len(set(labels)) == len(labels) >= 4
    for starter in STARTERS:
        assert starter.label == starter.message and starter.message.endswith("?"), starter
        assert starter.section, f"{starter.message!r} names the section that answers it"
    icons = {s.icon for s in STARTERS}
    for practice in ("anticiper", "influencer", "se-proteger", "bulletins"):
        assert f"/public/{practice}.svg" in icons, f"no starter on {practice}"


# ---------------------------------------------------------------- over a real corpus (hash model)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    from assistant.api import Runtime, set_runtime
    from assistant.config import Settings
    from assistant.embed import HashEmbedder
    from assistant.feedback import FeedbackStore
    from assistant.index import build_index
    from assistant.service import Assistant

    base = tmp_path_factory.mktemp("chat")
    hostile = base / "hostile"
    hostile.mkdir()
    (hostile / "note-piegee.md").write_text(HOSTILE, encoding="utf-8")
    settings = Settings(index_dir=base / "index", model="hash")
    build_index([ROOT / "corpus", hostile], settings, HashEmbedder(), show_progress=False)
    rt = Runtime.create(Assistant.load(settings, HashEmbedder()), FeedbackStore(base / "questions.sqlite3"))
    set_runtime(rt)
    yield rt
    set_runtime(None)


def test_catalog_and_welcome(runtime):
    catalog = runtime.catalog
    files = runtime.assistant.index.manifest["files"]
    assert len(catalog.documents) == len(files) == 34
    bulletins = catalog.of_type("bulletin")
    assert len(bulletins) == 26 and bulletins[0].date.startswith("2026-10")
    welcome = welcome_markdown(catalog)
    assert "34 documents" in welcome and f"{catalog.passages} passages" in welcome
    assert "26 bulletins de veille, de septembre 2024 à octobre 2026" in welcome
    assert "le plus récent : Bulletin de veille collaborative n° 49 — octobre 2026" in welcome
    assert "1 charte : « Charte cybersécurité" in welcome
    assert r"\<script\>" in welcome and not re.search(r"(?<!\\)<", welcome), "titles are document text too"
    assert "documents d’exemple" in welcome
    choices = filter_choices(catalog)
    assert [c.value for c in choices.months][:2] == [ALL, "2024-09"] and choices.months[-1].value == "2026-10"
    assert "bulletin" in [c.value for c in choices.doc_types]
    assert "Je peux répondre sur" in not_found_markdown(catalog)


def test_filters_restrict_the_passages(runtime):
    filters = filters_from_settings({"doc_type": "bulletin", "date_from": "2024-01", "date_to": "2024-12"})
    answer = runtime.ask("rançongiciels et cyberattaques", k=5, filters=filters)
    assert answer.hits, "the 2024 bulletins discuss attacks"
    for hit in answer.hits:
        assert hit.passage.doc_type == "bulletin" and hit.passage.date.startswith("2024"), hit.passage
    themed = runtime.ask("sécurité", k=5, filters=Filters(practices=("se-proteger",), topics=("cybersecurite",)))
    for hit in themed.hits:
        assert (hit.passage.practice, hit.passage.topic) == ("se-proteger", "cybersecurite")


# ---------------------------------------------------------------- the Chainlit handlers


def _load_app():
    spec = importlib.util.spec_from_file_location("app_under_test", ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Recorder:
    """A Chainlit emitter that keeps what would go to the browser."""

    def __new__(cls, session):
        from chainlit.emitter import BaseChainlitEmitter

        class Recorder(BaseChainlitEmitter):
            def __init__(self, session):
                super().__init__(session)
                self.steps, self.elements, self.events, self.settings = [], [], [], None

            async def send_step(self, step_dict):
                self.steps.append(step_dict)

            async def send_element(self, element_dict):
                self.elements.append(element_dict)

            async def emit(self, event, data):
                self.events.append((event, data))

            def set_chat_settings(self, settings):
                self.settings = settings

        return Recorder(session)


def _run_in_context(coroutine_factory):
    """Run handlers in one Chainlit HTTP session; returns the recorder."""
    from chainlit.context import ChainlitContext, context_var
    from chainlit.session import HTTPSession

    async def main():
        session = HTTPSession(id="test-session", thread_id="test-thread", client_type="webapp")
        recorder = _Recorder(session)
        context_var.set(ChainlitContext(session, emitter=recorder))
        await coroutine_factory()
        return recorder

    return run_async(main())


def run_async(coroutine):
    """asyncio.run in a thread of its own: independent of any loop left running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def app(runtime):
    return _load_app()


def test_chat_start_sends_filters_and_no_message(app):
    recorder = _run_in_context(app.start)
    assert recorder.steps == [], "a message in on_chat_start would hide the starters"
    (event, widgets), = [e for e in recorder.events if e[0] == "chat_settings"]
    ids = [w["id"] for w in widgets]
    assert ids == ["doc_type", "practice", "topic", "date_from", "date_to"]
    doc_types = next(w for w in widgets if w["id"] == "doc_type")
    assert {"label": "Bulletins de veille", "value": "bulletin"} in doc_types["items"]


def _assistant_outputs(recorder) -> list[dict]:
    return [s for s in recorder.steps if s.get("type") == "assistant_message"]


def test_message_gets_an_answer_with_source_buttons(app, runtime):
    import chainlit as cl

    async def ask():
        await app.start()
        await app.on_message(cl.Message(content="Que propose la charte cybersécurité aux prestataires ?"))

    recorder = _run_in_context(ask)
    (step,) = _assistant_outputs(recorder)
    assert re.search(r"\\\[\d+\\\]", step["output"]) and "**Sources**" in step["output"]
    actions = [data for event, data in recorder.events if event == "action"]
    assert actions and all(a["forId"] == step["id"] and a["name"] == app.OPEN_SOURCE for a in actions)
    kinds = {a["payload"]["kind"] for a in actions}
    assert kinds == {"passage", "pdf"}, "the charter is a PDF: a second button opens it"
    logged = runtime.store.questions()[-1]
    assert logged["message_id"] == step["id"] and logged["channel"] == "chat" and logged["passages"]
    assert logged["passages"][0]["source"].startswith("corpus/charte/")


def test_source_button_opens_the_side_panel(app, runtime):
    import chainlit as cl

    charter = next(p for p in runtime.passages.values() if p.source.startswith("corpus/charte/") and p.page == 2)

    def click(kind, passage_id):
        return app.open_source(cl.Action(name=app.OPEN_SOURCE, payload={"kind": kind, "passage": passage_id,
                                                                       "rank": 1}))

    async def clicks():
        await click("passage", charter.id)
        await click("pdf", charter.id)
        await click("passage", "disparu")

    recorder = _run_in_context(clicks)
    assert not [e for e in recorder.events if e[0] == "element"], "no message element: Chainlit would close the panel"
    panels = [data for event, data in recorder.events if event == "set_sidebar_elements"]
    titles = [data for event, data in recorder.events if event == "set_sidebar_title"]
    assert titles[0] == f"[1] {charter.title}" and titles[1] == f"[1] {charter.title} — page 2"
    (text,), (pdf,) = panels[0]["elements"], panels[1]["elements"]
    assert text["type"] == "custom" and text["name"] == "Passage"
    assert "".join(s["text"] for s in text["props"]["segments"]) == charter.text
    assert pdf["type"] == "custom" and pdf["name"] == "PdfPage" and pdf["props"]["page"] == 2
    assert pdf["props"]["pdf"].startswith("/api/sources/corpus/charte/") and pdf["props"]["pages"] >= 2
    assert {text["display"], pdf["display"]} == {"page"}
    (gone,) = _assistant_outputs(recorder)
    assert "n'est plus dans l'index" in gone["output"]


def test_settings_update_filters_the_next_answer(app, runtime):
    import chainlit as cl

    async def ask():
        await app.start()
        await app.settings_update({"doc_type": "bulletin", "practice": ALL, "topic": ALL,
                                   "date_from": "2024-09", "date_to": "2024-12"})
        await app.on_message(cl.Message(content="Quelles menaces informatiques pour les entreprises ?"))

    recorder = _run_in_context(ask)
    (step,) = _assistant_outputs(recorder)
    assert "_Filtres actifs : bulletins de veille · de septembre 2024 à décembre 2024_" in step["output"]
    logged = runtime.store.questions()[-1]
    assert logged["filters"] == {"doc_types": ["bulletin"], "date_from": "2024-09-01", "date_to": "2024-12-31"}
    assert logged["passages"]
    for hit in logged["passages"]:
        assert hit["source"].startswith("corpus/bulletins/bulletin-veille-2024-"), hit


def test_empty_and_oversized_messages(app):
    import chainlit as cl

    async def ask():
        await app.start()
        await app.on_message(cl.Message(content="   "))
        await app.on_message(cl.Message(content="x" * 2001))

    recorder = _run_in_context(ask)
    outputs = [s["output"] for s in _assistant_outputs(recorder)]
    assert "vide" in outputs[0] and "2001 caractères" in outputs[1]
    assert not [e for e in recorder.events if e[0] == "action"]


def test_feedback_is_stored_through_the_data_layer(app, runtime):
    from chainlit.types import Feedback

    from assistant.feedback import chainlit_data_layer

    layer = chainlit_data_layer(runtime.store)
    answer = runtime.ask("Question sans réponse utile ?")
    runtime.record(answer, channel="chat", filters=None, k=None, message_id="msg-42")

    async def thumbs():
        feedback_id = await layer.upsert_feedback(Feedback(forId="msg-42", value=0, comment="rien d'utile"))
        return feedback_id

    feedback_id = run_async(thumbs())
    row = next(q for q in runtime.store.questions() if q["message_id"] == "msg-42")
    assert row["feedback"] == 0 and row["comment"] == "rien d'utile"
    report = runtime.store.report()
    assert any(r.question == "Question sans réponse utile ?" and r.thumbs_down == 1 for r in report)
    assert run_async(layer.delete_feedback(feedback_id))
    assert next(q for q in runtime.store.questions() if q["message_id"] == "msg-42")["feedback"] is None


def test_list_items_quoted_one_after_another_show_one_a_line():
    steps = "1. Isolez les équipements. [1] 2. Alertez votre prestataire. [1] 3. Conservez les preuves. [1]"
    assert answer_markdown(steps).splitlines() == [
        escape_markdown("1. Isolez les équipements. [1]") + "  ", escape_markdown("2. Alertez votre prestataire. [1]")
        + "  ", escape_markdown("3. Conservez les preuves. [1]")]
    bullets = answer_markdown("Deux titres protègent. [2] – Le brevet protège une invention. [1] "
                              "– La marque, un nom. [1]")
    assert bullets.splitlines()[-2:] == ["- " + escape_markdown("Le brevet protège une invention. [1]"),
                                         "- " + escape_markdown("La marque, un nom. [1]")]
    # A sentence that opens on a number is not a list item: it stays in its paragraph.
    assert len(answer_markdown("Le guide est paru. [1] 3 entreprises sur 4 l'appliquent. [2]").splitlines()) == 1
