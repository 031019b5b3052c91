"""The rules that refuse, doubt or reorder, by name, each of which can be switched off to measure it.

`assistant eval` runs every set with each rule on and off (eval/results.md);
`ASSISTANT_RULES_OFF=value,typos` switches rules off in any process. The rules
after retrieval are the stages of stages.py, listed there in the order they run.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

RULES = {
    "scope": "hors sujet : question plus proche du fond de français général que de l'index (scope.py)",
    "value": "valeur demandée (montant, numéro, date…) qu'aucun passage affiché ne donne : incertain (asked.py)",
    "year": "chiffre demandé pour une année (« combien … en 2024 ») que les passages ne donnent pas près d'elle (asked.py)",
    "place": "région ou pays nommé dans la question qu'aucun passage ne nomme : incertain (asked.py)",
    "remedy": "recours dans un litige du demandeur (licenciement, faute grave, dommages et intérêts, prud'hommes) "
              "qu'aucun passage affiché ne traite : incertain (stages.py)",
    "choice": "choix entre des options nommées (« bitdefender ou kaspersky ? ») qu'aucun passage ne nomme : incertain "
              "(stages.py)",
    "bank": "hors sujet : question plus proche des questions écrites hors des sujets des documents que de celles "
            "écrites sur eux (data/offtopic_questions.jsonl, train/blind_sections.jsonl ; scope.py)",
    "homonyms": "mot des documents employé dans son sens courant (« un pare-feu pour la cheminée », « la charte "
                "graphique ») : le contrôle hors sujet lit la question sans lui (data/homonyms.tsv ; homonyms.py)",
    "glossary": "mot anglais ou familier que l'index ne connaît pas lu comme son équivalent français que l'index "
                "connaît (« deepfakes » → « hypertrucages », data/glossary.tsv ; glossary.py)",
    "followup": "question qui dépend de la précédente (« et en 2025 ? », « ça coûte combien ? ») lue avec son sujet "
                "(followup.py)",
    "alone": "question lue comme une suite mais qui change de sujet, hors des sujets de l'index (au moins quatre mots "
             "à elle, hors sujet seule) : lue seule (followup.py, service.py)",
    "replies": "question qui répond au tour d'avant (« ok c'est fait, on enchaîne sur quoi ? », « d'accord, … »), "
               "demande l'étape suivante ou s'ouvre sur « il » ou « elle » : lue comme une suite, quelle que soit sa "
               "longueur (followup.py)",
    "audience": "question de suite qui nomme un autre public (« et si on était une PME industrielle ? » après une "
                "question sur les start-up) : le public de la question d'avant n'est pas cherché (followup.py)",
    "emphasis": "mots propres à une question de suite (« et pour les téléphones ? ») comptés une fois de plus dans "
                "la recherche (followup.py)",
    "preamble": "phrases du passage qui ouvre un document sans titre de section (le préambule d'un guide) après "
                "celles des passages qui suivent, sauf question sur un document (answer.py)",
    "gaps": "éléments d'une liste numérotée cités sans trou : ceux qui manquent entre deux éléments cités sont "
            "ajoutés, ou ce qui suit le trou retiré (answer.py)",
    "pointers": "sommaires et couvertures après le contenu qu'ils annoncent (stages.py)",
    "spread": "une seule section parmi les trois premiers passages : ses passages suivants viennent juste après "
              "(stages.py)",
    "subsections": "dernière phrase citée d'un passage suivi de ses sous-sections : leurs premiers éléments la suivent "
                   "(answer.py)",
    "asks": "une phrase qui pose une question ne compte presque pas comme la meilleure phrase de son passage pour la "
            "recherche sémantique (index.py)",
    "accents": "accents remis aux mots d'une question tapée sans eux, pour la recherche sémantique (lexical.py)",
    "typos": "mot inconnu de l'index lu comme le mot indexé le plus proche (lexical.py)",
    "time": "passages du mois, de l'année, du numéro ou du dernier bulletin nommés favorisés, et ceux dont l'intertitre nomme l'année demandée (stages.py)",
    "neighbours": "sections pour lesquelles ont été écrites les questions d'entraînement les plus proches de la "
                  "question favorisées (train/blind_sections.jsonl, train/blind_situations.jsonl ; neighbours.py)",
    "duplicates": "même texte trouvé deux fois (page copiée, paragraphe répété) montré une fois (stages.py)",
    "period": "numéro ou période demandés qu'aucun document indexé ne couvre : dit, et le dernier bulletin nommé "
              "(stages.py)",
    "contents": "question sur ce que contient un numéro (« le dernier bulletin parle de quoi ? ») : la liste de ses "
                "articles, chacun cité (stages.py)",
    "overview": "question sur ce que contiennent les numéros d'une période (« les bulletins de 2025 parlaient de "
                "quoi ? ») : chaque numéro et ses articles, chacun cité (stages.py)",
    "articles": "question sur ce que les bulletins ont publié sur un sujet : les articles trouvés listés sous la "
                "réponse, du plus récent au plus ancien (stages.py)",
    "covers": "un sommaire ou une page de titre (bandeau) n'est jamais la phrase citée, tant qu'un autre passage "
              "trouvé en offre une (answer.py)",
    "questions": "une phrase qui pose une question (question rhétorique, exemples de questions entre guillemets) "
                 "n'est citée qu'à défaut d'une autre (answer.py)",
    "about": "une phrase qui parle du document lui-même (« ce mémo est fait pour vous », « ce guide a bénéficié de… ») "
             "n'est citée qu'à défaut d'une autre, sauf si la question nomme un document (answer.py)",
    "headings": "les mots de la question que le titre ou l'intertitre d'un passage contient comptent (× 0,3) pour "
                "chacune de ses phrases dans le choix des phrases citées (answer.py)",
    "headlines": "une ligne courte qui n'est ni une phrase ni un élément de liste (intertitre : « Trois questions pour "
                 "commencer ») n'est citée qu'à défaut d'une autre (answer.py)",
    "boilerplate": "une phrase que de nombreux documents répètent (avertissement d'une collection, mentions) n'est "
                   "citée qu'à défaut d'une autre (index.py, answer.py)",
    "steps": "question qui dit ce qui est fait et demande la suite (« on a tout débranché du réseau, et "
             "maintenant ? ») : dans une liste d'étapes qui nomme ce qui est fait, les étapes suivantes mènent la "
             "réponse (answer.py)",
    "directives": "question qui demande quoi faire (« on fait quoi ? », « quelles précautions ? ») : les phrases qui "
                  "conseillent (« Désignez… », « il est recommandé de… ») sont préférées dans la réponse (answer.py)",
    "advice": "la ligne « À retenir » du passage dont la réponse part est citée avec lui (answer.py)",
    "fields": "lignes de détails d'un document (« Éditeur : … — Mise à jour : … », « Source : … ») citées seulement si "
              "la question demande ce qu'elles donnent ; un lien reste citable (answer.py)",
    "mentioned": "date ou adresse nommée sans être demandée (« notre adresse », « …les dates, je dois faire quoi ? ») : "
                 "pas une valeur demandée (asked.py)",
    "certainty": "passages trop loin de la question pour y répondre : incertain (answer.py, stages.py)",
}

_off: set[str] = set()


def _from_environment() -> None:
    names = {n.strip() for n in (os.environ.get("ASSISTANT_RULES_OFF") or "").split(",") if n.strip()}
    unknown = names - set(RULES)
    if unknown:
        raise ValueError(f"ASSISTANT_RULES_OFF : règle(s) inconnue(s) {', '.join(sorted(unknown))} ; "
                         f"règles connues : {', '.join(RULES)}")
    _off.update(names)


def on(name: str) -> bool:
    """Whether the rule `name` applies."""
    return name not in _off


@contextmanager
def switched_off(*names: str):
    """The rules `names` off within the block (measurement)."""
    added = [n for n in names if n not in _off]
    _off.update(added)
    try:
        yield
    finally:
        _off.difference_update(added)


_from_environment()
