"""Chainlit handlers only: retrieval lives in assistant.service, rendering in assistant.chat.

Served by `assistant serve` (or `make run`), which loads the index and the model
once and mounts this file in the same process as the HTTP API.
"""
from __future__ import annotations

import logging
import warnings

import chainlit as cl
from chainlit.input_widget import Select
from chainlit.mode import Mode, ModeOption

from assistant.api import get_runtime
from assistant.chat import (
    ALL, MAX_QUESTION_CHARS, PRODUCT_NAME, STARTERS, filter_choices, filters_from_settings, filters_indicator,
    passage_panel, pdf_panel, render_reply, welcome_markdown,
)
from assistant.feedback import chainlit_data_layer
from assistant.highlight import page_boxes, page_count
from assistant.followup import HISTORY_KEPT
from assistant.search import Filters

log = logging.getLogger("assistant.chat")
# Chainlit 2.12 calls the profiles coroutine from a running loop to read per-profile
# config overrides (we have none) and drops it: silence its warning, not the others.
warnings.filterwarnings("ignore", message="coroutine 'chat_profiles' was never awaited", category=RuntimeWarning)
OPEN_SOURCE = "ouvrir_source"
# Quotes of one source highlighted at most (an answer has three sentences and a list).
MAX_QUOTES = 12


@cl.data_layer
def data_layer():
    """Only the thumbs are stored (see assistant/feedback.py); Chainlit shows them only with a data layer."""
    return chainlit_data_layer(get_runtime().store)


@cl.set_chat_profiles
async def chat_profiles(user=None, language=None):
    """A single profile: its description is the welcome screen, listing what the index holds."""
    runtime = get_runtime()
    runtime.refresh()  # a re-index shows in the welcome of the next sessions
    return [cl.ChatProfile(name=PRODUCT_NAME, markdown_description=welcome_markdown(runtime.catalog),
                           icon="/public/icone.svg", default=True)]


@cl.set_starters
async def starters(user=None, language=None):
    """Suggested first questions: one per practice, one for the bulletins."""
    return [cl.Starter(label=s.label, message=s.message, icon=s.icon) for s in STARTERS]


def _select(id_: str, label: str, choices, description: str | None = None) -> Select:
    return Select(id=id_, label=label, items={c.label: c.value for c in choices}, initial_value=ALL,
                  description=description)


@cl.on_chat_start
async def start():
    """Send the filters panel; no message, so the starters stay visible."""
    choices = filter_choices(get_runtime().catalog)
    await cl.ChatSettings([
        _select("doc_type", "Type de document", choices.doc_types),
        _select("practice", "Pratique", choices.practices),
        _select("topic", "Thème", choices.topics),
        _select("date_from", "Publiés à partir de", choices.months,
                "Période de publication : les documents sans date sont alors exclus."),
        _select("date_to", "Publiés jusqu'à", choices.months),
    ]).send()
    cl.user_session.set("filters", Filters())
    cl.user_session.set("history", [])
    await _show_filters(Filters())


@cl.on_settings_update
async def settings_update(values: dict):
    """Keep the filters chosen in the settings panel for the next questions, and show them by the input."""
    filters = filters_from_settings(values)
    cl.user_session.set("filters", filters)
    await _show_filters(filters)


async def _show_filters(filters: Filters) -> None:
    """The active filters, shown beside the settings button under the input (Chainlit's composer « modes »)."""
    indicator = filters_indicator(filters)
    modes = [] if indicator is None else [Mode(id="filtres", name="Filtres", options=[
        ModeOption(id="actifs", name=indicator.label, description=indicator.description, icon="filter",
                   default=True)])]
    await cl.context.emitter.set_modes(modes)


@cl.on_message
async def on_message(message: cl.Message):
    """Answer with cited passages; every question goes to the questions log."""
    question = message.content.strip()
    if not question:
        await cl.Message(content="Votre message est vide : posez une question en français.").send()
        return
    if len(question) > MAX_QUESTION_CHARS:
        await cl.Message(content=f"Votre question fait {len(question)} caractères : au plus {MAX_QUESTION_CHARS}. "
                                 "Raccourcissez-la pour que la recherche reste précise.").send()
        return
    runtime = get_runtime()
    client = _client_address()
    wait = runtime.limiter.wait_time(client)
    if wait:
        await cl.Message(content=f"Vous posez beaucoup de questions à la suite (au plus {runtime.limiter.per_minute} "
                                 f"par minute) : réessayez dans {max(1, round(wait + 0.5))} s.").send()
        return
    filters = cl.user_session.get("filters") or Filters()
    # The conversation's previous questions: a follow-up (« et en 2025 ? ») is read with the previous topic.
    history = list(cl.user_session.get("history") or [])
    answer = await cl.make_async(runtime.ask)(question, None, filters, history)
    cl.user_session.set("history", (history + [question])[-HISTORY_KEPT:])
    reply = render_reply(answer, filters=filters, catalog=runtime.catalog, has_pdf=runtime.has_pdf)
    actions = [cl.Action(name=OPEN_SOURCE, label=b.label, tooltip=b.tooltip,
                         icon="file-text" if b.kind == "pdf" else "text-quote",
                         payload={"kind": b.kind, "passage": b.passage_id, "rank": b.rank, "quotes": list(b.quotes)})
               for b in reply.buttons]
    reply_message = cl.Message(content=reply.content, actions=actions)
    await reply_message.send()
    # The thumbs under an answer refer to the run step Chainlit wraps on_message in.
    run = cl.context.current_run
    feedback_id = run.id if run else reply_message.id
    await cl.make_async(runtime.record)(answer, channel="chat", filters=filters, k=None,
                                        session_id=cl.context.session.id, message_id=feedback_id, client=client)


def _client_address() -> str:
    """The chat user's address, so the chat and the API share one question budget per client.

    Read from the ASGI scope the chat's socket connected with, where api._RealClient has put the client
    behind a trusted proxy: the socket's WSGI-style REMOTE_ADDR is always 127.0.0.1 (python-engineio's
    ASGI driver writes that constant), which gave every chat user one shared budget.
    """
    environ = getattr(cl.context.session, "environ", None) or {}
    client = (environ.get("asgi.scope") or {}).get("client")
    return (client[0] if client else None) or f"session:{cl.context.session.id}"


@cl.action_callback(OPEN_SOURCE)
async def open_source(action: cl.Action):
    """Show one source in the side panel: the passage with the quoted runs marked, or its PDF's cited page.

    Not as display="side" elements of the message: Chainlit 2.12 then opens the
    panel by itself on every answer with all the side elements of the conversation
    stacked. And not through ElementSidebar.set_elements either, which first sends
    each element as a message element, so that Chainlit closes the panel again if
    the two events cross. The element is a custom one (public/elements/): the passage
    comes as props, the PDF page as an image the panel's width from the API.
    The quotes come back with the button's payload: they only mark text the passage has.
    """
    runtime = get_runtime()
    passage = runtime.passages.get(str(action.payload.get("passage")))
    rank = action.payload.get("rank")
    rank = rank if isinstance(rank, int) else 0
    quotes = tuple(q for q in (action.payload.get("quotes") or ()) if isinstance(q, str))[:MAX_QUOTES]
    if passage is None:
        await cl.Message(content="Ce passage n'est plus dans l'index (il a été reconstruit depuis) : "
                                 "reposez la question.").send()
        return
    path = runtime.pdf_path(passage.source) if action.payload.get("kind") == "pdf" else None
    if path is not None:
        pages, boxes = await cl.make_async(_pdf_page)(path, passage.page, quotes)
        panel = pdf_panel(passage, rank, runtime.pdf_url(passage), runtime.page_image_url(passage), pages, boxes)
    else:
        panel = passage_panel(passage, rank, quotes)
    element = cl.CustomElement(name=panel.element, props=panel.props, display="page")
    await cl.context.emitter.emit("set_sidebar_elements",
                                  {"elements": [element.to_dict()], "key": f"{panel.kind}:{passage.id}"})
    await cl.ElementSidebar.set_title(panel.title)


def _pdf_page(path, page: int | None, quotes: tuple[str, ...]):
    """The PDF's page count and the boxes of the quotes on the cited page."""
    return page_count(path), (page_boxes(path, page, quotes) if page else ())


@cl.on_feedback
async def on_feedback(feedback):
    """The data layer has stored the thumb; a thumbs down is also written to the server log for maintainers."""
    if feedback.value == 0:
        log.info("pouce baissé sur la réponse %s%s", feedback.forId,
                 f" : {feedback.comment}" if feedback.comment else "")
