"""The rules after retrieval: listed once, each named by a rule, documented, and switched off by its name."""
from __future__ import annotations

from assistant import rules, stages
from assistant.query import Query


def test_every_stage_is_listed_once_with_its_rule_and_its_measured_effect():
    names = [run.rule for run in stages.PIPELINE]
    assert len(names) == len(set(names)), names
    assert set(names) <= set(rules.RULES), set(names) - set(rules.RULES)
    for run in stages.PIPELINE:
        assert run.__doc__ and len(run.__doc__) > 80, f"{run.__name__}: its docstring states its measured effect"


def test_a_stage_switched_off_passes_its_candidates_on_and_a_check_finds_nothing():
    class Searcher:  # a searcher that would fail if read
        def __getattr__(self, name):
            raise AssertionError(f"read {name} with the stage off")

    context = stages.Context(Searcher(), k=2)
    candidates = [(3, 0.9), (1, 0.5), (2, 0.1)]
    query = Query.parse("le dernier bulletin sur la blockchain")
    with rules.switched_off("duplicates", "pointers", "spread", "period"):
        assert list(stages.duplicates(query, iter(candidates), context)) == candidates
        assert list(stages.pointers(query, iter(candidates), context)) == candidates
        assert list(stages.spread(query, iter(candidates), context)) == candidates
        assert stages.uncovered_period(query, [], context) is None


def test_one_passage_per_section_among_the_first_three_and_the_others_right_after():
    from types import SimpleNamespace

    from assistant.schema import Passage

    def passage(n: int, section: str | None, source: str = "guide.md") -> Passage:
        return Passage(id=str(n), text=f"Passage {n}.", title="Guide", source=source, doc_type="guide", section=section)

    passages = [passage(0, "Sauvegardes"), passage(1, "Sauvegardes"), passage(2, "Sauvegardes"),
                passage(3, "Mots de passe"), passage(4, None), passage(5, None), passage(6, "Sauvegardes", "autre.md"),
                passage(7, "Mises à jour")]
    searcher = SimpleNamespace(index=SimpleNamespace(passages=passages))
    query = Query.parse("comment faire les sauvegardes ?")
    ranked = [(row, 1.0 - row / 10) for row in range(8)]
    rows = [row for row, _ in stages.spread(query, iter(ranked), stages.Context(searcher, k=8, mode="hybrid"))]
    # The section's second and third passages wait for another section; then they come, best first.
    assert rows == [0, 3, 4, 1, 2, 5, 6, 7]
    # Passages without a section are each their own; the same section in another file is another section.
    ranked = [(0, 0.9), (6, 0.8), (1, 0.7), (3, 0.6)]
    assert [row for row, _ in stages.spread(query, iter(ranked), stages.Context(searcher, k=4, mode="hybrid"))] \
        == [0, 6, 3, 1]
    ranked = [(4, 0.9), (5, 0.8), (1, 0.7), (0, 0.6)]
    assert [row for row, _ in stages.spread(query, iter(ranked), stages.Context(searcher, k=4, mode="hybrid"))] \
        == [4, 5, 1, 0]
    # Only the fused search spreads.
    assert list(stages.spread(query, iter(ranked), stages.Context(searcher, k=4, mode="dense"))) == ranked


def test_query_is_read_once_and_accepted_as_text():
    query = Query.parse("Combien coûte le diagnostic en 2024 ?")
    assert Query.of(query) is query
    assert query.asked is not None and query.asked.kind == "montant" and query.asked.year == "2024"
    assert query.folded == "combien coute le diagnostic en 2024 ?"
    assert Query.of("") == Query.parse("")  # empty input: a Query all the same


def test_a_choice_between_options_no_passage_names_is_uncertain():
    from assistant.lexical import LexicalIndex
    from assistant.schema import Passage

    lexical = LexicalIndex.build([Passage(id=str(n), text=text, title="Guide", source="g.md", doc_type="guide")
                                  for n, text in enumerate([
                                      "Un antivirus à jour protège chaque poste de travail.",
                                      "Le VPN et la double authentification protègent les accès distants."])])
    context = stages.Context(lexical=lexical)
    reason = stages.choice_not_covered(Query.parse("quel antivirus pour 5 postes, bitdefender ou kaspersky ?"), [],
                                       context)
    assert reason and "« bitdefender », « kaspersky »" in reason and "postes" not in reason
    # A word of the question before the options is not one, even unknown (« pc »); names listed are.
    reason = stages.choice_not_covered(Query.parse("pour 5 pc, bitdefender ou kaspersky ?"), [], context)
    assert reason and "(« bitdefender », « kaspersky »)" in reason
    reason = stages.choice_not_covered(Query.parse("quel EDR : CrowdStrike, SentinelOne ou HarfangLab ?"), [], context)
    assert reason and "(« CrowdStrike », « SentinelOne », « HarfangLab »)" in reason
    # Options the passages name, one of them typed with a typo: the documents may answer.
    assert stages.choice_not_covered(Query.parse("VPN ou double authentifcation ?"), [], context) is None
    assert stages.choice_not_covered(Query.parse("antivirus ou kaspersky ?"), [], context) is None
    with rules.switched_off("choice"):
        assert stages.choice_not_covered(Query.parse("bitdefender ou kaspersky ?"), [], context) is None


def test_a_year_asked_favours_passages_dated_in_it_and_those_whose_heading_names_it():
    from types import SimpleNamespace

    import numpy as np

    from assistant.schema import Passage
    from assistant.search import Searcher

    def bulletin(n: int, date: str, section: str) -> Passage:
        return Passage(id=str(n), text=f"Article {n}.", title="Bulletin de veille", source=f"b{date}.pdf",
                       doc_type="bulletin", section=section, date=date)

    passages = [bulletin(0, "2025-01-15", "Cybersécurité › Équipements de bordure, porte d'entrée favorite en 2024"),
                bulletin(1, "2024-06-15", "Cybersécurité › Rançongiciels"),
                bulletin(2, "2025-01-15", "Intelligence artificielle › Agents"),
                bulletin(3, "2025-03-15", "Cybersécurité › Les chiffres de 20245 hypothétiques")]
    searcher = Searcher.__new__(Searcher)
    searcher.index = SimpleNamespace(passages=passages, size=len(passages))
    searcher._date_array = None
    context = stages.Context(searcher, k=4, mode="hybrid", lexical_scores=np.zeros(4, dtype=np.float32))
    rows, fused = stages.time_boost(Query.parse("le bilan de la menace dans les bulletins de 2024 ?"),
                                    (np.arange(4), np.zeros(4, dtype=np.float32)), context)
    boosted = {int(row) for row, score in zip(rows, fused) if score > 0}
    assert boosted == {0, 1}  # dated in 2024, or a heading that names 2024 (not « 20245 »)
    # A month names no whole year: the heading's year is not enough.
    rows, fused = stages.time_boost(Query.parse("le bulletin de juin 2024 ?"),
                                    (np.arange(4), np.zeros(4, dtype=np.float32)), context)
    assert {int(row) for row, score in zip(rows, fused) if score > 0} == {1}
    with rules.switched_off("time"):
        assert stages.time_boost(Query.parse("la veille sur la menace en 2024"), (np.arange(4), np.zeros(4)), context)[1].sum() == 0


def test_a_value_is_read_in_a_passages_text_before_any_title():
    from assistant.asked import asked_value
    from assistant.schema import Hit, Passage

    def hit(rank: int, title: str, text: str) -> Hit:
        return Hit(passage=Passage(id=str(rank), text=text, title=title, source=f"b{rank}.pdf", doc_type="bulletin"),
                   score=1.0 / rank, rank=rank)

    asked = asked_value("le cyber resilience act, c'est quoi les dates qui nous concernent ?")
    hits = [hit(1, "Bulletin de veille collaborative n° 25 — octobre 2024", "Le règlement arrive au terme de son adoption."),
            hit(2, "Bulletin de veille collaborative n° 39 — décembre 2025",
                "Deux jalons approchent : en juin 2026, puis en septembre 2026 l'obligation de signaler.")]
    assert stages.value_source(hits, asked).rank == 2  # the date in a title is not the dates asked for
    assert stages.value_source(hits[:1], asked).rank == 1  # a title, when no text gives one


def test_a_remedy_in_the_askers_own_dispute_that_no_passage_treats_is_uncertain():
    from assistant.schema import Hit, Passage

    def hit(rank: int, text: str) -> Hit:
        return Hit(passage=Passage(id=str(rank), text=text, title="Mémo", source="m.pdf", doc_type="memo"),
                   score=1.0, rank=rank)

    context = stages.Context()
    shown = [hit(1, "Identifiez les informations sensibles de l'entreprise et limitez leurs accès.")]
    reason = stages.remedy_not_covered(Query.parse("il a copié le fichier clients, je peux le licencier pour faute "
                                                   "grave ?"), shown, context)
    assert reason == "Les documents indexés ne traitent pas de « licencier »."
    # A passage shown that treats it, or a question that asks no remedy: no doubt from this check.
    treated = [hit(1, "Une faute grave justifie un licenciement sans préavis.")]
    assert stages.remedy_not_covered(Query.parse("je peux le licencier pour faute grave ?"), treated, context) is None
    assert stages.remedy_not_covered(Query.parse("comment protéger le fichier clients ?"), shown, context) is None
    with rules.switched_off("remedy"):
        assert stages.remedy_not_covered(Query.parse("je peux le licencier ?"), shown, context) is None
