"""The chat in a real browser: Debian's chromium driven by Python playwright, against `assistant serve`.

One server for the session, with the real model over the shipped corpus plus a
hostile file (<script>, <img onerror>, a javascript: link). Every request not to
127.0.0.1 is aborted and counted. Screenshots go to tests/artifacts/ (git-ignored).
Outside CI the tests skip when chromium or playwright is missing; in CI they fail.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.chat import STARTERS
from conftest import HOSTILE, ROOT
from test_api import free_port, start_server, stop_server

pytestmark = pytest.mark.model

ARTIFACTS = ROOT / "tests" / "artifacts"
# A second folder for the screenshots, to look at them outside the work tree (ASSISTANT_SHOTS=/tmp/shots).
SHOTS = os.environ.get("ASSISTANT_SHOTS")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT = 30_000  # ms, for anything the server computes


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason} (.ci/run installs chromium and playwright)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium")
    if not path:
        _unavailable("no chromium on PATH (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _unavailable("python playwright is not installed")
    return path


# The whole shipped corpus, as `make run` indexes it (about 20 s more than a sample of it): the certainty reads how
# far a question's best passage stands above the rest of the index, and the starters are checked as users get them.
CORPUS = ["corpus"]


@pytest.fixture(scope="module")
def server(chromium_path, tmp_path_factory):
    """`assistant index` then `assistant serve`, as `make run` does, on a free port; stopped at the end."""
    base = tmp_path_factory.mktemp("browser")
    hostile = base / "hostile"
    hostile.mkdir()
    (hostile / "note-piegee.md").write_text(HOSTILE, encoding="utf-8")
    index_dir = base / "index"
    built = subprocess.run([str(Path(sys.executable).parent / "assistant"), "index", *CORPUS, str(hostile),
                            "--index-dir", str(index_dir), "-q"], cwd=ROOT, capture_output=True, text=True,
                           timeout=900, env={**os.environ, "ASSISTANT_MODEL": "e5-small"})
    assert built.returncode == 0, built.stdout + built.stderr
    db = base / "questions.sqlite3"
    port = free_port()
    process = start_server(index_dir, db, port, "e5-small", timeout=180)
    try:
        yield {"url": f"http://127.0.0.1:{port}", "db": db}
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def browser(chromium_path):
    """Closed at the end of the module: sync playwright keeps an event loop running in this thread."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() gives each run a fresh temporary profile (user-data-dir).
        instance = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


class Watch:
    """What a page tried that it should not: requests elsewhere, alert() dialogs."""

    def __init__(self):
        self.outside: list[str] = []
        self.dialogs: list[str] = []


def _open_chat(browser, server, viewport):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=viewport, locale="fr-FR")
    context.set_default_timeout(TIMEOUT)
    watch = Watch()

    def route(request_route):
        if request_route.request.url.startswith("http://127.0.0.1:"):
            request_route.continue_()
        else:
            watch.outside.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    tab = context.new_page()
    tab.on("dialog", lambda dialog: (watch.dialogs.append(dialog.message), dialog.dismiss()))
    tab.goto(server["url"] + "/")
    tab.wait_for_selector("#starters button:not([disabled])")  # enabled once the socket is up
    tab.watch = watch
    return context, tab, watch


@pytest.fixture(params=[pytest.param(DESKTOP, id="desktop")])
def page(browser, server, request):
    context, tab, watch = _open_chat(browser, server, request.param)
    yield tab
    context.close()
    assert watch.outside == [], f"the chat made requests outside the server: {watch.outside}"
    assert watch.dialogs == [], f"a script ran in the page: {watch.dialogs}"


@pytest.fixture(params=[pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")])
def any_page(browser, server, request):
    """The chat at desktop and at phone width: the test runs once for each."""
    context, tab, watch = _open_chat(browser, server, request.param)
    tab.width = "phone" if request.param is PHONE else "desktop"
    yield tab
    context.close()
    assert watch.outside == [], f"the chat made requests outside the server: {watch.outside}"
    assert watch.dialogs == [], f"a script ran in the page: {watch.dialogs}"


def shot(page, name: str) -> None:
    name = f"{name}-{page.width}" if hasattr(page, "width") else name
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def messages(page):
    return page.locator('[data-step-type="assistant_message"]')


def ask(page, question: str):
    """Type a question in #chat-input, send it, and return the answer's message."""
    before = messages(page).count()
    page.fill("#chat-input", question)
    page.wait_for_selector("#chat-submit:not([disabled])")
    page.press("#chat-input", "Enter")
    page.wait_for_function(f"document.querySelectorAll('[data-step-type=\"assistant_message\"]').length > {before}")
    return messages(page).last


def sources(answer) -> list[str]:
    """The items of an answer's « Sources » list (an answer may hold a list of its own before it)."""
    return answer.locator("xpath=.//*[normalize-space()='Sources']/following::ul[1]/li").all_inner_texts()


def open_passage(page, label: str, title_start: str) -> str:
    """Click a source button; return the side panel's text once the passage is there."""
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_function(
        "([start]) => document.querySelector('#side-view-title')?.innerText.startsWith(start)"
        " && document.querySelector('#side-view-content')?.innerText.includes('Source :')", arg=[title_start])
    return page.inner_text("#side-view-content")


def api_ask(server, question: str, **body) -> dict:
    import httpx

    return httpx.post(server["url"] + "/api/ask", json={"question": question, **body}, timeout=30).json()


def squash(text: str) -> str:
    return " ".join(text.split())


def test_welcome_is_french_and_lists_the_documents(page):
    text = page.inner_text("body")
    for expected in ("Posez vos questions sur l'intelligence économique en Normandie", "Documents indexés",
                     "34 documents", "26 bulletins de veille, de septembre 2024 à octobre 2026",
                     "le plus récent : Bulletin de veille collaborative n° 49",
                     *(s.message for s in STARTERS)):
        assert expected in text, f"{expected!r} not on the welcome screen"
    assert page.get_attribute("#chat-input", "placeholder") == "Posez votre question…"
    assert page.title() == "Assistant IE Normandie"
    shot(page, "01-accueil")


def test_side_panel_shows_the_passage_with_the_quote_highlighted(any_page, server):
    page = any_page
    question = "Que propose la charte cybersécurité aux prestataires ?"
    answer = ask(page, question)
    text = answer.inner_text()
    assert re.search(r"\[\d+\]", text.split("Sources")[0]), "the answer carries [n] marks"
    assert "Sources" in text and "Charte cybersécurité" in text and "document d'exemple" in text
    expected = api_ask(server, question)
    # The passage the answer quotes first (its section's head may be shown after another of its passages).
    mark = int(re.search(r"\[(\d+)\]", expected["answer"])[1])
    first = expected["passages"][mark - 1]
    assert first["source"].startswith("corpus/charte/")
    quoted = [q.strip() for q in re.split(r"\s*\[\d+\]\s*", expected["answer"]) if q.strip()]
    panel = squash(open_passage(page, f"[{mark}]", f"[{mark}] Charte"))
    # The passage comes first, its details after it on one line.
    assert panel.startswith(squash(first["text"])[:80]), panel[:200]
    assert panel.index(squash(first["text"])[-40:]) < panel.index(f"page {first['page']}")
    marks = [squash(m) for m in page.locator("#side-view-content mark").all_inner_texts()]
    assert marks, "the quoted sentences are highlighted"
    # The answer reads a list without its dashes; the highlighted run keeps them.
    highlighted = squash(re.sub(r"(?:^|\s)[–•-](?=\s)", " ", " ".join(marks)))
    assert any(squash(q)[:60] in highlighted for q in quoted), (marks, quoted)
    assert "Document d'exemple rédigé pour la démonstration" in panel
    page.wait_for_timeout(600)  # the panel slides in
    shot(page, "02-passage-surligne")

    if page.width == "phone":
        page.keyboard.press("Escape")  # the sheet covers the buttons
        page.wait_for_selector("#side-view-content", state="detached")
    with page.expect_response(lambda r: "/api/pages/" in r.url) as image_response:
        page.get_by_role("button", name=re.compile(rf"^PDF \[{mark}\] p\. \d+$")).click()
    assert image_response.value.status == 200 and image_response.value.headers["content-type"] == "image/png"
    page.wait_for_selector("#side-view-content .pdf-highlight")
    assert page.inner_text("#side-view-title").startswith(f"[{mark}] Charte cybersécurité")
    assert f"Page {first['page']} /" in page.inner_text("#side-view-content")
    assert "Loading" not in page.inner_text("body")
    # The page fits the panel: the image is no wider than the panel's content.
    widths = page.evaluate("""() => [document.querySelector('#side-view-content img').getBoundingClientRect().width,
                                    document.querySelector('#side-view-content').getBoundingClientRect().width]""")
    assert 0 < widths[0] <= widths[1], widths
    page.wait_for_timeout(500)
    shot(page, "03-pdf-a-la-page-surligne")


@pytest.mark.parametrize("starter", STARTERS, ids=[s.icon.rsplit("/", 1)[-1][:-4] for s in STARTERS])
def test_each_starter_is_answered_from_its_section(any_page, starter):
    page = any_page
    page.locator("#starters button", has_text=starter.message).click()
    page.wait_for_selector('[data-step-type="assistant_message"]')
    answer = messages(page).last
    text = answer.inner_text()
    assert page.locator('[data-step-type="user_message"]').last.inner_text().strip() == starter.message
    assert re.search(r"\[\d+\]", text.split("Sources")[0]), text[:300]
    assert "Réponse incertaine" not in text and "Sources" in text
    # Every source the answer quotes is listed under « Sources »: the first is from the starter's section, which
    # the source line names, or the answer itself when it lists the section's items (the line then leaves it out).
    cited = sources(answer)
    quoted = text.split("Sources")[0]
    assert cited and (starter.section in cited[0] or ("section «" not in cited[0] and starter.section in quoted)), \
        (starter.section, cited)
    answer.evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, f"11-suggestion-{starter.icon.rsplit('/', 1)[-1][:-4]}")


def test_typed_question_gets_an_answer(page):
    answer = ask(page, "Quels sont les trois modes d'action de l'intelligence économique ?")
    text = answer.inner_text()
    assert re.search(r"\[\d+\]", text) and "Sources" in text
    assert re.search(r"anticiper", text, re.I)
    assert page.get_by_role("button", name="[1]", exact=True).count() == 1


def test_off_topic_question_is_refused_honestly(page):
    answer = ask(page, "Quelle est la recette de la tarte normande aux pommes ?")
    text = answer.inner_text()
    assert text.startswith("Cette question ne semble pas porter sur les documents indexés")
    assert "Je peux répondre sur" in text and "Sources" not in text
    assert page.get_by_role("button", name="[1]", exact=True).count() == 0
    shot(page, "04-hors-sujet")


def test_uncertain_answer_is_flagged_and_shows_the_closest_passages(page):
    answer = ask(page, "Quel est le numéro de téléphone du délégué à la sécurité économique du Calvados ?")
    text = answer.inner_text()
    assert text.startswith("⚠️ Réponse incertaine."), text[:200]
    assert "Passages les plus proches (à vérifier)" in text and "Sources" not in text
    assert answer.locator("blockquote").count() == 1  # the warning stands apart from the quotes
    assert page.get_by_role("button", name="[1]", exact=True).count() == 1
    shot(page, "04b-incertaine")


def choose(page, select_id: str, option: str) -> None:
    page.click(f"#{select_id}")
    page.get_by_role("option", name=option, exact=True).click()


def set_filters(page, **choices) -> None:
    """Open the settings, choose each option, confirm."""
    page.click("#chat-settings-open-modal")
    for select_id, option in choices.items():
        choose(page, select_id, option)
    page.get_by_role("button", name="Confirmer").click()


def test_filters_are_shown_by_the_input_and_restrict_the_sources(any_page, server):
    page = any_page
    assert page.locator("#mode-picker-trigger-filtres").count() == 0, "no filters, no indicator"
    set_filters(page, doc_type="Bulletins de veille", date_from="septembre 2024", date_to="décembre 2024")
    indicator = page.locator("#mode-picker-trigger-filtres")
    indicator.wait_for()
    expected = "Filtres : bulletins de veille · de septembre 2024 à décembre 2024"
    assert squash(indicator.inner_text()).startswith("Filtres : bulletins"), indicator.inner_text()
    # The chip sits in the composer, beside the settings button.
    assert page.locator("#message-composer #mode-picker-trigger-filtres").count() == 1
    indicator.click()
    assert expected in squash(page.inner_text("#mode-picker-popover-filtres"))
    page.wait_for_timeout(300)  # the popover fades in
    shot(page, "05-filtres-indicateur")
    page.keyboard.press("Escape")
    answer = ask(page, "Quelles cyberattaques ont visé les entreprises ?")
    text = answer.inner_text()
    assert "Filtres actifs : bulletins de veille · de septembre 2024 à décembre 2024" in text
    items = answer.locator("li").all_inner_texts()
    assert items, f"no source listed:\n{text}"
    for item in items:
        assert re.search(r"Bulletin de veille collaborative n° 2[4-7] — \w+ 2024 — bulletin de veille", item), item
    shot(page, "06-reponse-filtree")
    set_filters(page, doc_type="Tous les documents", date_from="Sans limite", date_to="Sans limite")
    indicator.wait_for(state="detached")


def test_latest_bulletin_is_the_newest_within_the_period_filter(any_page):
    page = any_page
    set_filters(page, date_from="septembre 2024", date_to="décembre 2024")
    page.locator("#mode-picker-trigger-filtres").wait_for()
    answer = ask(page, "Que dit le dernier bulletin ?")
    text = answer.inner_text()
    quoted = text.split("Sources")[0]
    assert "Réponse incertaine" not in text and re.search(r"\[\d+\]", quoted), text[:300]
    # The answer lists the items, never its masthead; every source is that issue.
    assert "Au sommaire de « Bulletin de veille collaborative n° 27 — décembre 2024 »" in quoted, quoted
    assert "INTELLIGENCE ÉCONOMIQUE TERRITORIALE" not in quoted, quoted
    items = answer.locator("ul").first.locator("li").all_inner_texts()
    assert len(items) >= 3 and all(re.search(r"\[\d+\]$", item) for item in items), items
    cited = sources(answer)
    assert len(cited) == len(items), (items, cited)
    for item in cited:
        assert "Bulletin de veille collaborative n° 27 — décembre 2024" in item, item
    answer.evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, "12-dernier-bulletin-filtre")


def test_hostile_document_is_shown_as_text(page):
    answer = ask(page, "Que change la cellule piégée chaque trimestre ?")
    text = answer.inner_text()
    assert "<script>alert('xss')</script>" in text, "the script tag is shown as text"
    assert answer.locator("script, img[src='x'], a[href^='javascript']").count() == 0
    panel = open_passage(page, "[1]", "[1] Note piégée")
    assert "<img src=x onerror=\"alert('img')\">" in panel and "[lien piégé](javascript:alert('lien'))" in panel
    assert "<script>alert('titre')</script>" in page.inner_text("#side-view-title")
    assert page.locator("#side-view-content script, #side-view-content img, a[href^='javascript']").count() == 0
    page.wait_for_timeout(500)
    shot(page, "07-document-piege")


def test_thumbs_down_is_stored(page, server):
    from assistant.feedback import FeedbackStore

    ask(page, "Comment organiser une veille collaborative dans mon entreprise ?")
    page.locator("button.negative-feedback-off").last.click()
    page.fill('[role="dialog"] textarea', "Il manque un exemple concret.")
    page.click("#submit-feedback")
    page.wait_for_selector("button.negative-feedback-on")
    shot(page, "08-avis")
    rows = [q for q in FeedbackStore(server["db"]).questions()
            if q["question"] == "Comment organiser une veille collaborative dans mon entreprise ?"]
    assert rows and rows[-1]["feedback"] == 0 and rows[-1]["comment"] == "Il manque un exemple concret."
    assert rows[-1]["channel"] == "chat" and rows[-1]["passages"]


def test_thumb_is_recorded_when_its_comment_box_is_closed(any_page, server):
    from assistant.feedback import FeedbackStore

    page = any_page
    question = f"Comment organiser la veille dans ma PME ? ({page.width})"
    ask(page, question)
    page.locator("button.positive-feedback-off").last.click()
    page.wait_for_selector('[role="dialog"] #submit-feedback')
    # The box's × (its only button besides « Envoyer »).
    page.locator('[role="dialog"] button:not(#submit-feedback)').first.click()
    page.wait_for_selector('[role="dialog"]', state="detached")
    page.wait_for_selector("button.positive-feedback-on")
    shot(page, "08b-pouce-leve-ferme")
    rows = [q for q in FeedbackStore(server["db"]).questions() if q["question"] == question]
    assert rows and rows[-1]["feedback"] == 1 and rows[-1]["comment"] is None, rows[-1:]
    # Échap on the other thumb: recorded as well, and it replaces the first.
    page.locator("button.negative-feedback-off").last.click()
    page.wait_for_selector('[role="dialog"] #submit-feedback')
    page.keyboard.press("Escape")
    page.wait_for_selector("button.negative-feedback-on")
    rows = [q for q in FeedbackStore(server["db"]).questions() if q["question"] == question]
    assert rows[-1]["feedback"] == 0, rows[-1:]


def test_a_follow_up_question_is_read_with_the_previous_one(page):
    ask(page, "Comment adhérer à la charte cybersécurité ?")
    answer = ask(page, "et ça coûte combien ?")
    text = answer.inner_text()
    assert text.startswith("Compris comme : et ça coûte combien ? — Comment adhérer à la charte cybersécurité ?"), \
        text[:200]
    assert "Charte cybersécurité" in text, "the follow-up is answered from the charter"
    answer.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(400)
    shot(page, "10-question-de-suite")
