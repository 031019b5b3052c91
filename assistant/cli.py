"""`assistant index | ask | eval | serve | report`: a thin command line over the library.

The library raises domain errors; this module turns them into one French
line on stderr and an exit code (0 ok, 1 failed files with --strict or a
failed question, 2 usage errors or nothing to index).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .config import load_settings


class Failure(click.ClickException):
    """A clean one-line error with a chosen exit code."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.exit_code = code

    def show(self, file=None):
        click.echo(f"Erreur : {self.format_message()}", err=True)


def _settings(index_dir: str | None, model: str | None = None):
    try:
        return load_settings(index_dir=Path(index_dir) if index_dir else None, model=model)
    except ValueError as err:
        raise Failure(str(err), 2) from None


def _embedder(settings):
    from .embed import get_embedder

    try:
        return get_embedder(settings.model, settings.cache_dir, settings.encoder)
    except ValueError as err:
        raise Failure(str(err), 2) from None
    except RuntimeError as err:
        raise Failure(str(err), 1) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Assistant documentaire de l'intelligence économique (Région Normandie)."""


@main.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--index-dir", envvar="ASSISTANT_INDEX_DIR", help="Dossier de l'index (défaut : index/).")
@click.option("--model", envvar="ASSISTANT_MODEL", help="Modèle d'encodage (e5-small, use-multilingual).")
@click.option("--strict", is_flag=True, help="Code de sortie 1 si un fichier est en échec.")
@click.option("--no-wait", is_flag=True, help="Échouer au lieu d'attendre si une autre construction est en cours.")
@click.option("--quiet", "-q", is_flag=True, help="Sans barre de progression.")
def index_command(paths, index_dir, model, strict, no_wait, quiet):
    """Indexer des fichiers ou dossiers (défaut : corpus/)."""
    from .index import IndexBusy, NoDocuments, build_index

    from .embed import LazyEmbedder

    settings = _settings(index_dir, model)
    paths = list(paths) or list(settings.corpus_dirs)
    embedder = LazyEmbedder(settings.model, lambda: _embedder(settings))
    try:
        report = build_index(paths, settings, embedder, show_progress=not quiet, wait=not no_wait)
    except NoDocuments as err:
        raise Failure(str(err), 2) from None
    except IndexBusy as err:
        raise Failure(str(err), 1) from None
    except KeyboardInterrupt:
        raise Failure("construction interrompue : l'index précédent est intact", 130) from None
    click.echo(report.summary())
    if strict and report.failed:
        sys.exit(1)


def _load_assistant(index_dir):
    from .index import IndexError as IndexFailure
    from .service import Assistant

    settings = _settings(index_dir)
    try:
        return Assistant.load(settings)
    except IndexFailure as err:
        raise Failure(str(err), 1) from None
    except ValueError as err:
        raise Failure(str(err), 2) from None
    except RuntimeError as err:
        raise Failure(str(err), 1) from None


def _questions(batch: Path):
    """Questions of a batch file: plain lines, or JSON objects with a `question` and an optional `history` (the
    conversation's previous questions, oldest first). Yields (question, history)."""
    try:
        lines = batch.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise Failure(f"{batch} : lecture impossible ({err})", 2) from None
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                row = json.loads(line)
                value, history = row["question"], row.get("history") or []
            except (ValueError, KeyError, TypeError, AttributeError):
                raise Failure(f"{batch}, ligne {number} : objet JSON sans champ \"question\"", 2) from None
            if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
                raise Failure(f"{batch}, ligne {number} : \"history\" doit être une liste de questions (textes), "
                              "de la plus ancienne à la plus récente", 2)
            yield str(value), history
        else:
            yield line, []


@main.command("ask")
@click.argument("question", required=False)
@click.option("--index-dir", envvar="ASSISTANT_INDEX_DIR", help="Dossier de l'index (défaut : index/).")
@click.option("-k", "k", type=click.IntRange(1, 50), default=None, help="Nombre de passages (défaut : 5).")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
@click.option("--batch", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Fichier de questions, une par ligne, ou objets JSON {\"question\": …, \"history\": [questions "
                   "précédentes]} ; sortie JSON, une ligne par question.")
@click.option("--type", "doc_types", multiple=True, help="Restreindre à un type de document (bulletin, memo…).")
def ask_command(question, index_dir, k, as_json, batch, doc_types):
    """Poser une question et afficher les passages cités."""
    from .render import answer_as_text
    from .search import Filters

    if bool(question) == bool(batch):
        raise Failure("donnez soit une QUESTION, soit --batch FICHIER", 2)
    if question is not None and not question.strip():
        raise Failure("la question est vide", 2)
    assistant = _load_assistant(index_dir)
    filters = Filters(doc_types=tuple(doc_types)) if doc_types else None
    if batch:
        for item, history in _questions(batch):
            answer = assistant.ask(item, k=k, filters=filters, history=history)
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    answer = assistant.ask(question, k=k, filters=filters)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(answer_as_text(answer))


@main.command("eval")
@click.option("--dataset", "datasets", multiple=True, type=click.Choice(["local", "natural", "natural-shipped", "piaf", "spf"]),
              help="Jeux à évaluer (défaut : tous).")
@click.option("--no-rules", is_flag=True, help="Sans la mesure de chaque règle coupée (plus rapide).")
@click.option("--no-cli", is_flag=True, help="Sans PIAF et Service-Public indexés et posés par la ligne de commande.")
@click.option("--limit", type=int, default=None, help="Nombre de questions tirées au hasard (PIAF, Service-Public).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Dossier des résultats (défaut : eval/).")
@click.option("--no-write", is_flag=True, help="Afficher sans écrire les fichiers de résultats.")
def eval_command(datasets, limit, out_dir, no_write, no_rules, no_cli):
    """Mesurer la recherche (lexicale, dense, fusion) et les trois issues des réponses, règle par règle, sur le jeu
    local, le jeu aveugle, PIAF et Service-Public."""
    from .config import PROJECT_ROOT
    from .evaluate import DATASETS, run_eval

    settings = _settings(None)
    embedder = _embedder(settings)
    out = None if no_write else (out_dir or PROJECT_ROOT / "eval")
    run_eval(settings, embedder, datasets=datasets or DATASETS, limit=limit, out_dir=out, rules_study=not no_rules,
             via_cli=not no_cli)
    if out:
        click.echo(f"Résultats écrits dans {out}/results.md, results.json et results.png")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option("--index-dir", envvar="ASSISTANT_INDEX_DIR", help="Dossier de l'index (défaut : index/).")
@click.option("--feedback-db", envvar="ASSISTANT_FEEDBACK_DB", type=click.Path(path_type=Path, dir_okay=False),
              help="Journal SQLite des questions et des avis (défaut : var/questions.sqlite3).")
def serve_command(host, port, index_dir, feedback_db):
    """Servir le chat et l'API HTTP dans un seul processus (http://127.0.0.1:8000/)."""
    import socket
    import threading

    from .api import Runtime, create_app, import_chat
    from .feedback import FeedbackStore

    # Refuse a busy port before the ~10 s of model loading, with the fix in the message.
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind((host, port))
        except OSError as err:
            raise Failure(f"impossible d'écouter sur {host}:{port} ({err.strerror}) : "
                          "choisissez un autre port avec --port", 1) from None
    click.echo("Chargement de l'index et du modèle…", err=True)
    # Chainlit's import, about half of the start-up, overlaps the loading of index and model.
    chat = threading.Thread(target=_quietly, args=(import_chat,), name="import-chat", daemon=True)
    chat.start()
    runtime = Runtime.create(_load_assistant(index_dir), FeedbackStore(feedback_db))
    chat.join()
    app = create_app(runtime)
    base = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    proxies = runtime.assistant.settings.trusted_proxies
    _serve(app, host, port, ready=(
        f"Assistant prêt : {base}/  (chat)\n"
        f"  API : POST {base}/api/ask, GET {base}/api/health, documentation {base}/docs\n"
        f"  Journal des questions : {runtime.store.path}\n"
        + (f"  Proxys de confiance (X-Forwarded-For lu) : {', '.join(proxies)}\n" if proxies else "")
        + "  Ctrl-C pour arrêter."))


def _quietly(fn) -> None:
    """Run fn, leaving any failure to the caller's own later call (which reports it)."""
    try:
        fn()
    except Exception:  # noqa: BLE001
        pass


def _serve(app, host: str, port: int, ready: str) -> None:
    """Run uvicorn, printing `ready` once the socket listens."""
    import logging

    import uvicorn

    # Our own log lines (thumbs down, an unwritable questions log) on the console; uvicorn stays quiet.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logging.getLogger("assistant").addHandler(handler)
    logging.getLogger("assistant").setLevel(logging.INFO)

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if self.started:
                click.echo(ready)

    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1 by default; which proxies are
    # believed is ASSISTANT_TRUSTED_PROXIES alone (api._RealClient).
    server = Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                   proxy_headers=False))
    server.run()
    if not server.started:
        raise Failure(f"le serveur n'a pas pu démarrer sur {host}:{port}", 1)


@main.command("report")
@click.option("--feedback-db", envvar="ASSISTANT_FEEDBACK_DB", type=click.Path(path_type=Path, dir_okay=False),
              help="Journal SQLite des questions (défaut : var/questions.sqlite3).")
@click.option("--limit", type=click.IntRange(1, None), default=50, show_default=True, help="Nombre de questions.")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
def report_command(feedback_db, limit, as_json):
    """Les questions restées sans réponse ou jugées inutiles (pouce baissé), les plus fréquentes d'abord."""
    from dataclasses import asdict

    from .feedback import FeedbackStore, default_db_path, report_as_text

    path = feedback_db or default_db_path()
    if not path.is_file():
        raise Failure(f"aucun journal des questions dans {path} : il est créé par `assistant serve` "
                      "à la première question (ou indiquez --feedback-db)", 1)
    import sqlite3

    try:
        rows = FeedbackStore(path).report(limit=limit)
    except sqlite3.Error as err:
        raise Failure(f"{path} : journal illisible ({err})", 1) from None
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
    else:
        click.echo(report_as_text(rows, path), nl=False)


if __name__ == "__main__":
    main()
