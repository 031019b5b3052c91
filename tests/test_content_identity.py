"""Content identity: a file is known by its bytes, whatever its path (real files, real FAISS, hash vectors)."""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from assistant.chunking import passage_windows
from assistant.index import build_index, load_index
from assistant.search import Searcher
from conftest import CountingEmbedder

ROOT = Path(__file__).resolve().parent.parent


def build(paths, settings):
    embedder = CountingEmbedder()
    report = build_index(list(paths), settings, embedder, show_progress=False)
    return report, embedder.calls


def copy_of(parts, dest: Path) -> Path:
    """Some folders of the shipped corpus, copied under dest."""
    for part in parts:
        shutil.copytree(ROOT / "corpus" / part, dest / part)
    return dest


def test_the_shipped_corpus_moved_to_a_new_path_embeds_nothing(settings, tmp_path):
    shutil.copytree(ROOT / "corpus", tmp_path / "c1")
    first, embedded = build([tmp_path / "c1"], settings)
    assert embedded > 0 and not first.failed
    before = load_index(settings.index_dir, settings)
    shutil.move(tmp_path / "c1", tmp_path / "c2")

    report, embedded = build([tmp_path / "c2"], settings)
    assert embedded == 0 and report.embedded == 0
    assert report.passages == first.passages == before.size
    assert len(report.unchanged) == len(first.indexed) and not report.indexed and not report.removed
    assert len(report.moved) == len(first.indexed)
    # The whole folder in one line.
    assert f"  déplacé : {tmp_path / 'c1'} → {tmp_path / 'c2'} ({len(first.indexed)} fichiers)" in report.summary()
    after = load_index(settings.index_dir, settings)
    assert all(p.source.startswith(str(tmp_path / "c2")) for p in after.passages)
    assert all(Path(k).is_relative_to(tmp_path / "c2") for k in after.manifest["files"])
    # The same index as one built from scratch at the new path: ids, texts, vectors.
    fresh = replace(settings, index_dir=tmp_path / "fresh")
    build([tmp_path / "c2"], fresh)
    scratch = load_index(fresh.index_dir, fresh)
    assert [p.to_dict() for p in after.passages] == [p.to_dict() for p in scratch.passages]
    assert (after.owners == scratch.owners).all()
    assert abs(after.all_vectors() - scratch.all_vectors()).max() < 1e-6


def test_indexing_the_same_path_again_stays_incremental(settings, tmp_path):
    corpus = copy_of(["charte", "memo"], tmp_path / "c")
    first, _ = build([corpus], settings)
    report, embedded = build([corpus], settings)
    assert embedded == 0 and report.generation == first.generation and not report.moved
    assert "déplacé" not in report.summary() and "en double" not in report.summary()


def test_two_paths_holding_the_same_files_give_one_set_of_passages(settings, tmp_path):
    a = copy_of(["charte", "pages"], tmp_path / "a")
    b = copy_of(["charte", "pages"], tmp_path / "b")
    alone = replace(settings, index_dir=tmp_path / "alone")
    single, once = build([a], alone)

    # b is given first: the rule (first path in alphabetical order) still cites a.
    report, embedded = build([b, a], settings)
    assert embedded == once and report.passages == single.passages
    index = load_index(settings.index_dir, settings)
    assert {Path(p.source).relative_to(a).parts[0] for p in index.passages} == {"charte", "pages"}
    assert len({p.id for p in index.passages}) == index.size
    assert len(report.duplicates) == len(single.indexed)
    assert f"  en double : {b} a le même contenu que {a} ({len(single.indexed)} fichiers)" in report.summary()
    # Every path is in the manifest, the copies as duplicates of the path cited.
    files = index.manifest["files"]
    copies = {k: v for k, v in files.items() if Path(k).is_relative_to(b)}
    assert len(copies) == len(single.indexed)
    assert all(v["status"] == "duplicate" and v["passages"] == 0 and v["same_as"].startswith(str(a))
               for v in copies.values())
    # Nothing changed: the same generation, nothing embedded.
    again, embedded = build([a, b], settings)
    assert embedded == 0 and again.generation == report.generation


def test_a_copy_added_later_is_not_indexed_twice_and_takes_over_when_the_original_goes(settings, tmp_path):
    a = copy_of(["memo"], tmp_path / "z-original")
    first, _ = build([a], settings)
    # The copy sorts first, but the path already cited keeps the citations (ids do not shift).
    b = copy_of(["memo"], tmp_path / "a-copie")
    report, embedded = build([b], settings)
    assert embedded == 0 and report.passages == first.passages and report.duplicates
    index = load_index(settings.index_dir, settings)
    assert all(p.source.startswith(str(a)) for p in index.passages)

    shutil.rmtree(a)
    report, embedded = build([b], settings)
    assert embedded == 0 and report.passages == first.passages and not report.removed
    assert len(report.moved) == len(first.indexed) == 1
    name = "memo/memo-intelligence-economique-entreprises-normandes.pdf"
    assert f"  déplacé : {a / name} → {b / name}" in report.summary().splitlines()
    index = load_index(settings.index_dir, settings)
    assert all(p.source.startswith(str(b)) for p in index.passages)


def test_a_copy_left_aside_takes_over_when_the_original_is_deleted(settings, tmp_path, tiny_corpus):
    a = copy_of(["charte"], tmp_path / "a")
    b = copy_of(["charte"], tmp_path / "b")
    first, _ = build([a, b], settings)
    shutil.rmtree(a)
    # Neither a nor b is given: b was known as a copy of a, and now holds the content.
    report, embedded = build([tiny_corpus], settings)
    assert embedded == len(list(_windows(tiny_corpus, settings)))
    index = load_index(settings.index_dir, settings)
    charter = [p for p in index.passages if "charte" in p.source]
    assert len(charter) == first.passages and all(p.source.startswith(str(b)) for p in charter)
    assert not report.removed and report.moved


def _windows(corpus, settings):
    """The texts a fresh build of `corpus` embeds."""
    fresh = replace(settings, index_dir=settings.index_dir.parent / "windows-probe")
    build([corpus], fresh)
    for passage in load_index(fresh.index_dir, fresh).passages:
        yield from passage_windows(passage)


def test_renaming_reuses_vectors_unless_the_title_came_from_the_name(settings, tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "guide-sauvegardes.md").write_text(
        "---\ntitle: Guide des sauvegardes\n---\n# Guide des sauvegardes\n\n"
        "Une sauvegarde hors ligne permet de redémarrer après un rançongiciel.\n", encoding="utf-8")
    (corpus / "note-de-veille.md").write_text(
        "La plasturgie normande teste ses plans de continuité. Les PME s'entraînent chaque trimestre.\n",
        encoding="utf-8")
    build([corpus], settings)
    (corpus / "guide-sauvegardes.md").rename(corpus / "sauvegardes-2024.md")
    (corpus / "note-de-veille.md").rename(corpus / "veille-plasturgie.md")
    report, embedded = build([corpus], settings)
    index = load_index(settings.index_dir, settings)
    titles = {Path(p.source).name: p.title for p in index.passages}
    # The guide names itself: its vectors are reused. The note's title is its file name: it is read anew.
    assert titles == {"sauvegardes-2024.md": "Guide des sauvegardes", "veille-plasturgie.md": "Veille plasturgie"}
    assert [Path(p).name for p in report.indexed] == ["veille-plasturgie.md"]
    assert [Path(p).name for p in report.unchanged] == ["sauvegardes-2024.md"]
    assert embedded == sum(len(passage_windows(p)) for p in index.passages if p.title == "Veille plasturgie")
    assert len(report.moved) == 2 and not report.removed


def test_two_files_swapped_embed_nothing(settings, tmp_path, embedder):
    corpus = copy_of(["charte", "memo"], tmp_path / "c")
    charter, memo = next((corpus / "charte").iterdir()), next((corpus / "memo").iterdir())
    build([corpus], settings)
    held = charter.read_bytes()
    charter.write_bytes(memo.read_bytes())
    memo.write_bytes(held)
    report, embedded = build([corpus], settings)
    assert embedded == 0 and not report.moved and len(report.unchanged) == 2
    index = load_index(settings.index_dir, settings)
    titles = {Path(p.source).name: p.title for p in index.passages}
    assert titles[memo.name].startswith("Charte") and titles[charter.name].startswith("Mémo")
    hits = Searcher(index, embedder, settings).search("charte cybersécurité prestataires", k=1)
    assert hits and hits[0].passage.source.endswith(memo.name)


def test_the_same_bytes_under_another_suffix_are_another_document(settings, tmp_path):
    # The reader is chosen by suffix: these bytes are headed Markdown as .md, and one plain paragraph as .txt.
    corpus = tmp_path / "c"
    corpus.mkdir()
    text = "# Sauvegardes\n\nUne sauvegarde hors ligne permet de redémarrer après un rançongiciel.\n"
    (corpus / "note.md").write_text(text, encoding="utf-8")
    (corpus / "note.txt").write_text(text, encoding="utf-8")
    report, _ = build([corpus], settings)
    assert len(report.indexed) == 2 and not report.duplicates


def test_an_index_holding_a_content_twice_keeps_it_once(settings, tmp_path, monkeypatch):
    import assistant.index as index_module

    a = copy_of(["charte"], tmp_path / "a")
    b = copy_of(["charte"], tmp_path / "b")
    single, _ = build([a], replace(settings, index_dir=tmp_path / "alone"))
    # As an index written before content identity: both paths indexed, each with its passages.
    with monkeypatch.context() as patch:
        patch.setattr(index_module, "_primaries", lambda claims, kept, providers: {})
        build([a, b], settings)
    assert load_index(settings.index_dir, settings).size == 2 * single.passages
    # Indexing another folder is enough: the copy kept from before becomes a duplicate.
    other = copy_of(["memo"], tmp_path / "autre")
    report, _ = build([other], settings)
    index = load_index(settings.index_dir, settings)
    charter = [p for p in index.passages if "charte" in p.source]
    assert len(charter) == single.passages and all(p.source.startswith(str(a)) for p in charter)
    assert report.duplicates == [(str(next((b / "charte").iterdir())), str(next((a / "charte").iterdir())))]


def test_when_the_cited_file_is_edited_its_copy_keeps_the_former_content(settings, tmp_path):
    a = tmp_path / "a"
    b = tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "guide.md").write_text("# Guide des sauvegardes\n\nLa règle 3-2-1 : trois copies, deux supports, "
                                         "une copie hors site.\n", encoding="utf-8")
    build([a], settings)
    report, _ = build([b], settings)
    assert report.duplicates
    (a / "guide.md").write_text("# Guide des sauvegardes\n\nNouvelle version : tester la restauration chaque "
                                "trimestre.\n", encoding="utf-8")
    report, embedded = build([a], settings)
    index = load_index(settings.index_dir, settings)
    texts = {Path(p.source).parent.name: p.text for p in index.passages}
    assert "Nouvelle version" in texts["a"] and "3-2-1" in texts["b"]
    # Only the new text was embedded: the copy took the former vectors over.
    assert embedded == sum(len(passage_windows(p)) for p in index.passages if Path(p.source).parent.name == "a")
    assert [Path(p).parent.name for p in report.unchanged] == ["b"] and not report.moved
