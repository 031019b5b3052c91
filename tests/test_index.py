"""Index builds with a fake embedder: incremental, atomic, locked, and checked at load."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.embed import HashEmbedder
from assistant.index import (IndexBusy, IndexCorrupt, IndexMismatch, IndexNotFound, NoDocuments, build_index,
                             build_lock, current_generation, load_index)
from assistant.search import Filters, Searcher
from conftest import CountingEmbedder

ROOT = Path(__file__).resolve().parent.parent


def test_build_then_search(tiny_corpus, settings, embedder):
    report = build_index([tiny_corpus], settings, embedder, show_progress=False)
    assert len(report.indexed) == 3 and not report.failed and report.passages > 0
    index = load_index(settings.index_dir, settings)
    assert index.size == report.passages
    # One vector per sentence window; every window belongs to a passage and every passage has one.
    assert index.vectors.ntotal == len(index.owners) >= index.size
    assert set(index.owners.tolist()) == set(range(index.size))
    hits = Searcher(index, embedder, settings).search("comment redémarrer après un rançongiciel", k=3)
    assert hits[0].passage.title == "Guide des sauvegardes"
    assert hits[0].passage.section == "Pourquoi sauvegarder"
    assert [h.rank for h in hits] == [1, 2, 3]


def test_reindex_embeds_only_changes_and_drops_deleted(tiny_corpus, settings):
    first = CountingEmbedder()
    build_index([tiny_corpus], settings, first, show_progress=False)
    again = CountingEmbedder()
    report = build_index([tiny_corpus], settings, again, show_progress=False)
    assert again.calls == 0 and len(report.unchanged) == 3 and not report.indexed

    (tiny_corpus / "guides" / "sauvegarde.md").write_text("# Guide\n\nNouvelle version sur la règle 3-2-1.\n",
                                                          encoding="utf-8")
    (tiny_corpus / "bulletin-2025-03.pdf").unlink()
    third = CountingEmbedder()
    report = build_index([tiny_corpus], settings, third, show_progress=False)
    assert report.indexed == [p for p in report.indexed if p.endswith("sauvegarde.md")] and len(report.indexed) == 1
    assert report.removed and report.removed[0].endswith("bulletin-2025-03.pdf")
    assert third.calls == 1
    index = load_index(settings.index_dir, settings)
    assert all(not p.source.endswith(".pdf") for p in index.passages)
    assert any("Nouvelle version" in p.text for p in index.passages)


def test_naming_one_file_keeps_the_others(tiny_corpus, settings, embedder, tmp_path):
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    extra = tmp_path / "extra.md"
    extra.write_text("# Ajout\n\nUn webinaire sur la sécurité économique.\n", encoding="utf-8")
    report = build_index([extra], settings, embedder, show_progress=False)
    assert not report.removed
    sources = {p.source for p in load_index(settings.index_dir, settings).passages}
    assert len(sources) == 4


def test_failed_file_is_listed_and_others_indexed(tiny_corpus, settings, embedder):
    (tiny_corpus / "casse.pdf").write_bytes(b"%PDF-1.7\n garbage without objects")
    (tiny_corpus / "vide.md").write_bytes(b"")
    report = build_index([tiny_corpus], settings, embedder, show_progress=False)
    failed = dict(report.failed)
    assert set(Path(p).name for p in failed) == {"casse.pdf", "vide.md"}
    assert len(report.indexed) == 3
    assert "échec" in report.summary() and "casse.pdf" in report.summary()
    manifest = load_index(settings.index_dir, settings).manifest
    errors = {Path(k).name: v.get("error") for k, v in manifest["files"].items()}
    assert errors["casse.pdf"] and errors["vide.md"]


def test_broken_new_version_keeps_previous_passages(tiny_corpus, settings, embedder):
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    (tiny_corpus / "bulletin-2025-03.pdf").write_bytes(b"%PDF-1.4 truncated")
    report = build_index([tiny_corpus], settings, embedder, show_progress=False)
    assert "version précédente conservée" in dict(report.failed)[str(tiny_corpus / "bulletin-2025-03.pdf")]
    index = load_index(settings.index_dir, settings)
    assert any("rançongiciels" in p.text for p in index.passages if p.source.endswith(".pdf"))


def test_nothing_indexable(tmp_path, settings, embedder):
    folder = tmp_path / "vide"
    folder.mkdir()
    (folder / "image.png").write_bytes(b"\x89PNG")
    with pytest.raises(NoDocuments, match="aucun document indexable"):
        build_index([folder], settings, embedder, show_progress=False)


def test_fingerprint_mismatch_names_rebuild_command(tiny_corpus, settings, embedder):
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    other = replace(settings, chunk_size=500)
    with pytest.raises(IndexMismatch, match=r"chunk_size 900 ≠ 500.*assistant index --index-dir"):
        load_index(settings.index_dir, other)
    with pytest.raises(IndexNotFound, match="assistant index"):
        load_index(settings.index_dir.parent / "ailleurs", settings)


@pytest.mark.parametrize("victim", ["vectors.faiss", "owners.npy", "passages.jsonl", "manifest.json",
                                    "lexical/vocab.index.json"])
def test_corrupt_files_are_detected(tiny_corpus, settings, embedder, victim):
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    path = settings.index_dir / "current" / victim
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorrupt) as err:
        load_index(settings.index_dir, settings)
    assert Path(victim).name in str(err.value) and "assistant index" in str(err.value)


def test_failure_mid_build_leaves_previous_index(tiny_corpus, settings, embedder):
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    before = load_index(settings.index_dir, settings)

    class Exploding(HashEmbedder):
        def embed_passages(self, texts, progress=None):
            raise KeyboardInterrupt

    (tiny_corpus / "nouveau.md").write_text("# Nouveau\n\nTexte nouveau.\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        build_index([tiny_corpus], settings, Exploding(), show_progress=False)
    after = load_index(settings.index_dir, settings)
    assert after.folder == before.folder and after.size == before.size


def test_second_build_is_refused_while_one_runs(tiny_corpus, settings, embedder):
    with build_lock(settings.index_dir):
        with pytest.raises(IndexBusy, match="occupé"):
            build_index([tiny_corpus], settings, embedder, show_progress=False, wait=False)


SLOW_BUILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from assistant.config import Settings
    from assistant.embed import HashEmbedder
    from assistant.index import build_index

    class Slow(HashEmbedder):
        def embed_passages(self, texts, progress=None):
            Path(sys.argv[3]).write_text("embedding")
            time.sleep(60)
            return super().embed_passages(texts, progress)

    settings = Settings(index_dir=Path(sys.argv[2]), model="hash")
    build_index([Path(sys.argv[1])], settings, Slow(), show_progress=False)
""")


def test_kill_9_mid_build_leaves_previous_index_and_next_build_finishes(tiny_corpus, settings, embedder, tmp_path):
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    before = load_index(settings.index_dir, settings)
    (tiny_corpus / "ajout.md").write_text("# Ajout\n\nLe colloque de Cerisy sur les territoires.\n", encoding="utf-8")
    marker = tmp_path / "marker"
    script = tmp_path / "slow_build.py"
    script.write_text(SLOW_BUILD, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(tiny_corpus), str(settings.index_dir), str(marker)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the build never reached the embedding step"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    after = load_index(settings.index_dir, settings)
    assert after.folder == before.folder and after.size == before.size
    report = build_index([tiny_corpus], settings, embedder, show_progress=False)
    assert [Path(p).name for p in report.indexed] == ["ajout.md"]
    leftovers = [p.name for p in settings.index_dir.iterdir() if p.name.startswith(".tmp-")]
    assert not leftovers


def test_filters_restrict_results(tiny_corpus, settings, embedder):
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    searcher = Searcher(load_index(settings.index_dir, settings), embedder, settings)
    hits = searcher.search("rançongiciel sauvegardes", k=5, filters=Filters(doc_types=("bulletin",)))
    assert hits and all(h.passage.doc_type == "bulletin" for h in hits)
    assert searcher.search("rançongiciel", filters=Filters(date_from="2030-01-01")) == []


def test_manifest_records_files_and_settings(tiny_corpus, settings, embedder):
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    manifest = json.loads((settings.index_dir / "current" / "manifest.json").read_text())
    assert manifest["fingerprint"] == settings.fingerprint()
    assert manifest["settings"]["chunk_size"] == settings.chunk_size
    record = next(v for k, v in manifest["files"].items() if k.endswith("sauvegarde.md"))
    assert len(record["sha256"]) == 64 and record["passages"] >= 1


def test_incremental_vectors_equal_a_full_rebuild(tiny_corpus, settings, embedder, tmp_path):
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    (tiny_corpus / "guides" / "sauvegarde.md").write_text(
        "# Guide\n\nPremière phrase sur la sauvegarde. Deuxième phrase sur les supports. Troisième phrase.\n",
        encoding="utf-8")
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    incremental = load_index(settings.index_dir, settings)
    fresh_settings = replace(settings, index_dir=tmp_path / "fresh")
    build_index([tiny_corpus], fresh_settings, embedder, show_progress=False)
    fresh = load_index(fresh_settings.index_dir, fresh_settings)
    assert [p.id for p in incremental.passages] == [p.id for p in fresh.passages]
    assert (incremental.owners == fresh.owners).all()
    assert abs(incremental.all_vectors() - fresh.all_vectors()).max() < 1e-6


@pytest.mark.parametrize("question, asked", [
    ("que dit le bulletin de veille de novembre 2026 ?", "novembre 2026"),
    ("les bulletins de 2023 sur les rançongiciels", "de 2023"),
    ("sommaire du bulletin n° 60", "n° 60"),
    # A guide is dated June 2024, no bulletin is: the issue asked for is not indexed.
    ("que disait le bulletin de juin 2024 ?", "juin 2024"),
])
def test_issue_that_is_not_indexed_is_said_so(tiny_corpus, settings, embedder, question, asked):
    from assistant.service import Assistant

    build_index([tiny_corpus], settings, embedder, show_progress=False)
    answer = Assistant.load(settings, embedder).ask(question)
    # Uncertain, not blank: the issue is not there, the closest passages of the other issues are.
    assert answer.outcome == "uncertain" and not answer.abstained and answer.hits
    assert asked in answer.text and answer.reason == answer.text
    assert "« Bulletin de veille collaborative n° 31 — mars 2025 »" in answer.text


def test_issue_that_is_indexed_is_answered(tiny_corpus, settings, embedder):
    from assistant.service import Assistant

    build_index([tiny_corpus], settings, embedder, show_progress=False)
    assistant = Assistant.load(settings, embedder)
    for question in ("le bulletin de mars 2025 sur les rançongiciels", "bulletin n° 31 rançongiciels"):
        assert assistant.searcher.uncovered_period(question) is None
    # A date that is not about an issue (no publication named) never blocks an answer.
    assert assistant.searcher.uncovered_period("que change la loi en novembre 2026 ?") is None


def test_following_passage_is_the_next_cut_of_the_same_section(tiny_corpus, settings, embedder):
    steps = "\n".join(f"{n}. Étape {n} de la procédure d'adhésion, décrite en détail pour le prestataire "
                      f"qui souhaite rejoindre la charte régionale de cybersécurité." for n in range(1, 25))
    (tiny_corpus / "guides" / "adhesion.md").write_text(
        f"---\ntitle: Adhésion\n---\n# Adhésion\n\n## Les étapes\n\nL'adhésion suit ces étapes :\n{steps}\n\n"
        "## Après\n\nLe signataire figure sur la liste publique.\n", encoding="utf-8")
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    index = load_index(settings.index_dir, settings)
    cuts = [p for p in index.passages if p.title == "Adhésion" and p.section == "Les étapes"]
    assert len(cuts) >= 3
    assert [index.following(p) for p in cuts[:-1]] == cuts[1:]
    # The last cut of a section has no sequel: the next section is another passage's business.
    assert index.following(cuts[-1]) is None


def test_a_table_of_contents_comes_after_the_item_it_lists(tiny_corpus, settings, embedder):
    items = {"Rançongiciel dans une PME de plasturgie normande": "Une PME de plasturgie a restauré ses "
             "sauvegardes hors ligne en quatre jours après l'attaque.",
             "Registre partagé pour les produits laitiers de la Manche": "Des coopératives tracent le lait "
             "de la ferme au magasin.",
             "Agents conversationnels dans les services clients": "Des PME confient les demandes simples "
             "à un assistant."}
    listing = "\n".join(f"- {title}" for title in items)
    body = "\n\n".join(f"## {title}\n\n{text}" for title, text in items.items())
    (tiny_corpus / "guides" / "lettre.md").write_text(
        f"---\ntitle: Lettre de veille\n---\n# Lettre de veille\n\n## Au sommaire\n\n{listing}\n\n{body}\n",
        encoding="utf-8")
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    index = load_index(settings.index_dir, settings)
    contents = [row for row, p in enumerate(index.passages) if p.section == "Au sommaire"]
    assert [index.passages[row].points_elsewhere for row in contents] == [True]
    assert not any(p.points_elsewhere for p in index.passages if p.title != "Lettre de veille")
    # An index written before the field existed is marked alike when loaded.
    stored = current_generation(settings.index_dir) / "passages.jsonl"
    rows = [json.loads(line) for line in stored.read_text(encoding="utf-8").splitlines()]
    assert all("points_elsewhere" in row for row in rows)
    stored.write_text("".join(json.dumps({k: v for k, v in row.items() if k != "points_elsewhere"}) + "\n"
                              for row in rows), encoding="utf-8")
    assert load_index(settings.index_dir, settings, verify=False).passages == index.passages
    searcher = Searcher(index, embedder, settings)
    # The table holds the words of both headlines asked about, each item those of one.
    hits = searcher.search("rançongiciel plasturgie, registre partagé laitier", k=5)
    sections = [h.passage.section for h in hits]
    assert sections[1] == "Au sommaire" and sections[0] in items, sections
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    # Asked what the letter contains, the table of contents keeps its place.
    assert searcher.search("sommaire de la lettre de veille", k=5)[0].passage.section == "Au sommaire"


def test_a_masthead_points_elsewhere_and_a_short_sentence_does_not():
    from assistant.chunking import _is_masthead
    from assistant.schema import Passage

    def passage(text):
        return Passage(id="b-p1-0.0", text=text, title="Bulletin n° 49", source="b.pdf", doc_type="bulletin")

    assert _is_masthead(passage("RÉGION NORMANDIE\nBulletin de veille collaborative n° 49 — octobre 2026\n"
                                "Cybersécurité · Intelligence artificielle · Blockchain\nPublié le 13 octobre 2026"))
    assert not _is_masthead(passage("Bulletin n° 49\nLa charte accueille douze nouveaux signataires."))
    assert not _is_masthead(passage("Sans titre " * 50))  # long: content, however it is laid out
    # A catalogue entry under its own heading is content, however short.
    entry = replace(passage("Description : Être assisté en cas de cybermalveillance\nLien : https://exemple.fr"),
                    section="17Cyber (service)")
    assert not _is_masthead(entry) and _is_masthead(replace(entry, section=None))


def test_a_topic_asked_in_a_named_period_brings_items_before_covers(tiny_corpus, settings, embedder):
    months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août")
    for month_number, month in enumerate(months, start=1):
        number = 28 + month_number
        # Each issue's cover names the themes; only the two first issues have a blockchain item.
        texts = {1: "Des coopératives de la Manche tracent le lait sur une blockchain depuis l'été.",
                 2: "Un registre blockchain certifie l'origine du cidre du Pays d'Auge pour les acheteurs."}
        item = f"## Blockchain — un registre partagé\n\n{texts[month_number]}\n\n" if month_number in texts else ""
        (tiny_corpus / "guides" / f"veille-{number}.md").write_text(
            f"---\ntitle: Bulletin de veille n° {number} — {month} 2025\ndate: 2025-{month_number:02d}-10\n"
            f"doc_type: bulletin\n---\nRÉGION NORMANDIE\nBulletin de veille collaborative n° {number} — {month} 2025\n"
            f"Cybersécurité · Intelligence artificielle · Blockchain\nPublié le 10 {month} 2025\n\n{item}"
            "## Cybersécurité — sauvegardes\n\nLes PME testent la restauration de leurs sauvegardes chaque mois.\n",
            encoding="utf-8")
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    index = load_index(settings.index_dir, settings)
    covers = {row for row, p in enumerate(index.passages) if "veille-" in p.source and p.points_elsewhere}
    assert len(covers) == len(months)
    searcher = Searcher(index, embedder, settings)
    hits = searcher.search("veille blockchain 2025", k=2)
    # Both items come first, whatever the covers' scores (eight covers name the blockchain); covers follow content.
    assert [h.passage.section for h in hits[:2]] == ["Blockchain — un registre partagé"] * 2, hits
    is_cover = [index.passages.index(h.passage) in covers for h in hits]
    assert is_cover == sorted(is_cover), is_cover
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    # The issue alone (« la veille de mars 2025 ») is answered by its content: its cover is never the answer
    # (issue 17), it follows.
    alone = searcher.search("la veille de mars 2025", k=4)
    assert alone[0].passage.date.startswith("2025-03") and index.passages.index(alone[0].passage) not in covers, alone
    is_cover = [index.passages.index(h.passage) in covers for h in alone]
    assert is_cover == sorted(is_cover), is_cover
