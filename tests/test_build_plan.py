"""The plan of a build on its own: what changed, decided from hashes before any file is read."""
from __future__ import annotations

import pytest

from assistant.chunking import passage_windows
from assistant.index import NoDocuments, build_index, current_generation, load_index, plan_build
from conftest import CountingEmbedder


def test_plan_of_one_added_one_changed_one_removed_one_moved_file(tiny_corpus, settings):
    (tiny_corpus / "notes.md").write_text("# Notes\n\nLa veille concurrentielle suit les brevets déposés.\n",
                                          encoding="utf-8")
    build_index([tiny_corpus], settings, CountingEmbedder(), show_progress=False)
    previous = load_index(settings.index_dir, settings)
    before = current_generation(settings.index_dir)

    def key(name: str) -> str:
        return str((tiny_corpus / name).resolve())

    old_programme = key("pages/programme.html")
    (tiny_corpus / "nouveau.md").write_text("# Nouveau\n\nUne note sur la sécurité économique des PME.\n",
                                            encoding="utf-8")
    guide = tiny_corpus / "guides" / "sauvegarde.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\nTestez la restauration chaque trimestre.\n",
                     encoding="utf-8")
    (tiny_corpus / "notes.md").unlink()
    (tiny_corpus / "archive").mkdir()
    (tiny_corpus / "pages" / "programme.html").rename(tiny_corpus / "archive" / "programme.html")

    plan = plan_build([tiny_corpus], previous)
    added, changed, moved = key("nouveau.md"), key("guides/sauvegarde.md"), key("archive/programme.html")
    unchanged = key("bulletin-2025-03.pdf")
    assert {k for _, k, _ in plan.holders} == {added, changed, moved, unchanged}, plan.holders
    assert not plan.copies and not plan.kept and not plan.kept_as_is
    assert added not in plan.old_files and changed in plan.old_files, "added: new path; changed: known path"
    assert plan.same_as_before == {unchanged}, "only the untouched file keeps its passages without reading"
    assert plan.reused_from == {moved: old_programme}, "the moved file's bytes are known under its old path"
    assert plan.dropped == {key("notes.md"), old_programme}
    assert current_generation(settings.index_dir) == before, "planning writes nothing"

    # Applied, the build does what the plan said: only the added and changed files are read into new vectors.
    source = {k: record["source"] for _, k, record in plan.holders}
    embedder = CountingEmbedder()
    report = build_index([tiny_corpus], settings, embedder, show_progress=False)
    assert sorted(report.indexed) == sorted([source[added], source[changed]])
    assert [new for _, new in report.moved] == [source[moved]]
    assert len(report.removed) == 1 and report.removed[0].endswith("notes.md"), report.removed
    after = load_index(settings.index_dir, settings)
    assert embedder.calls == sum(len(passage_windows(p)) for p in after.passages if p.source in report.indexed)


def test_plan_of_a_first_build_reads_everything(tiny_corpus):
    plan = plan_build([tiny_corpus], None)
    assert len(plan.holders) == 3 and not plan.copies
    assert not plan.same_as_before and not plan.reused_from and not plan.dropped and not plan.old_files


def test_plan_of_nothing_indexable_says_so(tmp_path):
    (tmp_path / "vide").mkdir()
    with pytest.raises(NoDocuments, match="aucun document indexable"):
        plan_build([tmp_path / "vide"], None)
