"""Add statements to the background of general French (assistant/data/background.jsonl), checked.

    python -m tools.background NEW.jsonl [NEW2.jsonl …] [--write]

Each new file holds JSON lines {"topic": …, "text": …}, written by someone
told what the documents cover and to stay off it (scope.py). A statement is
left out, and counted by reason, when:
- it is not a statement of 60 to 400 characters (a question, a fragment);
- it names one of the documents' subjects (DOMAIN: « cyber », « veille »,
  « intelligence artificielle »…): the background must not hold what the
  index answers, or questions on it would be called off topic;
- it is already in the background (same words, accents and case aside);
- it echoes an evaluation question: it holds half or more of the stems of a
  question of three stems or more (eval/natural.jsonl, the first turns of
  eval/dialogues.jsonl, eval/questions.jsonl; a follow-up such as « et un an
  plus tard ? » says nothing of a subject). The background must catch
  off-topic questions by their subject, not because it was written to match
  the questions it is measured on.
Without --write it only reports; with it, the statements kept are appended.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from assistant.evaluate import read_jsonl
from assistant.lexical import analyze, plain
from assistant.scope import BACKGROUND

PROJECT = Path(__file__).resolve().parent.parent
QUESTION_FILES = (PROJECT / "eval" / "natural.jsonl", PROJECT / "eval" / "dialogues.jsonl",
                  PROJECT / "eval" / "questions.jsonl")
# The documents' subjects, folded (plain): a statement naming one is not general French for this index.
DOMAIN = re.compile(
    r"\b(?:cyber\w*|pirat\w*|hack\w*|arnaque\w*|escroquer\w*|hameconnage|phishing|rancon\w*|fraude\w*"
    r"|mots? de passe|antivirus|sauvegarde\w*|donnees personnelles|rgpd|informatique\w*|numerique\w*"
    r"|logiciel\w*|intelligence artificielle|ia|chatgpt|blockchain|crypto\w*|bitcoin|veille\w*|benchmark\w*"
    r"|lobbying|influence\w*|espionnage|brevet\w*|propriete intellectuelle|savoir-faire|normalisation"
    r"|intelligence economique|anssi|cnil|cci|pole\w* de competitivite|nis ?2|prestataire\w* informatique\w*"
    r"|securite economique)\b")
ECHO = 0.5


def evaluation_questions() -> list[frozenset[str]]:
    """The stems of every evaluation question of three stems or more."""
    texts = []
    for path in QUESTION_FILES:
        for row in read_jsonl(path) if path.exists() else []:
            texts += [row[key] for key in ("question", "first") if row.get(key)]
    return [stems for stems in (frozenset(analyze(text)) for text in texts) if len(stems) >= 3]


def why_left_out(row: dict, seen: set[str], questions: list[frozenset[str]]) -> str | None:
    """The reason a new statement is left out, or None."""
    text = str(row.get("text", "")).strip()
    if not row.get("topic") or not 60 <= len(text) <= 400 or text.endswith("?"):
        return "not a statement"
    folded = plain(text)
    if DOMAIN.search(folded):
        return "names a subject of the documents"
    if folded in seen:
        return "already there"
    stems = frozenset(analyze(text))
    if any(len(q & stems) >= ECHO * len(q) for q in questions):
        return "echoes an evaluation question"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--write", action="store_true", help="append the statements kept to the background")
    args = parser.parse_args(argv)
    seen = {plain(row["text"]) for row in read_jsonl(BACKGROUND)}
    questions = evaluation_questions()
    kept, reasons = [], Counter()
    for path in args.files:
        for row in read_jsonl(path):
            reason = why_left_out(row, seen, questions)
            if reason:
                reasons[reason] += 1
                continue
            text = " ".join(str(row["text"]).split())
            seen.add(plain(text))
            kept.append({"topic": str(row["topic"]).strip(), "text": text})
    print(f"kept {len(kept)} statements on {len({r['topic'] for r in kept})} topics; left out: "
          + (", ".join(f"{n} {reason}" for reason, n in reasons.most_common()) or "none"))
    if args.write and kept:
        with BACKGROUND.open("a", encoding="utf-8") as out:
            for row in kept:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"appended to {BACKGROUND.relative_to(PROJECT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
