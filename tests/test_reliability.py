"""Reliability under faults and hostile input, at a small scale (`make reliability` runs the same checks larger).

Each check of tools/reliability.py runs the real parts (the `assistant` command in
subprocesses, the server over a socket) and counts its errors; here each must count none.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from assistant.embed import HashEmbedder
from tools import reliability


def assert_clean(check: reliability.Check) -> None:
    assert check.errors == 0, f"{check.title} : {check.errors} erreur(s)\n" + "\n".join(check.notes)


# ---------------------------------------------------------------- hostile documents


def test_reader_fuzz_gives_passages_or_one_clear_error(tmp_path):
    check = reliability.check_fuzz(tmp_path, cases=150)
    assert_clean(check)
    assert check.figures["cases"] == 150
    outcomes = check.figures["outcomes"]
    assert outcomes.get("passages", 0) and outcomes.get("read error (clear, per file)", 0), outcomes


def test_hostile_files_in_one_build_with_limits_reported(tmp_path, tiny_corpus):
    from assistant.config import Settings
    from assistant.index import build_index, load_index
    from tools.hostile import named_cases, pdf_bytes

    for number, case in enumerate(named_cases(heavy=False)):
        (tiny_corpus / f"piege-{number:02d}{case.suffix}").write_bytes(case.data)
    (tiny_corpus / "cinq-pages.pdf").write_bytes(pdf_bytes([f"Page {i} sur la veille." for i in range(5)]))
    # About a minute of reading on this machine, stopped at 5 s (that the limit stops it is asserted, not when).
    slow = "".join(f"{'#' * (1 + i % 6)} Titre {i}\n\ntexte {i}\n" for i in range(100_000))
    (tiny_corpus / "cent-mille-titres.md").write_text(slow, encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", model="hash", max_pages=3, max_read_seconds=5.0)
    report = build_index([tiny_corpus], settings, HashEmbedder(), show_progress=False)
    failed = {Path(p).name: reason for p, reason in report.failed}
    indexed = {Path(p).name for p in report.indexed}
    assert {"programme.html", "sauvegarde.md", "bulletin-2025-03.pdf"} <= indexed, "good files are indexed"
    for path in tiny_corpus.rglob("*"):
        if path.is_file():
            assert path.name in indexed or path.name in failed, f"{path.name}: neither indexed nor reported"
    assert all("\n" not in reason for reason in failed.values())
    assert "max_pages" in failed["cinq-pages.pdf"] and "ASSISTANT_MAX_PAGES" in failed["cinq-pages.pdf"]
    assert "max_read_seconds" in failed["cent-mille-titres.md"], failed["cent-mille-titres.md"]
    assert load_index(settings.index_dir, settings).size == report.passages


def test_a_killed_reader_worker_is_one_failed_file(tmp_path):
    import threading

    from assistant.guard import BoundedReader, Limits, ReaderCrash, worker_pid

    note = tmp_path / "note.md"
    note.write_text("# Note\n\nLa veille collaborative partage les signaux faibles.\n", encoding="utf-8")
    slow = tmp_path / "lent.md"
    slow.write_text("".join(f"## Titre {i}\n\ntexte {i}\n" for i in range(20_000)), encoding="utf-8")
    with BoundedReader(Limits()) as reader:
        assert reader.read(note).title == "Note"
        # The worker dies in the middle of a file (as the OOM killer would do it): that file fails, clearly.
        threading.Timer(0.5, os.kill, (worker_pid(reader), signal.SIGKILL)).start()
        with pytest.raises(ReaderCrash, match="s'est arrêté brutalement"):
            reader.read(slow)
        document, passages = reader.read_passages(note, "notes/note.md", 900, 120)
        assert document.source == "notes/note.md" and passages and passages[0].source == "notes/note.md"
        # Killed between two files: the next file gets a fresh worker.
        os.kill(worker_pid(reader), signal.SIGKILL)
        reader._process.wait()
        assert reader.read(note).title == "Note" and reader.restarts == 1


# ---------------------------------------------------------------- durability


def test_kill_9_at_random_points(tmp_path):
    check = reliability.check_kill(tmp_path, points=2, parts=["corpus/charte", "corpus/pages"])
    assert_clean(check)
    assert check.figures["recovered"] == check.figures["kill points"] == 2


def test_every_index_file_corrupted_is_named(tmp_path):
    check = reliability.check_corruption(tmp_path, cli=False)
    assert_clean(check)
    assert check.figures["detected"] == check.figures["faults injected"] >= 40


def test_manifest_edit_that_keeps_valid_json_is_caught(tiny_corpus, settings, embedder):
    from assistant.index import IndexCorrupt, build_index, load_index

    build_index([tiny_corpus], settings, embedder, show_progress=False)
    manifest = settings.index_dir / "current" / "manifest.json"
    text = manifest.read_text(encoding="utf-8")
    assert "bulletin-2025-03.pdf" in text
    manifest.write_text(text.replace("bulletin-2025-03.pdf", "bulletin-2025-04.pdf"), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match=r"manifest.json est altéré.*assistant index --index-dir"):
        load_index(settings.index_dir, settings)


def test_two_builds_at_once(tmp_path):
    check = reliability.check_concurrent_builds(tmp_path)
    assert_clean(check)
    assert check.figures["--no-wait refused (exit 1)"]


# ---------------------------------------------------------------- live re-index


def test_runtime_follows_a_reindex_without_restart(tiny_corpus, settings, embedder, tmp_path):
    from assistant.api import Runtime
    from assistant.feedback import FeedbackStore
    from assistant.index import build_index
    from assistant.service import Assistant

    build_index([tiny_corpus], settings, embedder, show_progress=False)
    runtime = Runtime.create(Assistant.load(settings, embedder), FeedbackStore(tmp_path / "q.sqlite3"))
    before = runtime.assistant.index.folder
    pdf = next(s for s in runtime.pdfs)
    (tiny_corpus / "colloque.md").write_text("# Colloque\n\nLe colloque de Cerisy réunit les veilleurs.\n",
                                            encoding="utf-8")
    (tiny_corpus / "bulletin-2025-03.pdf").unlink()
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    assert runtime.assistant.refresh(wait=True), "the new generation is noticed"
    runtime.follow()
    assert runtime.assistant.index.folder != before
    assert any("Cerisy" in p.text for p in runtime.passages.values())
    assert pdf not in runtime.pdfs and runtime.pdf_path(pdf) is None, "a deleted PDF is no longer served"
    assert {d.title for d in runtime.catalog.documents} >= {"Colloque"}
    answer = runtime.ask("colloque de Cerisy", k=2)
    assert answer.hits[0].passage.title == "Colloque"


def test_a_damaged_generation_is_not_swapped_in(tiny_corpus, settings, embedder):
    from assistant.index import build_index
    from assistant.service import Assistant

    build_index([tiny_corpus], settings, embedder, show_progress=False)
    assistant = Assistant.load(settings, embedder)
    serving = assistant.index.folder
    (tiny_corpus / "ajout.md").write_text("# Ajout\n\nUn ajout.\n", encoding="utf-8")
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    new = (settings.index_dir / "current").resolve()
    (new / "owners.npy").write_bytes(b"\x93NUMPY garbage")
    assert assistant.refresh(wait=True)
    assert assistant.index.folder == serving, "the index in service stays"
    assert not assistant.refresh(wait=True), "a refused generation is not retried on every question"
    assert assistant.ask("sauvegarde", k=1).hits


def test_live_reindex_under_a_stream_of_questions(tmp_path):
    check = reliability.check_live_reindex(tmp_path, seconds_per_phase=1.5, clients=2,
                                           parts=("corpus/charte", "corpus/pages"), bulletins=2)
    assert_clean(check)
    assert check.figures["failed requests"] == 0 and check.figures["requests served"] > 0
    assert len(check.figures["pickup seconds"]) == 2, "both re-indexes were picked up without restart"
    assert check.figures["answers citing added documents"] > 0


# ---------------------------------------------------------------- hostile input to the app


def test_rate_limit_per_client(tmp_path):
    check = reliability.check_rate_limit(tmp_path, per_minute=20, flood=40)
    assert_clean(check)
    statuses = check.figures["statuses"]
    assert statuses.get(429, 0) >= 20 - check.figures["refill during the flood (allowed)"], statuses
    assert "réessayez dans" in check.figures["429 message"]


def test_rate_limiter_refills_and_forgets_old_clients():
    from assistant.api import RateLimiter

    limiter = RateLimiter(per_minute=2, max_clients=2)
    assert limiter.wait_time("a") == 0 and limiter.wait_time("a") == 0
    assert 0 < limiter.wait_time("a") <= 30, "the third question within a minute waits about half a minute"
    for client in ("b", "c"):
        limiter.wait_time(client)
    assert "a" not in limiter._buckets, "the least recently seen client is dropped past max_clients"
    assert RateLimiter(per_minute=0).wait_time("x") == 0, "0 means no limit"


def test_hostile_questions_and_document_text(tmp_path):
    check = reliability.check_hostile_questions(tmp_path)
    assert_clean(check)
    assert check.figures["server errors"] == 0 and check.figures["refused with a clear 422"] >= 4


def test_schemathesis_finds_no_server_error(tmp_path):
    check = reliability.check_schemathesis(tmp_path, examples=25)
    assert_clean(check)
    assert check.figures["cases"] >= 100 and check.figures["server errors (5xx)"] == 0


def test_path_traversal_is_refused(tmp_path):
    check = reliability.check_traversal(tmp_path)
    assert_clean(check)
    assert check.figures["refused"] == check.figures["attempts"] >= 50
    assert check.figures["content from outside served"] == 0
    assert check.figures["symlink out of the corpus at index time"] == "ignoré, signalé"


def test_chat_questions_share_the_rate_limit(tiny_corpus, settings, embedder, tmp_path):
    import chainlit as cl

    from assistant.api import RateLimiter, Runtime, set_runtime
    from assistant.feedback import FeedbackStore
    from assistant.index import build_index
    from assistant.service import Assistant
    from test_chat_handlers import _assistant_outputs, _load_app, _run_in_context

    build_index([tiny_corpus], settings, embedder, show_progress=False)
    runtime = Runtime.create(Assistant.load(settings, embedder), FeedbackStore(tmp_path / "q.sqlite3"))
    runtime.limiter = RateLimiter(per_minute=2)
    set_runtime(runtime)
    try:
        app = _load_app()

        async def flood():
            await app.start()
            for _ in range(3):
                await app.on_message(cl.Message(content="Comment redémarrer après un rançongiciel ?"))

        outputs = [step["output"] for step in _assistant_outputs(_run_in_context(flood))]
    finally:
        set_runtime(None)
    assert len(outputs) == 3 and "**Sources**" in outputs[0] and "**Sources**" in outputs[1]
    assert "au plus 2 par minute" in outputs[2] and "réessayez dans" in outputs[2], outputs[2]
    assert len(runtime.store.questions()) == 2, "a refused question is neither answered nor logged"


def test_memory_limit_stops_one_file_and_the_next_reads(tmp_path):
    from assistant.guard import BoundedReader, LimitReached, Limits

    big = tmp_path / "gros.txt"
    big.write_bytes(("mot " * 2_500_000).encode())  # 10 MB of text: repairing and cutting it takes far more
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nUn texte court.\n", encoding="utf-8")
    with BoundedReader(Limits(max_read_memory_mb=300)) as reader:
        with pytest.raises(LimitReached, match="ASSISTANT_MAX_READ_MEMORY_MB") as err:
            reader.read_passages(big, "gros.txt", 900, 120)
        assert err.value.limit == "max_read_memory_mb"
        assert reader.read(note).title == "Note"


def test_reader_worker_ends_with_its_build(tmp_path):
    import subprocess
    import sys
    import time

    import psutil

    slow = tmp_path / "lent.md"
    slow.write_text("".join(f"## Titre {i}\n\ntexte {i}\n" for i in range(100_000)), encoding="utf-8")
    ready = tmp_path / "pret"
    code = ("import sys; from pathlib import Path; from assistant.guard import BoundedReader, Limits\n"
            "r = BoundedReader(Limits(max_read_seconds=600)); r._start(); Path(sys.argv[2]).touch()\n"
            "r.read(Path(sys.argv[1]))\n")
    build = subprocess.Popen([sys.executable, "-c", code, str(slow), str(ready)])
    while not ready.exists() and build.poll() is None:
        time.sleep(0.05)
    workers = psutil.Process(build.pid).children()
    assert workers, "the reader worker runs"
    time.sleep(0.5)  # the worker is now inside the slow file
    build.kill()
    build.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, "a worker outlived the build killed with -9"


def test_reader_worker_whose_build_died_while_it_started_exits(tmp_path):
    """A build killed before its worker set up the death signal: the worker sees it has another parent."""
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    worker = subprocess.Popen([sys.executable, "-m", "assistant.guard", "2048", str(dead.pid)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert worker.wait(timeout=60) == 1
    finally:
        worker.kill()
