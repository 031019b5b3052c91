"""HTTP: POST /api/ask, GET /api/health, the PDFs of the sources, and the Chainlit chat at /.

One process holds one `Runtime`: the assistant (index and model, loaded once),
the questions log and the catalog of what the index covers. The Chainlit
handlers in app.py use the same runtime through `get_runtime()`.
"""
from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (FileResponse, HTMLResponse, JSONResponse, RedirectResponse,
                               Response)
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .catalog import Catalog, catalog_of
from .chat import MAX_QUESTION_CHARS, PRODUCT_NAME, filters_as_dict
from .config import PROJECT_ROOT
from .feedback import FeedbackStore
from .proxies import TrustedProxies
from .schema import DOC_TYPES, Answer, Passage
from .search import Filters
from .themes import PRACTICES, TOPICS

log = logging.getLogger("assistant.api")

MAX_BODY_BYTES = 64 * 1024
MAX_K = 50
# Previous questions accepted with a question (followup.HISTORY_KEPT of them are read).
MAX_HISTORY = 20


# ---------------------------------------------------------------- the process-wide state


class RateLimiter:
    """At most `per_minute` questions per minute from one client (a token bucket per client; 0: no limit)."""

    def __init__(self, per_minute: int, max_clients: int = 10_000):
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_time(self, client: str) -> float:
        """0 when the client may ask now (and count the question), else the seconds to wait."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic()
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, since = self._buckets.pop(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - since) * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)  # the least recently seen client
        return wait

    def message(self, wait: float) -> str:
        """The French / English line of a refused question."""
        seconds = max(1, round(wait + 0.5))
        return (f"plus de {self.per_minute} questions par minute depuis cette adresse : réessayez dans {seconds} s "
                f"/ more than {self.per_minute} questions per minute from this address: retry in {seconds} s")


@dataclass
class Runtime:
    """What one serving process loads once: assistant, questions log, catalog.

    The catalog, passages and PDFs follow the assistant's index: when a re-index
    is picked up (see Assistant.refresh), they are derived again from the new one.
    """

    assistant: object  # service.Assistant (kept untyped so this module imports without torch)
    store: FeedbackStore
    catalog: Catalog
    passages: dict[str, Passage] = field(default_factory=dict)
    pdfs: dict[str, Path] = field(default_factory=dict)
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0))
    _pdf_records: dict[str, dict] = field(default_factory=dict, repr=False)
    _index: object = field(default=None, repr=False)
    _verified: dict[str, tuple] = field(default_factory=dict, repr=False)
    _follow_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def create(cls, assistant, store: FeedbackStore) -> "Runtime":
        """Wrap a loaded assistant."""
        runtime = cls(assistant=assistant, store=store, catalog=catalog_of(assistant.index),
                      limiter=RateLimiter(getattr(assistant.settings, "rate_limit", 0)))
        runtime.follow()
        return runtime

    def follow(self) -> None:
        """Derive catalog, passages and PDFs again if the assistant swapped in another index."""
        index = self.assistant.index
        if index is self._index:
            return
        with self._follow_lock:
            if index is self._index:
                return
            records = {}
            for entry in index.manifest.get("files", {}).values():
                source = entry.get("source") or ""
                if source.lower().endswith(".pdf") and entry.get("passages"):
                    records[source] = entry
            self._pdf_records = records
            self.pdfs = {s: Path(e.get("path") or PROJECT_ROOT / s) for s, e in records.items()}
            self.passages = {p.id: p for p in index.passages}
            self.catalog = catalog_of(index) if self._index is not None else self.catalog
            self._index = index

    def refresh(self) -> None:
        """Pick up a re-index if one happened (cheap; called on every question)."""
        refresh = getattr(self.assistant, "refresh", None)
        if refresh is not None:
            refresh()
        self.follow()

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None,
            history: list[str] | tuple[str, ...] = ()) -> Answer:
        """Answer one question, read after the conversation's `history` (thread-safe; called from worker threads)."""
        self.refresh()
        question = question.encode("utf-8", "replace").decode("utf-8")  # lone surrogates, from the chat too
        return self.assistant.ask(question, k=k, filters=filters, history=history)

    def record(self, answer: Answer, *, channel: str, filters: Filters | None, k: int | None,
               session_id: str | None = None, message_id: str | None = None, client: str | None = None) -> None:
        """Log the question; a log that cannot be written never costs the user the answer."""
        try:
            self.store.log_question(answer, channel=channel, filters=filters_as_dict(filters), k=k,
                                    session_id=session_id, message_id=message_id, client=client)
        except (sqlite3.Error, OSError, ValueError) as err:  # ValueError: text SQLite cannot store
            log.warning("journal des questions %s non écrit : %s", self.store.path, err)

    def pdf_path(self, source: str) -> Path | None:
        """The file of an indexed PDF source, or None: only files listed in the index, as they were indexed.

        The name is looked up, never joined to a folder, so `../` and absolute paths
        match nothing; and the file must still be the one indexed (same resolved
        path, not a link, same SHA-256), so a PDF swapped for a link to another file is refused.
        """
        path = self.pdfs.get(source)
        record = self._pdf_records.get(source, {})
        if path is None:
            return None
        try:
            stat = path.lstat()
            if path.is_symlink() or path.resolve(strict=True) != path or not path.is_file():
                return None
        except (OSError, RuntimeError):
            return None
        expected = record.get("sha256")
        if expected:
            key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
            if self._verified.get(source) != key:
                if stat.st_size != record.get("size", stat.st_size) or _sha256(path) != expected:
                    return None
                self._verified[source] = key
        return path

    def has_pdf(self, passage: Passage) -> bool:
        """True when the passage comes from a PDF this process can serve."""
        return self.pdf_path(passage.source) is not None

    def pdf_url(self, passage: Passage) -> str:
        """Where the browser fetches the PDF of a passage."""
        return "/api/sources/" + quote(passage.source)

    def page_image_url(self, passage: Passage) -> str:
        """Where the browser fetches the image of one page of a passage's PDF, « {page} » standing for its number."""
        return "/api/pages/{page}/" + quote(passage.source)



def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def set_runtime(runtime: Runtime | None) -> None:
    """Install the process's runtime (serve and the tests do this before mounting the chat)."""
    global _runtime
    _runtime = runtime


def get_runtime() -> Runtime:
    """The process's runtime; loaded from the default settings on first use if none was installed."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            from .config import load_settings
            from .service import Assistant

            _runtime = Runtime.create(Assistant.load(load_settings()), FeedbackStore())
        return _runtime


# ---------------------------------------------------------------- request and response models

DocType = Literal[DOC_TYPES]  # type: ignore[valid-type]
Practice = Literal[PRACTICES]  # type: ignore[valid-type]
Topic = Literal[TOPICS]  # type: ignore[valid-type]
_DATE = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"


def _as_list(value):
    return [value] if isinstance(value, str) else value


class FiltersIn(BaseModel):
    """Restrictions on the passages returned; each list is « any of », the lists combine with « and »."""

    model_config = ConfigDict(extra="forbid")

    doc_types: list[DocType] = Field(default=[], description="Types de document : " + ", ".join(DOC_TYPES))
    practices: list[Practice] = Field(default=[], description="Pratiques : " + ", ".join(PRACTICES))
    topics: list[Topic] = Field(default=[], description="Thèmes : " + ", ".join(TOPICS))
    date_from: str | None = Field(default=None, pattern=_DATE, description="AAAA, AAAA-MM ou AAAA-MM-JJ (inclus)")
    date_to: str | None = Field(default=None, pattern=_DATE, description="AAAA, AAAA-MM ou AAAA-MM-JJ (inclus)")

    _lists = field_validator("doc_types", "practices", "topics", mode="before")(_as_list)

    def to_filters(self) -> Filters:
        """Search filters, with partial dates widened to whole years or months."""
        return Filters(doc_types=tuple(self.doc_types), practices=tuple(self.practices), topics=tuple(self.topics),
                       date_from=_date_bound(self.date_from, start=True),
                       date_to=_date_bound(self.date_to, start=False))


def _date_bound(value: str | None, start: bool) -> str | None:
    if not value:
        return None
    if len(value) == 4:
        return f"{value}-01-01" if start else f"{value}-12-31"
    if len(value) == 7:
        # Any day-of-month <= 31 compares correctly with ISO dates.
        return f"{value}-01" if start else f"{value}-31"
    return value


class AskIn(BaseModel):
    """A question for the assistant."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "Que propose la charte cybersécurité aux prestataires ?", "k": 5},
        {"question": "rançongiciels", "k": 3, "filters": {"doc_types": ["bulletin"], "date_from": "2024",
                                                           "date_to": "2024"}},
        {"question": "et ça coûte combien ?", "history": ["Comment adhérer à la charte cybersécurité ?"]},
    ]})

    question: Annotated[str, Field(description=f"La question, en français ({MAX_QUESTION_CHARS} caractères au plus)")]
    k: Annotated[int | None, Field(ge=1, le=MAX_K, description="Nombre de passages (défaut : 5)")] = None
    filters: FiltersIn | None = None
    history: Annotated[list[str], Field(
        max_length=MAX_HISTORY, description="Les questions précédentes de la conversation, de la plus ancienne à la "
                                            f"plus récente ({MAX_HISTORY} au plus) : une question qui en dépend "
                                            "(« et ça coûte combien ? ») est lue avec le sujet de la précédente")] = []

    @field_validator("history")
    @classmethod
    def _history(cls, value: list[str]) -> list[str]:
        for position, item in enumerate(value, start=1):
            if len(item) > MAX_QUESTION_CHARS:
                raise ValueError(f"la question n° {position} de l'historique fait {len(item)} caractères, au plus "
                                 f"{MAX_QUESTION_CHARS} / history item {position} has {len(item)} characters, at most "
                                 f"{MAX_QUESTION_CHARS}")
        return [item.encode("utf-8", "replace").decode("utf-8") for item in value]

    @field_validator("question")
    @classmethod
    def _question(cls, value: str) -> str:
        # JSON can carry lone surrogates (\ud800), which no UTF-8 store or encoder accepts.
        value = value.encode("utf-8", "replace").decode("utf-8")
        if not value.strip():
            raise ValueError("la question est vide / the question is empty")
        if len(value) > MAX_QUESTION_CHARS:
            raise ValueError(f"la question fait {len(value)} caractères, au plus {MAX_QUESTION_CHARS} : "
                             f"raccourcissez-la / the question has {len(value)} characters, "
                             f"at most {MAX_QUESTION_CHARS}: shorten it")
        return value.strip()


class PassageOut(BaseModel):
    """A cited passage, with its rank and score (further citation fields may follow)."""

    model_config = ConfigDict(extra="allow")

    rank: int
    score: float
    id: str
    text: str
    title: str
    source: str
    doc_type: str
    page: int | None = None
    section: str | None = None
    date: str | None = None
    url: str | None = None
    sample: bool = False
    practice: str | None = None
    topic: str | None = None


class ContactOut(BaseModel):
    """A sentence of an indexed passage that gives a contact."""

    text: str = Field(description="La phrase, mot pour mot (ou les mots autour du contact dans un tableau)")
    source: str
    title: str
    section: str | None = None
    page: int | None = None


class AskOut(BaseModel):
    """The answer: the same JSON object as `assistant ask --json`."""

    model_config = ConfigDict(extra="allow")

    question: str
    answer: str = Field(description="Réponse extractive avec marques [n] ; pour « uncertain », une phrase qui le dit "
                                    "puis les phrases des passages les plus proches ; pour « off_topic », le refus et "
                                    "ce que couvrent les documents")
    outcome: Literal["answered", "uncertain", "off_topic"] = Field(
        description="« answered » : les passages répondent ; « uncertain » : les documents traitent du sujet mais "
                    "aucun passage n'y répond clairement (valeur absente, bulletin non indexé, passages éloignés) : "
                    "les passages les plus proches sont donnés, signalés comme tels ; « off_topic » : la question "
                    "sort de ce que couvre l'index, aucun passage")
    understood_as: str | None = Field(default=None, description="Pour une question qui dépend des précédentes "
                                      "(« et en 2025 ? ») : la question telle qu'elle a été cherchée, avec le sujet de "
                                      "la précédente ; null quand elle a été lue telle quelle")
    reason: str | None = Field(default=None, description="Pour « uncertain » et « off_topic » : la phrase qui dit "
                                                          "pourquoi (null pour « answered »)")
    abstained: bool = Field(description="Vrai pour « off_topic » seulement (aucun passage alors)")
    contacts: list[ContactOut] = Field(default_factory=list, description="Pour « uncertain » et « off_topic » : les "
                                       "contacts que donnent les documents (adresse, numéro, site, service public), "
                                       "les plus proches de la question d'abord ; vide pour « answered »")
    nearest_topics: list[str] = Field(default_factory=list, description="Pour « off_topic » : les titres des trois "
                                      "sections les plus proches de la question, avec leur document")
    passages: list[PassageOut]


class HealthOut(BaseModel):
    """What this process serves."""

    model_config = ConfigDict(extra="allow")

    status: str
    fingerprint: str
    passages: int
    documents: int
    model: str
    index_created: str | None = None
    newest_bulletin: str | None = None


class ErrorOut(BaseModel):
    """A refused request: one French / English message, and the offending fields."""

    error: str
    message: str
    fields: list[dict] = []


# ---------------------------------------------------------------- errors

_MESSAGES = {
    "missing": "champ obligatoire / field required",
    "string_type": "texte attendu / string expected",
    "int_type": "entier attendu / integer expected",
    "int_parsing": "entier attendu / integer expected",
    "int_from_float": "entier attendu / integer expected",
    "greater_than_equal": "valeur trop petite / value too small",
    "less_than_equal": "valeur trop grande / value too large",
    "extra_forbidden": "champ inconnu / unknown field",
    "json_invalid": "JSON invalide / invalid JSON",
    "model_attributes_type": "objet JSON attendu / JSON object expected",
    "dict_type": "objet JSON attendu / JSON object expected",
    "list_type": "liste attendue / list expected",
    "string_pattern_mismatch": "date attendue au format AAAA, AAAA-MM ou AAAA-MM-JJ / date expected as YYYY, "
                               "YYYY-MM or YYYY-MM-DD",
}


def _field_message(error: dict) -> dict:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
    kind = error.get("type", "")
    if kind == "value_error":
        text = re.sub(r"^Value error, ", "", error.get("msg", ""))
    elif kind == "literal_error":
        allowed = (error.get("ctx") or {}).get("expected", "")
        text = f"valeur inconnue, valeurs permises : {allowed} / unknown value, allowed: {allowed}"
    elif kind in ("greater_than_equal", "less_than_equal") and location == "k":
        text = f"k doit être entre 1 et {MAX_K} / k must be between 1 and {MAX_K}"
    else:
        text = _MESSAGES.get(kind, error.get("msg", "valeur invalide / invalid value"))
    return {"field": location, "message": text}


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = [_field_message(e) for e in exc.errors()]
    message = " ; ".join(f"{f['field']} : {f['message']}" for f in fields)
    return JSONResponse(status_code=422, content={"error": "requête invalide / invalid request",
                                                   "message": message, "fields": fields})


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("erreur sur %s", request.url.path)
    return JSONResponse(status_code=500, content={
        "error": "erreur interne / internal error",
        "message": "la question n'a pas pu être traitée ; l'erreur est dans le journal du serveur / "
                   "the question could not be processed; see the server log"})


# ---------------------------------------------------------------- the app


def create_app(runtime: Runtime, *, with_chat: bool = True) -> FastAPI:
    """The FastAPI app: /api/ask, /api/health, /api/sources/…, /docs, and the chat mounted at /."""
    from fastapi_offline import FastAPIOffline

    set_runtime(runtime)
    # Swagger UI from the fastapi-offline package: the default /docs page loads it from a CDN.
    app = FastAPIOffline(
        title=f"{PRODUCT_NAME} — API",
        version="1",
        description="Questions sur les documents du programme d'intelligence économique de la Région Normandie. "
                    "Chaque réponse cite ses passages : titre, type, page ou section, date, source.",
        redoc_url=None,
        static_url="/api/static-docs",
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)

    app.add_middleware(_LimitBody)
    proxies = TrustedProxies(getattr(runtime.assistant.settings, "trusted_proxies", ()))
    if proxies:
        # Outermost, so that every route and the chat's socket see the client behind the proxy.
        app.add_middleware(_RealClient, proxies=proxies)

    @app.post("/api/ask", response_model=AskOut, summary="Poser une question", tags=["questions"],
              responses={422: {"model": ErrorOut}, 413: {"model": ErrorOut}, 429: {"model": ErrorOut}})
    def ask(body: AskIn, request: Request):
        """Les passages les plus pertinents, numérotés [1]…[k], et la réponse extractive qui les cite."""
        # The client's own address even behind a trusted proxy: _RealClient has rewritten it.
        client = request.client.host if request.client else "?"
        wait = runtime.limiter.wait_time(client)
        if wait:
            return JSONResponse(status_code=429, headers={"Retry-After": str(max(1, round(wait + 0.5)))}, content={
                "error": "trop de requêtes / too many requests", "message": runtime.limiter.message(wait),
                "fields": []})
        filters = body.filters.to_filters() if body.filters else None
        answer = runtime.ask(body.question, k=body.k, filters=filters, history=body.history)
        runtime.record(answer, channel="api", filters=filters, k=body.k, client=client)
        return answer.to_dict()

    @app.get("/api/health", response_model=HealthOut, summary="État du service", tags=["service"])
    def health() -> dict:
        """L'index servi (empreinte, génération, nombre de passages et de documents) et le modèle d'encodage."""
        runtime.refresh()
        index = runtime.assistant.index
        bulletins = [d.date for d in runtime.catalog.documents if d.doc_type == "bulletin" and d.date]
        return {"status": "ok", "fingerprint": index.manifest.get("fingerprint"), "generation": index.folder.name,
                "passages": index.size,
                "documents": len(runtime.catalog.documents), "model": runtime.assistant.settings.model,
                "model_info": index.manifest.get("model"), "index_created": index.manifest.get("created"),
                "newest_bulletin": max(bulletins, default=None)}

    @app.get("/api/sources/{source:path}", summary="Le PDF d'une source", tags=["sources"],
             response_class=FileResponse, responses={404: {"model": ErrorOut}})
    def source_pdf(source: str):
        """Le fichier PDF cité par un passage (champ `source`) ; seuls les PDF de l'index sont servis."""
        path = runtime.pdf_path(source)
        if path is None:
            return JSONResponse(status_code=404, content={
                "error": "source introuvable / source not found",
                "message": f"{source} n'est pas un PDF de l'index / is not a PDF of the index", "fields": []})
        return FileResponse(path, media_type="application/pdf", content_disposition_type="inline",
                            filename=path.name)

    @app.get("/api/pages/{page}/{source:path}", include_in_schema=False)
    def page_image(page: int, source: str):
        """One page of an indexed PDF as a PNG (the chat's side panel shows it at the panel's width)."""
        from .highlight import page_png

        path = runtime.pdf_path(source)
        image = page_png(path, page, path.stat().st_mtime_ns) if path is not None else None
        if image is None:
            return JSONResponse(status_code=404, content={
                "error": "page introuvable / page not found",
                "message": f"{source} n'a pas de page {page} dans l'index / has no page {page} in the index",
                "fields": []})
        return Response(image, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/api/passages/{passage_id}", response_model=PassageOut, summary="Un passage par son id",
             tags=["sources"], responses={404: {"model": ErrorOut}})
    def passage(passage_id: str):
        """Le passage de l'index portant cet id (champ `id` des passages d'une réponse)."""
        found = runtime.passages.get(passage_id)
        if found is None:
            return _passage_not_found(passage_id)
        return {"rank": 0, "score": 0.0, **found.to_dict()}

    if with_chat:
        _mount_chat(app)
    else:
        @app.get("/", include_in_schema=False)
        def root():
            return RedirectResponse("/docs")
    return app


def _passage_not_found(passage_id: str) -> JSONResponse:
    return JSONResponse(status_code=404, content={
        "error": "passage introuvable / passage not found",
        "message": f"aucun passage {passage_id!r} dans l'index servi (reconstruit depuis ?) / no such passage "
                   "in the index served (rebuilt since?)", "fields": []})


# Chainlit's page preconnects to Google Fonts and loads KaTeX's stylesheet from a CDN (we have no
# LaTeX): the chat must make no request outside this server.
_EXTERNAL_LINKS = re.compile(r'\s*<link\b[^>]*href="https://(?:fonts\.googleapis\.com|fonts\.gstatic\.com|'
                             r'cdn\.jsdelivr\.net)[^"]*"[^>]*/?>', re.S)


def strip_external_links(html: str) -> str:
    """The chat page without its links to Google Fonts and the KaTeX CDN."""
    return _EXTERNAL_LINKS.sub("", html)


def import_chat() -> None:
    """Import Chainlit (a few seconds), reading its configuration from the project's .chainlit/."""
    os.environ.setdefault("CHAINLIT_APP_ROOT", str(PROJECT_ROOT))
    import chainlit.utils  # noqa: F401


def _mount_chat(app: FastAPI) -> None:
    """Chainlit at the root path: it owns /, /assets (so the PDF viewer finds its worker), /public, /ws."""
    import_chat()
    from chainlit.utils import mount_chainlit

    app.add_middleware(_LocalOnlyPage)

    logging.getLogger("chainlit").addFilter(_QuietChainlit())
    # Mounted last: routes declared above (/api/…, /docs, /openapi.json) are matched first.
    mount_chainlit(app=app, target=str(PROJECT_ROOT / "app.py"), path="")


# Pure ASGI middlewares: FastAPI's @app.middleware("http") wraps every request in extra streams and tasks,
# which cost /api/ask about a millisecond each.


class _LimitBody:
    """Refuse oversized /api/ bodies (413) before they are read."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            length = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1")
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                response = JSONResponse(status_code=413, content={
                    "error": "requête trop volumineuse / request too large",
                    "message": f"corps de {int(length)} octets, au plus {MAX_BODY_BYTES} / body of {int(length)} "
                               f"bytes, at most {MAX_BODY_BYTES}", "fields": []})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _RealClient:
    """Put the client's own address in the ASGI scope when a trusted proxy forwarded the request.

    HTTP and websocket alike: the API's rate limit and questions log read `request.client`, the chat reads
    the scope its socket connected with (app.py, _client_address). The proxy's own address stays in the
    scope as « proxy ». Uvicorn's own reading of X-Forwarded-For is off (cli._serve): it would trust
    127.0.0.1 by default, so that any local process could name itself anyone.
    """

    def __init__(self, app, proxies: TrustedProxies):
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            peer = scope["client"][0]
            forwarded = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
            client = self.proxies.client(peer, forwarded) if forwarded else peer
            if client != peer:
                scope = {**scope, "client": (client, 0), "proxy": scope["client"]}
        await self.app(scope, receive, send)


class _LocalOnlyPage:
    """Rewrite Chainlit's HTML page (served for / and every client-side route) without its external links."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"].startswith(("/api/", "/docs")):
            await self.app(scope, receive, send)
            return
        start: dict = {}
        chunks: list[bytes] = []
        passthrough = False

        async def buffered(message):
            nonlocal passthrough
            if message["type"] == "http.response.start":
                headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message["headers"]}
                if not headers.get("content-type", "").startswith("text/html"):
                    passthrough = True
                    await send(message)
                    return
                start.update(message, headers=headers)
                return
            if passthrough or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            if start["headers"].get("content-encoding") == "gzip":
                body = gzip.decompress(body)  # a 2 kB page: sent back uncompressed
            headers = {k: v for k, v in start["headers"].items() if k not in ("content-length", "content-encoding")}
            page = HTMLResponse(strip_external_links(body.decode("utf-8")), status_code=start["status"],
                                headers=headers)
            await page(scope, receive, send)

        await self.app(scope, receive, buffered)


class _QuietChainlit(logging.Filter):
    """Drop Chainlit's warning, on every page load, that no chainlit_fr-FR.md exists: chainlit.md is French."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Translated markdown file" not in record.getMessage()
