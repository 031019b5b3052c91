"""The HTTP API: /api/ask as `ask --json`, health, validation in French and English, PDFs, the questions log.

Most tests use FastAPI's TestClient on a hash-model index of the shipped
corpus; one starts `assistant serve` and talks to it over a real socket.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from conftest import ROOT

CHARTER_QUESTION = "Que propose la charte cybersécurité aux prestataires ?"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A hash-model index of the shipped corpus, and a questions log beside it."""
    from assistant.config import Settings
    from assistant.embed import HashEmbedder
    from assistant.index import build_index

    base = tmp_path_factory.mktemp("api")
    settings = Settings(index_dir=base / "index", model="hash")
    build_index([ROOT / "corpus"], settings, HashEmbedder(), show_progress=False)
    return settings, base / "questions.sqlite3"


@pytest.fixture(scope="module")
def runtime(built):
    from assistant.api import Runtime, set_runtime
    from assistant.embed import HashEmbedder
    from assistant.feedback import FeedbackStore
    from assistant.service import Assistant

    settings, db = built
    rt = Runtime.create(Assistant.load(settings, HashEmbedder()), FeedbackStore(db))
    yield rt
    set_runtime(None)


@pytest.fixture(scope="module")
def client(runtime):
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    with TestClient(create_app(runtime, with_chat=False), raise_server_exceptions=False) as test_client:
        yield test_client


def test_ask_returns_the_json_of_ask_json(client, built, monkeypatch):
    settings, _ = built
    response = client.post("/api/ask", json={"question": CHARTER_QUESTION, "k": 3})
    assert response.status_code == 200, response.text
    data = response.json()
    monkeypatch.setenv("ASSISTANT_MODEL", "hash")
    cli = CliRunner().invoke(main, ["ask", CHARTER_QUESTION, "-k", "3", "--json", "--index-dir",
                                    str(settings.index_dir)], catch_exceptions=False)
    assert cli.exit_code == 0, cli.output
    assert data == json.loads(cli.output)
    assert [p["rank"] for p in data["passages"]] == [1, 2, 3]
    assert data["passages"][0]["source"].startswith("corpus/charte/"), "the charter comes first"


def test_a_follow_up_is_read_with_its_history(client):
    response = client.post("/api/ask", json={"question": "et ça coûte combien ?",
                                             "history": ["Comment adhérer à la charte cybersécurité ?"]})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["question"] == "et ça coûte combien ?"
    assert data["understood_as"] == "et ça coûte combien ? — Comment adhérer à la charte cybersécurité ?"
    assert data["passages"][0]["source"].startswith("corpus/charte/"), "searched with the charter's topic"
    alone = client.post("/api/ask", json={"question": CHARTER_QUESTION, "history": ["Qui pilote la démarche ?"]})
    assert alone.json()["understood_as"] is None, "a standalone question is read as it is"
    too_long = client.post("/api/ask", json={"question": "et ?", "history": ["x" * 3000]})
    assert too_long.status_code == 422 and "historique" in too_long.json()["message"]
    too_many = client.post("/api/ask", json={"question": "et ?", "history": ["q"] * 21})
    assert too_many.status_code == 422


def test_filters_and_default_k(client):
    body = {"question": "rançongiciels", "filters": {"doc_types": ["bulletin"], "date_from": "2024",
                                                       "date_to": "2024-12"}}
    data = client.post("/api/ask", json=body).json()
    assert len(data["passages"]) == 5
    for passage in data["passages"]:
        assert passage["doc_type"] == "bulletin" and passage["date"].startswith("2024"), passage
    data = client.post("/api/ask", json={"question": "sécurité", "k": 4,
                                         "filters": {"practices": "se-proteger", "topics": ["cybersecurite"]}}).json()
    assert data["passages"] and all(p["practice"] == "se-proteger" and p["topic"] == "cybersecurite"
                                    for p in data["passages"])


@pytest.mark.parametrize("body, field, words", [
    ({"question": "x" * 2001}, "question", "2001 caractères, au plus 2000"),
    ({"question": "   "}, "question", "la question est vide / the question is empty"),
    ({}, "question", "champ obligatoire / field required"),
    ({"question": "q", "k": 0}, "k", "k doit être entre 1 et 50 / k must be between 1 and 50"),
    ({"question": "q", "k": "beaucoup"}, "k", "entier attendu / integer expected"),
    ({"question": "q", "filters": {"doc_types": ["roman"]}}, "filters.doc_types.0", "valeur inconnue"),
    ({"question": "q", "filters": {"date_from": "mars 2024"}}, "filters.date_from", "AAAA-MM"),
    ({"question": "q", "filtres": {}}, "filtres", "champ inconnu / unknown field"),
])
def test_validation_errors_are_one_clear_line(client, body, field, words):
    response = client.post("/api/ask", json=body)
    assert response.status_code == 422
    data = response.json()
    assert data["error"] == "requête invalide / invalid request"
    assert any(f["field"] == field and words in f["message"] for f in data["fields"]), data
    assert words in data["message"] and "Traceback" not in response.text


def test_malformed_and_oversized_bodies(client):
    response = client.post("/api/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert response.status_code == 422 and "JSON invalide / invalid JSON" in response.json()["message"]
    response = client.post("/api/ask", content=b"x" * 70_000, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "au plus 65536" in response.json()["message"]


def test_health(client, runtime):
    data = client.get("/api/health").json()
    index = runtime.assistant.index
    assert data["status"] == "ok" and data["fingerprint"] == index.manifest["fingerprint"]
    assert data["passages"] == index.size and data["documents"] == 33 and data["model"] == "hash"
    assert data["newest_bulletin"].startswith("2026-10")


def test_sources_serve_only_indexed_pdfs(client, runtime):
    charter = next(p for p in runtime.passages.values() if p.source.startswith("corpus/charte/"))
    response = client.get(runtime.pdf_url(charter))
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    for path in ("/api/sources/corpus/pages/poles-de-competitivite.html", "/api/sources/../pyproject.toml",
                 "/api/sources/%2e%2e/%2e%2e/etc/passwd", "/api/sources/corpus/absent.pdf"):
        assert client.get(path).status_code == 404, path


def test_passage_by_id(client, runtime):
    charter = next(p for p in runtime.passages.values() if p.source.startswith("corpus/charte/"))
    data = client.get(f"/api/passages/{charter.id}").json()
    assert data["id"] == charter.id and data["text"] == charter.text
    assert client.get("/api/passages/inconnu").status_code == 404


def test_docs_are_served_without_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "cdn.jsdelivr" not in page.text
    assert "/api/static-docs/swagger-ui-bundle.js" in page.text
    assert client.get("/api/static-docs/swagger-ui-bundle.js").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/api/ask", "/api/health"} <= set(schema["paths"])


def test_questions_are_logged_and_reported(client, runtime, built):
    client.post("/api/ask", json={"question": "Quel temps fera-t-il demain à Caen ?"})
    logged = runtime.store.questions()[-1]
    assert logged["channel"] == "api" and logged["question"] == "Quel temps fera-t-il demain à Caen ?"
    assert logged["passages"] and {"rank", "score", "id", "title", "source"} <= set(logged["passages"][0])
    # The hash model answers everything: record off-topic and uncertain answers and thumbs as the chat would.
    from assistant.schema import Answer

    for text, outcome in (("Quel temps fera-t-il demain ?", "off_topic"), ("quel  temps fera-t-il demain", "uncertain"),
                          ("Horaires du TER ?", "off_topic")):
        runtime.store.log_question(Answer(question=text, text="", abstained=outcome == "off_topic", outcome=outcome),
                                   channel="chat")
    runtime.record(runtime.ask("La charte est-elle payante ?"), channel="chat", filters=None, k=None,
                   message_id="m-1")
    runtime.store.record_feedback("m-1", 0, "ne répond pas")
    _, db = built
    result = CliRunner().invoke(main, ["report", "--feedback-db", str(db)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    rows = [line for line in lines if line[:5].strip().isdigit()]
    assert "quel temps fera-t-il demain" in rows[0].lower() and rows[0].split()[:3] == ["2", "2", "0"]
    assert any("La charte est-elle payante ?" in r and r.split()[:3] == ["1", "0", "1"] for r in rows)
    assert "commentaire : ne répond pas" in result.output
    assert "Caen" not in result.output, "answered questions without a thumbs down are not reported"
    as_json = json.loads(CliRunner().invoke(main, ["report", "--feedback-db", str(db), "--json"]).output)
    assert as_json[0]["asked"] == 2


def test_report_without_a_log(tmp_path):
    result = CliRunner().invoke(main, ["report", "--feedback-db", str(tmp_path / "absent.sqlite3")])
    assert result.exit_code == 1 and "aucun journal des questions" in result.output


# ---------------------------------------------------------------- a real server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(index_dir: Path, db: Path, port: int, model: str, timeout: float = 120) -> subprocess.Popen:
    """`assistant serve` in a subprocess, returned once it prints that it is ready."""
    env = {**os.environ, "ASSISTANT_MODEL": model, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "assistant"), "serve", "--index-dir", str(index_dir), "--port", str(port),
         "--feedback-db", str(db)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    output = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        output.append(line)
        if line.startswith("Assistant prêt"):
            return process
    process.kill()
    raise AssertionError("the server did not start:\n" + "".join(output))


def stop_server(process: subprocess.Popen) -> None:
    """Ctrl-C, as a user would, then kill if it lingers."""
    import signal

    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_serve_over_a_real_socket(built, tmp_path):
    import httpx

    settings, _ = built
    port = free_port()
    process = start_server(settings.index_dir, tmp_path / "q.sqlite3", port, "hash")
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as http:
            data = http.post("/api/ask", json={"question": CHARTER_QUESTION, "k": 5}).json()
            assert data["passages"][0]["source"].startswith("corpus/charte/")
            assert http.get("/api/health").json()["status"] == "ok"
            page = http.get("/")
            assert page.status_code == 200 and "<title>Assistant IE Normandie</title>" in page.text
            assert "fonts.g" not in page.text and "cdn.jsdelivr" not in page.text, "no request outside the server"
            settings_page = http.get("/project/settings", params={"language": "fr-FR"}).json()
            assert settings_page["ui"]["language"] == "fr-FR"
            assert settings_page["features"]["unsafe_allow_html"] is False
            assert settings_page["dataPersistence"] is True, "Chainlit shows the thumbs only with a data layer"
            assert http.get("/assets/" + _pdf_worker()).status_code == 200, "the PDF viewer finds its worker"
        busy = subprocess.run([str(Path(sys.executable).parent / "assistant"), "serve", "--port", str(port),
                               "--index-dir", str(settings.index_dir)], env={**os.environ, "ASSISTANT_MODEL": "hash"},
                              capture_output=True, text=True, timeout=60)
        assert busy.returncode == 1 and f"impossible d'écouter sur 127.0.0.1:{port}" in busy.stderr
    finally:
        stop_server(process)
    assert process.returncode is not None
    assert (tmp_path / "q.sqlite3").is_file()


def _pdf_worker() -> str:
    import chainlit

    assets = Path(chainlit.__file__).parent / "frontend" / "dist" / "assets"
    return next(p.name for p in assets.iterdir() if p.name.startswith("pdf.worker"))


def test_pdf_outside_the_project_is_served(tiny_corpus, tmp_path):
    """Sources indexed from elsewhere (../shared, a partner's folder) carry absolute paths."""
    from fastapi.testclient import TestClient

    from assistant.api import Runtime, create_app, set_runtime
    from assistant.config import Settings
    from assistant.embed import HashEmbedder
    from assistant.feedback import FeedbackStore
    from assistant.index import build_index
    from assistant.service import Assistant

    settings = Settings(index_dir=tmp_path / "index", model="hash")
    build_index([tiny_corpus], settings, HashEmbedder(), show_progress=False)
    runtime = Runtime.create(Assistant.load(settings, HashEmbedder()), FeedbackStore(tmp_path / "q.sqlite3"))
    try:
        pdf = next(p for p in runtime.passages.values() if p.source.endswith(".pdf"))
        assert runtime.has_pdf(pdf)
        with TestClient(create_app(runtime, with_chat=False)) as client:
            response = client.get(runtime.pdf_url(pdf))
            assert response.status_code == 200 and response.content.startswith(b"%PDF"), pdf.source
    finally:
        set_runtime(None)


def test_a_log_of_the_previous_version_gains_the_outcome_column(tmp_path):
    """A questions log written before outcomes existed is read, its refusals counted, and new rows logged."""
    import sqlite3

    from assistant.feedback import FeedbackStore
    from assistant.schema import Answer

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE questions (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at TEXT NOT NULL, "
                    "channel TEXT NOT NULL, session_id TEXT, message_id TEXT UNIQUE, question TEXT NOT NULL, "
                    "normalized TEXT NOT NULL, filters TEXT NOT NULL, k INTEGER, abstained INTEGER NOT NULL, "
                    "top_score REAL, top_dense REAL, passages TEXT NOT NULL)")
        old.execute("INSERT INTO questions (asked_at, channel, question, normalized, filters, abstained, passages) "
                    "VALUES ('2026-11-01T10:00:00+00:00', 'chat', 'Horaires du TER ?', 'horaires du ter', '{}', 1, '[]')")
    store = FeedbackStore(path)
    store.log_question(Answer(question="Horaires du TER ?", text="", abstained=False, outcome="uncertain"),
                       channel="api")
    store.log_question(Answer(question="La charte ?", text="", abstained=False, outcome="answered"), channel="api")
    rows = store.report()
    assert [(r.question, r.asked, r.unanswered) for r in rows] == [("Horaires du TER ?", 2, 2)]
    assert [q["outcome"] for q in store.questions()] == [None, "uncertain", "answered"]
