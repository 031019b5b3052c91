"""The command line: exit codes, one-line errors, JSON output, batches."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.cli import main


@pytest.fixture
def run(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_MODEL", "hash")
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_index_then_ask_json(run, tiny_corpus):
    result = run("index", str(tiny_corpus), "-q")
    assert result.exit_code == 0, result.output
    assert "3 fichier(s) indexé(s)" in result.output
    result = run("ask", "Qui pilote la démarche régionale ?", "--json", "-k", "2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"question", "answer", "outcome", "reason", "understood_as", "abstained", "contacts",
                         "nearest_topics", "passages"}
    assert len(data["passages"]) == 2
    first = data["passages"][0]
    for key in ("rank", "score", "id", "text", "title", "source", "page", "section", "date", "doc_type"):
        assert key in first
    assert first["rank"] == 1 and first["section"] == "La gouvernance"


def test_ask_human_output_cites_sources(run, tiny_corpus):
    run("index", str(tiny_corpus), "-q")
    result = run("ask", "rançongiciels plasturgie")
    assert result.exit_code == 0
    assert "[1] Bulletin de veille collaborative n° 31 — mars 2025 — bulletin de veille — page 1" in result.output


def test_failed_file_exit_codes(run, tiny_corpus):
    (tiny_corpus / "casse.pdf").write_bytes(b"not a pdf at all")
    result = run("index", str(tiny_corpus), "-q")
    assert result.exit_code == 0 and "casse.pdf" in result.output
    result = run("index", str(tiny_corpus), "-q", "--strict")
    assert result.exit_code == 1


def test_nothing_to_index_and_missing_path(run, tmp_path):
    empty = tmp_path / "vide"
    empty.mkdir()
    result = run("index", str(empty), "-q")
    assert result.exit_code == 2 and "aucun document indexable" in result.output
    result = run("index", str(tmp_path / "nulle-part"), "-q")
    assert result.exit_code == 2 and "chemin introuvable" in result.output


def test_ask_without_index_is_one_clear_line(run):
    result = run("ask", "une question")
    assert result.exit_code == 1
    assert result.output.startswith("Erreur : aucun index dans") and result.output.count("\n") == 1


def test_usage_errors(run):
    assert run("ask").exit_code == 2
    assert run("ask", "  ").exit_code == 2
    assert run("ask", "x", "-k", "0").exit_code == 2


def test_batch_plain_and_json_lines(run, tiny_corpus, tmp_path):
    run("index", str(tiny_corpus), "-q")
    batch = tmp_path / "questions.txt"
    batch.write_text('Qui pilote la démarche ?\n\n{"question": "la règle 3-2-1", "id": 7}\n', encoding="utf-8")
    result = run("ask", "--batch", str(batch), "-k", "1")
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["question"] for line in lines] == ["Qui pilote la démarche ?", "la règle 3-2-1"]
    assert all(len(line["passages"]) == 1 for line in lines)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": 1}\n', encoding="utf-8")
    result = run("ask", "--batch", str(bad))
    assert result.exit_code == 2 and "ligne 1" in result.output
    # A follow-up with its conversation: read with the previous question's topic.
    follow = tmp_path / "follow.jsonl"
    follow.write_text('{"question": "et pourquoi ?", "history": ["la règle 3-2-1 des sauvegardes"]}\n'
                      '{"question": "et pourquoi ?"}\n{"question": "x", "history": "pas une liste"}\n',
                      encoding="utf-8")
    result = run("ask", "--batch", str(follow), "-k", "1")
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert lines[0]["understood_as"] == "et pourquoi ? — la règle 3-2-1 des sauvegardes"
    assert lines[1]["understood_as"] is None
    assert result.exit_code == 2 and "ligne 3" in result.output and "history" in result.output
