"""Passage -> practice (anticiper / influencer / se protéger) and topic (cybersécurité / IA / blockchain / autre).

The document's own structure decides where it says so: a memo chapter titled
« Anticiper », a bulletin item filed under « Cybersécurité ». Elsewhere a
weighted French lexicon, matched on analyzed stems, votes; its accuracy on
hand-labelled passages is reported by `assistant eval` (eval/theme_labels.jsonl).
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from .lexical import analyze, fold
from .schema import Passage

PRACTICES = ("anticiper", "influencer", "se-proteger")
TOPICS = ("cybersecurite", "ia", "blockchain", "autre")
PRACTICE_LABELS = {"anticiper": "Anticiper", "influencer": "Influencer", "se-proteger": "Se protéger"}
TOPIC_LABELS = {"cybersecurite": "Cybersécurité", "ia": "Intelligence artificielle", "blockchain": "Blockchain",
                "autre": "Autre"}

# Headings that name a practice or a topic outright (folded, matched as substrings).
_PRACTICE_HEADINGS = {"anticiper": "anticiper", "influencer": "influencer", "se proteger": "se-proteger"}
_TOPIC_HEADINGS = {"cybersecurite": "cybersecurite", "intelligence artificielle": "ia", "blockchain": "blockchain"}

# Words and phrases with their weight; phrases count when all their stems are present.
_PRACTICE_WORDS = {
    "anticiper": {
        "veille": 3, "anticiper": 3, "anticipation": 3, "tendance": 2, "benchmarking": 3, "prospective": 3,
        "signal faible": 3, "surveiller": 1, "marché": 1, "innovation": 2, "opportunité": 2, "calendrier": 2,
        "échéance": 2, "entrée en application": 3, "entrée en vigueur": 2, "se préparer": 1, "étude": 1,
        "source": 1, "information": 1, "cartographier": 2, "cartographie": 1, "formation": 1, "recherche": 1,
        "décision": 1, "stratégie": 1, "prévoir": 2, "évolution": 1, "usage": 1, "expérimentation": 1,
        "projet": 1, "annonce": 1, "publié": 1, "rapport": 1, "bulletin": 1,
    },
    "influencer": {
        "influence": 3, "influencer": 3, "réseau": 2, "lobbying": 3, "représentation d'intérêts": 3,
        "normalisation": 3, "norme": 2, "communication": 2, "réputation": 2, "image": 1, "partenaire": 1,
        "partenariat": 2, "gouvernance": 3, "comité": 2, "co-présidé": 2, "filière": 1, "plaidoyer": 3,
        "consultation": 2, "parties prenantes": 2, "adhésion": 2, "signataire": 1, "association": 1,
        "chambre": 1, "pôle de compétitivité": 2, "porte-parole": 2, "médias": 2, "journaliste": 2,
        "événement": 1, "colloque": 2, "webinaire": 1, "diffuser": 1, "sensibiliser": 1, "élu": 1,
        "collectif": 1, "coopération": 2, "écosystème": 1,
    },
    "se-proteger": {
        "protéger": 3, "protection": 2, "sécurité": 2, "sûreté": 2, "risque": 2, "menace": 2, "attaque": 3,
        "cyberattaque": 3, "fraude": 3, "escroquerie": 3, "confidentialité": 3, "confidentiel": 2, "secret": 2,
        "propriété intellectuelle": 3, "brevet": 3, "marque": 1, "espionnage": 3, "déplacement": 2,
        "sauvegarde": 3, "mot de passe": 3, "incident": 2, "crise": 2, "rançongiciel": 3, "hameçonnage": 3,
        "vol": 2, "fuite": 2, "clause": 2, "vérifier": 1, "contrôle": 1, "vulnérabilité": 3, "correctif": 2,
        "mise à jour": 2, "authentification": 3, "chiffrer": 2, "chiffrement": 2, "pirate": 3, "piratage": 3,
        "intrusion": 3, "malveillant": 3, "usurpation": 3, "sensible": 1, "accès": 1, "droit": 1,
        "stagiaire": 2, "recrutement": 1, "investisseur": 1, "dépendance": 1, "ingérence": 3, "compromission": 3,
        "signalement": 2, "plainte": 2, "assurance": 1, "pare-feu": 3, "antivirus": 3,
    },
}
_TOPIC_WORDS = {
    "cybersecurite": {
        "cybersécurité": 3, "cyber": 3, "cyberattaque": 3, "sécurité informatique": 3, "rançongiciel": 3,
        "hameçonnage": 3, "logiciel malveillant": 3, "virus": 2, "pare-feu": 3, "mot de passe": 3,
        "authentification": 3, "sauvegarde": 2, "vulnérabilité": 3, "correctif": 2, "anssi": 3, "nis": 3,
        "cyber resilience act": 3, "intrusion": 3, "piratage": 3, "pirate": 3, "chiffrement": 2,
        "informatique": 2, "réseau": 1, "serveur": 2, "messagerie": 2, "identifiant": 2, "incident": 1,
        "attaque": 2, "ddos": 3, "système d'information": 3, "poste de travail": 2, "antivirus": 3, "wifi": 2,
        "usb": 2, "cloud": 1, "numérique": 1, "compte": 1, "sécurité": 1, "homologation": 2, "supervision": 1,
        "cryptographie": 2, "post-quantique": 2, "certificat": 1, "active directory": 3, "prestataire": 1,
    },
    "ia": {
        "intelligence artificielle": 3, "ia": 3, "modèle de langage": 3, "générative": 3, "algorithme": 2,
        "apprentissage automatique": 3, "ai act": 3, "agent": 1, "agentique": 3, "chatbot": 3,
        "assistant conversationnel": 3, "hypertrucage": 3, "deepfake": 3, "vision par ordinateur": 3,
        "prédictive": 2, "données d'entraînement": 3, "modèle": 1, "automatisation": 1, "llm": 3,
    },
    "blockchain": {
        "blockchain": 3, "chaîne de blocs": 3, "crypto-actif": 3, "cryptomonnaie": 3, "jeton": 3,
        "token": 3, "tokenisation": 3, "nft": 3, "contrat intelligent": 3, "smart contract": 3, "mica": 3,
        "stablecoin": 3, "euro numérique": 3, "registre distribué": 3, "registre partagé": 3, "dlt": 3,
        "bitcoin": 3, "portefeuille": 1, "traçabilité": 1, "horodatage": 2,
    },
}
# When the lexicon is silent, what a document of this type is mostly about.
_DEFAULT_PRACTICE = {"bulletin": "anticiper", "guide": "se-proteger", "charte": "se-proteger",
                     "memo": "anticiper", "strategie": "anticiper", "autre": "anticiper"}

# The ANSSI guidance is about cybersecurity even where a passage does not say the word.
_DEFAULT_TOPIC = {"guide": "cybersecurite"}


@lru_cache(maxsize=1)
def _lexicons():
    def compile_(table):
        return {label: [(tuple(analyze(phrase)), weight) for phrase, weight in words.items() if analyze(phrase)]
                for label, words in table.items()}

    return compile_(_PRACTICE_WORDS), compile_(_TOPIC_WORDS)


def _votes(tokens: list[str], lexicon: dict) -> dict[str, float]:
    present = set(tokens)
    counts: dict[str, int] = {}
    for token in tokens:
        counts[token] = counts.get(token, 0) + 1
    votes = {}
    for label, entries in lexicon.items():
        score = 0.0
        for stems, weight in entries:
            if len(stems) == 1:
                # Repetition counts, with diminishing returns.
                score += weight * min(counts.get(stems[0], 0), 3)
            elif all(s in present for s in stems):
                score += weight * 2
        votes[label] = score / (len(tokens) ** 0.5 or 1)
    return votes


def _from_headings(section: str | None, names: dict[str, str]) -> str | None:
    """The label named by the deepest heading that names one (« Trois pratiques… › Se protéger »)."""
    for part in reversed((section or "").split(" › ")):
        folded = fold(part)
        found = [(folded.rfind(words), code) for words, code in names.items() if words in folded]
        if found:
            return max(found)[1]
    return None


def classify(passage: Passage) -> tuple[str, str]:
    """(practice, topic) of a passage: from its headings where they say so, else from its words."""
    heading = fold(f"{passage.section or ''} {passage.title}")
    practice = _from_headings(passage.section, _PRACTICE_HEADINGS)
    topic = _from_headings(passage.section, _TOPIC_HEADINGS)
    tokens = analyze(f"{passage.section or ''} {passage.text}")
    practice_lexicon, topic_lexicon = _lexicons()
    if practice is None:
        votes = _votes(tokens, practice_lexicon)
        best = max(votes, key=votes.get)
        practice = best if votes[best] >= 0.5 else _DEFAULT_PRACTICE.get(passage.doc_type, "anticiper")
    if topic is None:
        votes = _votes(tokens + analyze(heading), topic_lexicon)
        ranked = sorted(votes.values(), reverse=True)
        best = max(votes, key=votes.get)
        if ranked[0] < 0.6:
            topic = _DEFAULT_TOPIC.get(passage.doc_type, "autre")
        elif ranked[1] > 0.7 * ranked[0]:
            topic = "autre"  # a passage spread over several topics (a summary, a header) is about none
        else:
            topic = best
    return practice, topic


def tag_passages(passages: list[Passage]) -> list[Passage]:
    """The passages with practice and topic filled in."""
    out = []
    for passage in passages:
        practice, topic = classify(passage)
        out.append(replace(passage, practice=practice, topic=topic))
    return out
