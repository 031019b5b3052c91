"""The questions log: every question asked, what was returned, and the thumbs given.

One SQLite file (default `var/questions.sqlite3`, git-ignored; `ASSISTANT_FEEDBACK_DB`
or `--feedback-db` to move it) with two tables we own:

    questions   one row per question: channel (chat/api), client address, text, filters, k, outcome,
                abstained, best score, the passages returned (id, rank, score, title, source) as JSON
    feedback    at most one row per answer (the chat message id): 1 thumbs up, 0 thumbs down

Why not Chainlit's SQLAlchemy data layer on aiosqlite: it persists whole threads,
steps and elements (each answer's passages again, PDFs needing a storage client)
in a schema whose DDL we would have to keep in step with Chainlit's by hand, and
its history view needs a login this product does not have. What maintainers need
is the report of unanswered questions, which also covers the HTTP API, outside
Chainlit. So Chainlit gets a minimal data layer (`chainlit_data_layer`) that
only stores feedback here; it must exist for Chainlit to show the thumbs at all.
Writes are a few hundred bytes, so stdlib sqlite3 with one short connection per
call is enough, and `assistant report` reads the file without importing Chainlit.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import unicodedata
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .config import PROJECT_ROOT
from .schema import Answer

SCHEMA_VERSION = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at    TEXT NOT NULL,
    channel     TEXT NOT NULL,
    session_id  TEXT,
    message_id  TEXT UNIQUE,
    question    TEXT NOT NULL,
    normalized  TEXT NOT NULL,
    filters     TEXT NOT NULL,
    k           INTEGER,
    abstained   INTEGER NOT NULL,
    top_score   REAL,
    top_dense   REAL,
    passages    TEXT NOT NULL,
    outcome     TEXT,
    client      TEXT
);
CREATE INDEX IF NOT EXISTS questions_normalized ON questions (normalized);
CREATE TABLE IF NOT EXISTS feedback (
    id          TEXT PRIMARY KEY,
    message_id  TEXT NOT NULL UNIQUE,
    value       INTEGER NOT NULL,
    comment     TEXT,
    given_at    TEXT NOT NULL
);
"""


def default_db_path() -> Path:
    """`ASSISTANT_FEEDBACK_DB` if set, else var/questions.sqlite3 in the project (git-ignored)."""
    value = os.environ.get("ASSISTANT_FEEDBACK_DB")
    return Path(value) if value else PROJECT_ROOT / "var" / "questions.sqlite3"


def normalize_question(text: str) -> str:
    """The form questions are grouped by: case, accents, spacing and end punctuation ignored."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[’']", "'", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text.rstrip(" ?!.…").strip()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ReportRow:
    """One question, grouped over its askings, that the corpus did not answer well."""

    question: str
    asked: int
    unanswered: int  # askings whose outcome was uncertain or off topic
    thumbs_down: int
    last_asked: str
    comments: tuple[str, ...] = ()


# A row not plainly answered: its outcome when logged (version 2), else whether it abstained (version 1).
_UNANSWERED = "CASE WHEN q.outcome IS NULL THEN q.abstained WHEN q.outcome = 'answered' THEN 0 ELSE 1 END"


class FeedbackStore:
    """The SQLite questions log; safe to share between threads (one connection per call)."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_db_path()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        connection.row_factory = sqlite3.Row
        if not self._ready:
            with connection:
                connection.executescript(_SCHEMA)
                # Version 1 logs had no outcome: their rows keep NULL, read from `abstained`.
                columns = {row[1] for row in connection.execute("PRAGMA table_info(questions)")}
                if "outcome" not in columns:
                    connection.execute("ALTER TABLE questions ADD COLUMN outcome TEXT")
                # Version 2 logs had no client address: their rows keep NULL.
                if "client" not in columns:
                    connection.execute("ALTER TABLE questions ADD COLUMN client TEXT")
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._ready = True
        return connection

    def log_question(self, answer: Answer, *, channel: str, filters: dict | None = None, k: int | None = None,
                     session_id: str | None = None, message_id: str | None = None, client: str | None = None) -> int:
        """Store one question with the passages returned, their scores and its outcome.

        `message_id` is the id the chat's thumbs will refer to (Chainlit's feedback `forId`); `client` the
        address the rate limit counted the question for (the real client's behind a trusted proxy).
        """
        passages = [{"rank": h.rank, "score": round(h.score, 4), "dense": round(h.dense, 4), "id": h.passage.id,
                     "title": h.passage.title, "source": h.passage.source} for h in answer.hits]
        top = answer.hits[0] if answer.hits else None
        with closing(self._connect()) as connection, connection:
            cursor = connection.execute(
                "INSERT INTO questions (asked_at, channel, session_id, message_id, question, normalized, filters, k,"
                " abstained, top_score, top_dense, passages, outcome, client)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_now(), channel, session_id, message_id, answer.question, normalize_question(answer.question),
                 json.dumps(filters or {}, ensure_ascii=False, sort_keys=True), k, int(answer.abstained),
                 top.score if top else None, max((h.dense for h in answer.hits), default=None),
                 json.dumps(passages, ensure_ascii=False), answer.outcome, client))
            return int(cursor.lastrowid)

    def record_feedback(self, message_id: str, value: int, comment: str | None = None) -> str:
        """Thumbs up (1) or down (0) on an answer; a second click on the same answer replaces the first."""
        if value not in (0, 1):
            raise ValueError(f"valeur de retour {value!r} inconnue : 0 (pouce baissé) ou 1 (pouce levé)")
        feedback_id = f"fb-{message_id}"
        with closing(self._connect()) as connection, connection:
            connection.execute(
                "INSERT INTO feedback (id, message_id, value, comment, given_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(message_id) DO UPDATE SET value = excluded.value, comment = excluded.comment,"
                " given_at = excluded.given_at",
                (feedback_id, message_id, value, (comment or "").strip() or None, _now()))
        return feedback_id

    def delete_feedback(self, feedback_id: str) -> bool:
        """Withdraw a thumb (the user clicked it again)."""
        with closing(self._connect()) as connection, connection:
            return connection.execute("DELETE FROM feedback WHERE id = ?", (feedback_id,)).rowcount > 0

    def questions(self) -> list[dict]:
        """Every logged question with its feedback value (None without one), oldest first."""
        with closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT q.*, f.value AS feedback, f.comment AS comment FROM questions q"
                " LEFT JOIN feedback f ON f.message_id = q.message_id ORDER BY q.id").fetchall()
        out = []
        for row in rows:
            item = dict(row)
            item["filters"] = json.loads(item["filters"])
            item["passages"] = json.loads(item["passages"])
            item["abstained"] = bool(item["abstained"])
            out.append(item)
        return out

    def report(self, limit: int | None = None) -> list[ReportRow]:
        """Questions not plainly answered (uncertain or off topic) or given a thumbs down, most frequent first:
        the documents missing."""
        with closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT q.normalized AS normalized,"
                " COUNT(*) AS asked,"
                " SUM(" + _UNANSWERED + ") AS unanswered,"
                " SUM(CASE WHEN f.value = 0 THEN 1 ELSE 0 END) AS thumbs_down,"
                " MAX(q.asked_at) AS last_asked,"
                " (SELECT q2.question FROM questions q2 WHERE q2.normalized = q.normalized"
                "  ORDER BY q2.id DESC LIMIT 1) AS question,"
                " GROUP_CONCAT(CASE WHEN f.value = 0 THEN f.comment END, char(31)) AS comments"
                " FROM questions q LEFT JOIN feedback f ON f.message_id = q.message_id"
                " GROUP BY q.normalized"
                " HAVING SUM(" + _UNANSWERED + ") > 0 OR SUM(CASE WHEN f.value = 0 THEN 1 ELSE 0 END) > 0"
                " ORDER BY SUM(" + _UNANSWERED + ") + SUM(CASE WHEN f.value = 0 THEN 1 ELSE 0 END) DESC,"
                " COUNT(*) DESC, MAX(q.asked_at) DESC"
                + (" LIMIT ?" if limit else ""),
                (limit,) if limit else ()).fetchall()
        return [ReportRow(question=r["question"], asked=r["asked"], unanswered=r["unanswered"] or 0,
                          thumbs_down=r["thumbs_down"] or 0, last_asked=r["last_asked"],
                          comments=tuple(c for c in (r["comments"] or "").split("\x1f") if c))
                for r in rows]


def report_as_text(rows: list[ReportRow], path: Path) -> str:
    """The French report printed by `assistant report`."""
    if not rows:
        return (f"Aucune question sans réponse ni jugée inutile dans {path}.\n")
    lines = [f"Questions sans réponse ou jugées inutiles ({path}), les plus fréquentes d'abord :", "",
             f"{'posée':>5}  {'sans rép.':>9}  {'pouce ↓':>7}  {'dernière':<10}  question",
             "(sans rép. : réponses incertaines ou hors sujet)"]
    for row in rows:
        lines.append(f"{row.asked:>5}  {row.unanswered:>9}  {row.thumbs_down:>7}  {row.last_asked[:10]:<10}  "
                     f"{' '.join(row.question.split())}")
        lines.extend(f"{'':39}commentaire : {' '.join(c.split())}" for c in dict.fromkeys(row.comments))
    lines += ["", "Ces questions indiquent les documents qui manquent au corpus : ajoutez-les à corpus/ "
                  "puis relancez `assistant index`."]
    return "\n".join(lines) + "\n"


def chainlit_data_layer(store: FeedbackStore):
    """A Chainlit data layer that keeps only the thumbs, in `store`; threads are not persisted."""
    from chainlit.data.base import BaseDataLayer
    from chainlit.types import PaginatedResponse, PageInfo

    class FeedbackOnlyDataLayer(BaseDataLayer):
        """Chainlit shows the thumbs only when a data layer exists; this one stores nothing else."""

        async def upsert_feedback(self, feedback) -> str:
            return await asyncio.to_thread(store.record_feedback, feedback.forId, int(feedback.value),
                                           feedback.comment)

        async def delete_feedback(self, feedback_id: str) -> bool:
            return await asyncio.to_thread(store.delete_feedback, feedback_id)

        # No users, threads, steps or elements are persisted: the session lives in memory.
        async def get_user(self, identifier):
            return None

        async def create_user(self, user):
            return None

        async def create_element(self, element):
            return None

        async def get_element(self, thread_id, element_id):
            return None

        async def delete_element(self, element_id, thread_id=None):
            return None

        async def create_step(self, step_dict):
            return None

        async def update_step(self, step_dict):
            return None

        async def delete_step(self, step_id):
            return None

        async def get_thread_author(self, thread_id):
            return ""

        async def delete_thread(self, thread_id):
            return None

        async def list_threads(self, pagination, filters):
            return PaginatedResponse(data=[], pageInfo=PageInfo(hasNextPage=False, startCursor=None, endCursor=None))

        async def get_thread(self, thread_id):
            return None

        async def update_thread(self, thread_id, name=None, user_id=None, metadata=None, tags=None):
            return None

        async def build_debug_url(self) -> str:
            return ""

        async def close(self) -> None:
            return None

        async def get_favorite_steps(self, user_id):
            return []

    return FeedbackOnlyDataLayer()
