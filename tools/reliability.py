"""`make reliability` (`python -m tools.reliability [CHECK ...]`, from the project folder): faults, load and
hostile input, measured; writes eval/reliability.md and .json.

Each check runs the real thing (the `assistant` command in subprocesses, the
HTTP server over a socket, Chromium for the chat) and counts what it tried and
what went wrong. RELIABILITY_SCALE (default 1) scales the case counts down for
CI; RELIABILITY_MODEL chooses the model of the load test (default e5-small at
full scale, hash below); RELIABILITY_OUT the output folder (default eval/).
The exit code is 1 when any check counted an error.
"""
from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from assistant.config import PROJECT_ROOT, Settings

ASSISTANT = str(Path(sys.executable).parent / "assistant")


@dataclass
class Check:
    """One check: what it tried, what went wrong, and the figures to report."""

    key: str
    title: str
    figures: dict = field(default_factory=dict)
    errors: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def fail(self, note: str) -> None:
        """Count one error and keep its description (the first 30)."""
        self.errors += 1
        if len(self.notes) < 30:
            self.notes.append(note)


def _log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _run(args: list[str], env: dict | None = None, timeout: float = 900, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=PROJECT_ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout, **kw)


def _passage_sets(generation: Path) -> set[tuple[str, str]]:
    """(id, text) of every passage of a generation folder."""
    out = set()
    for line in (generation / "passages.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            out.add((data["id"], data["text"]))
    return out


def _copy_corpus(dest: Path, parts: list[str] | None = None) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for part in parts or ["corpus"]:
        source = PROJECT_ROOT / part
        target = dest / Path(part).relative_to("corpus") if part != "corpus" else dest
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


# ---------------------------------------------------------------- 1. hostile documents


def check_fuzz(work: Path, cases: int, seed: int = 6) -> Check:
    """Generated and mutated files through the bounded reader: passages or one clear error, in bounded time."""
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import seed as hypothesis_seed
    from hypothesis import settings as hypothesis_settings

    from assistant.guard import BoundedReader, LimitReached, Limits, ReaderCrash
    from assistant.readers import ReadError
    from tools.hostile import file_strategy, seed_files

    check = Check("fuzz", "Documents hostiles : fuzz des lecteurs (hypothesis)")
    folder = work / "fuzz"
    crashes = work / "fuzz-crashes"
    folder.mkdir(parents=True, exist_ok=True)
    limits = Limits(max_read_seconds=15.0)
    outcomes: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    slowest = [0.0, ""]
    counter = [0]

    def record(outcome: str) -> None:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    with BoundedReader(limits) as reader:
        @hypothesis_seed(seed)
        @hypothesis_settings(max_examples=cases, deadline=None, database=None, phases=[Phase.generate],
                             suppress_health_check=list(HealthCheck))
        @given(file_strategy(seed_files(PROJECT_ROOT)))
        def one(case):
            counter[0] += 1
            by_kind[case.label] = by_kind.get(case.label, 0) + 1
            path = folder / f"cas-{counter[0]}{case.suffix}"
            path.write_bytes(case.data)
            started = time.perf_counter()
            try:
                _, passages = reader.read_passages(path, f"fuzz/{path.name}", 900, 120)
                bad = [p for p in passages if not p.text.strip() or any(ord(c) < 32 and c not in "\n\t" for c in p.text)]
                if bad:
                    check.fail(f"{case.label} : passage vide ou avec caractère de contrôle ({bad[0].id})")
                    record("bad passage")
                elif len({p.id for p in passages}) != len(passages):
                    check.fail(f"{case.label} : identifiants de passages en double")
                    record("bad passage")
                else:
                    record("passages" if passages else "no passage (reported)")
            except LimitReached as err:
                record(f"limit {err.limit}")
            except ReaderCrash as err:
                record("crash")
                check.fail(f"{case.label} : {err.reason}")
                crashes.mkdir(exist_ok=True)
                shutil.copy(path, crashes / path.name)
            except ReadError as err:
                message = str(err)
                if "\n" in message or not message.startswith(str(path)):
                    check.fail(f"{case.label} : message d'erreur sur plusieurs lignes ou sans le chemin : {message[:120]}")
                record("read error (clear, per file)")
            elapsed = time.perf_counter() - started
            if elapsed > slowest[0]:
                slowest[:] = [elapsed, case.label]
            if elapsed > limits.max_read_seconds + 10:
                check.fail(f"{case.label} : {elapsed:.0f} s, au-delà de la limite")
                record("hang")
            path.unlink(missing_ok=True)

        one()
        check.figures["worker restarts"] = reader.restarts
    check.figures.update({"cases": counter[0], "outcomes": outcomes, "kinds": by_kind,
                          "crashes": outcomes.get("crash", 0), "hangs": outcomes.get("hang", 0),
                          "slowest case (s)": round(slowest[0], 2), "slowest kind": slowest[1],
                          "time limit (s)": limits.max_read_seconds, "hypothesis seed": seed})
    return check


def check_named_files_build(work: Path) -> Check:
    """Every named adversarial file in one build with good files: the build goes on, limits reported."""
    from assistant.embed import HashEmbedder
    from assistant.index import build_index, load_index
    from tools.hostile import named_cases, seed_files

    check = Check("build", "Documents hostiles : une construction d'index avec les fichiers piégés connus")
    corpus = work / "named"
    corpus.mkdir(parents=True, exist_ok=True)
    seeds = seed_files(PROJECT_ROOT)
    names = {}
    for number, case in enumerate(named_cases(next(v for k, v in seeds.items() if k.endswith(".pdf"))), start=1):
        path = corpus / f"piege-{number:02d}{case.suffix}"
        path.write_bytes(case.data)
        names[path.name] = case.label
    good = ["guide-sauvegardes.md", "note-veille.md", "programme.txt"]
    for name in good:
        (corpus / name).write_text(f"# {name}\n\nLa sauvegarde hors ligne protège des rançongiciels ({name}).\n",
                                   encoding="utf-8")
    settings = Settings(index_dir=work / "named-index", model="hash", max_read_seconds=20.0)
    started = time.perf_counter()
    report = build_index([corpus], settings, HashEmbedder(), show_progress=False)
    check.figures["build seconds"] = round(time.perf_counter() - started, 1)
    index = load_index(settings.index_dir, settings)
    indexed = {Path(p).name for p in report.indexed}
    failed = {Path(p).name: reason for p, reason in report.failed}
    for name in good:
        if name not in indexed:
            check.fail(f"{name} (bon fichier) non indexé")
    rows = [("fichier piégé", "résultat")]
    for name, label in sorted(names.items()):
        if name in indexed:
            rows.append((label, "indexé"))
        elif name in failed:
            rows.append((label, "refusé : " + failed[name].split(" : ", 1)[0][:70]))
        else:
            check.fail(f"{label} : ni indexé ni signalé")
    # The memory limit, on its own: a file whose processing needs more than 300 MB is stopped, the next one reads.
    from assistant.guard import BoundedReader, LimitReached, Limits

    big = work / "gros.txt"
    big.write_bytes(("mot " * 2_500_000).encode())
    with BoundedReader(Limits(max_read_memory_mb=300)) as reader:
        try:
            reader.read_passages(big, "gros.txt", 900, 120)
            memory = "non atteinte"
            check.fail("10 Mo de texte lus sous une limite de 300 Mo de mémoire : limite non appliquée")
        except LimitReached as err:
            memory = f"atteinte ({err.limit}), fichier suivant lu : {bool(reader.read(corpus / good[0]).sections)}"
    check.figures["memory limit (300 MB, 10 MB of text)"] = memory
    limits = {name: reason for name, reason in failed.items()
              if any(k in reason for k in ("max_pages", "max_file_mb", "max_read_seconds", "max_read_memory_mb"))}
    check.figures.update({"hostile files": len(names), "indexed": len(indexed & set(names)),
                          "refused with a reason": len(set(failed) & set(names)), "good files indexed":
                          len(indexed & set(good)), "limits hit": sorted({names[n] for n in limits}),
                          "passages": index.size, "per file": rows})
    return check


# ---------------------------------------------------------------- 2. durability


def _index_cmd(corpus: Path, index_dir: Path, *extra: str) -> list[str]:
    return [ASSISTANT, "index", str(corpus), "--index-dir", str(index_dir), "-q", *extra]


def _descendants(pid: int) -> list[int]:
    try:
        import psutil

        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except Exception:
        return []


def _alive(pid: int) -> bool:
    try:
        import psutil

        return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except Exception:
        return False


def check_kill(work: Path, points: int, seed: int = 6, parts: list[str] | None = None) -> Check:
    """kill -9 `assistant index` at random moments: the previous index answers, the next run finishes."""
    from assistant.embed import HashEmbedder
    from assistant.index import load_index
    from assistant.service import Assistant

    check = Check("kill", "Durabilité : kill -9 de `assistant index` à des instants tirés au hasard")
    rng = random.Random(seed)
    corpus = _copy_corpus(work / "kill-corpus", parts)
    index_dir = work / "kill-index"
    env = {"ASSISTANT_MODEL": "hash"}
    settings = Settings(index_dir=index_dir, model="hash")
    started = time.perf_counter()
    first = _run(_index_cmd(corpus, index_dir), env)
    duration = time.perf_counter() - started
    if first.returncode != 0:
        check.fail(f"première construction en échec : {first.stderr[-300:]}")
        return check
    bulletins = sorted((PROJECT_ROOT / "corpus" / "bulletins").glob("*.pdf"))
    stages: dict[str, int] = {}
    recovered = 0
    rows = [("point", "kill -9 après", "étape atteinte", "récupéré")]
    point = 0
    attempts = 0
    while point < points and attempts < points * 3:
        attempts += 1
        point += 1
        before = load_index(index_dir, settings).folder
        token = f"jeton{point}kill"
        (corpus / f"ajout-{point}.md").write_text(f"# Ajout {point}\n\nLe mot {token} marque cet ajout.\n",
                                                 encoding="utf-8")
        for copy in range(3):  # enough new work that every stage of a build lasts a while
            # A comment after the end of the PDF makes each copy new bytes: an identical copy is only
            # recorded as a duplicate, with nothing to read or embed.
            (corpus / f"copie-{point}-{copy}.pdf").write_bytes(
                rng.choice(bulletins).read_bytes() + f"\n% copie {point}-{copy}\n".encode())
        delay = rng.uniform(0.2, max(0.4, 0.9 * duration))
        process = subprocess.Popen(_index_cmd(corpus, index_dir), cwd=PROJECT_ROOT, env={**os.environ, **env},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + delay
        children: set[int] = set()
        while time.monotonic() < deadline and process.poll() is None:
            children.update(_descendants(process.pid))
            time.sleep(0.05)
        children.update(_descendants(process.pid))
        if process.poll() is not None:
            # Not a kill point: the build ended first. Try again with a shorter delay and new work.
            duration = max(0.4, 0.7 * duration)
            point -= 1
            continue
        else:
            tmp = [p for p in index_dir.iterdir() if p.name.startswith(".tmp-gen")]
            switched = (index_dir / "current").resolve() != before
            stage = "after the switch" if switched else "writing the generation" if tmp else "reading or embedding"
            process.send_signal(signal.SIGKILL)
            process.wait()
        stages[stage] = stages.get(stage, 0) + 1
        time.sleep(1.0)
        orphans = [pid for pid in children if _alive(pid)]
        for pid in orphans:  # still count them, then stop them so the next point starts clean
            check.fail(f"point {point} : processus lecteur orphelin {pid}")
            os.kill(pid, signal.SIGKILL)
        ok = True
        try:
            after = load_index(index_dir, settings)
            answer = Assistant.load(settings, HashEmbedder()).ask("sauvegarde hors ligne rançongiciel", k=3)
            if not answer.hits:
                raise RuntimeError("aucun passage")
            if after.folder != before and stage != "after the switch":
                raise RuntimeError("une nouvelle génération est en service sans bascule complète")
        except Exception as err:  # noqa: BLE001 - counted and reported
            ok = False
            check.fail(f"point {point} ({stage}, {delay:.1f} s) : l'index précédent ne répond pas : {err}")
        started = time.perf_counter()
        finish = _run(_index_cmd(corpus, index_dir), env)
        duration = max(1.0, time.perf_counter() - started)
        leftovers = [p.name for p in index_dir.iterdir() if p.name.startswith((".tmp-", ".current-"))]
        try:
            final = load_index(index_dir, settings)
            found = any(token in p.text for p in final.passages)
        except Exception as err:  # noqa: BLE001
            found = False
            leftovers.append(str(err))
        if finish.returncode != 0 or not found or leftovers:
            ok = False
            check.fail(f"point {point} : la construction suivante n'a pas fini le travail "
                       f"(code {finish.returncode}, ajout trouvé {found}, restes {leftovers})")
        recovered += ok
        rows.append((point, f"{delay:.1f} s", stage, "oui" if ok else "NON"))
    check.figures.update({"kill points": point, "recovered": recovered, "stages": stages,
                          "builds that ended before their kill (redrawn)": attempts - point, "per point": rows})
    return check


def _corrupt(path: Path, fault: str, rng: random.Random) -> None:
    data = path.read_bytes()
    if fault == "truncated to half":
        path.write_bytes(data[: len(data) // 2])
    elif fault == "emptied":
        path.write_bytes(b"")
    elif fault == "one byte flipped":
        i = rng.randrange(len(data)) if data else 0
        path.write_bytes(data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:] if data else b"\x00")
    elif fault == "bytes appended":
        path.write_bytes(data + b"\n{}\x00garbage")
    elif fault == "deleted":
        path.unlink()


def check_corruption(work: Path, seed: int = 6, cli: bool = True) -> Check:
    """Each index file truncated, emptied, flipped, extended or deleted: loading names it and the rebuild command."""
    from assistant.embed import HashEmbedder
    from assistant.index import IndexCorrupt, IndexError, build_index, load_index

    check = Check("corruption", "Durabilité : chaque fichier de l'index tronqué, vidé, altéré, allongé ou supprimé")
    rng = random.Random(seed)
    settings = Settings(index_dir=work / "corrupt-index", model="hash")
    build_index([PROJECT_ROOT / "corpus" / "charte", PROJECT_ROOT / "corpus" / "pages"], settings, HashEmbedder(),
                show_progress=False)
    generation = (settings.index_dir / "current").resolve()
    files = sorted(p.relative_to(generation).as_posix() for p in generation.rglob("*") if p.is_file())
    faults = ["truncated to half", "emptied", "one byte flipped", "bytes appended", "deleted"]
    detected = 0
    injected = 0
    cli_checked = 0
    rows = [("fichier", *faults)]
    for name in files:
        row = [name]
        for fault in faults:
            scratch = work / "corrupt-scratch"
            shutil.rmtree(scratch, ignore_errors=True)
            shutil.copytree(settings.index_dir, scratch, symlinks=True)
            victim = (scratch / "current").resolve() / name
            _corrupt(victim, fault, rng)
            injected += 1
            try:
                load_index(scratch, Settings(index_dir=scratch, model="hash"))
                check.fail(f"{name} {fault} : chargé sans erreur")
                row.append("NON détecté")
                continue
            except IndexError as err:
                message = str(err)
                named = Path(name).name in message or (name.startswith("lexical/") and "lexical" in message)
                if isinstance(err, IndexCorrupt) and named and "assistant index --index-dir" in message:
                    detected += 1
                    row.append("détecté")
                else:
                    check.fail(f"{name} {fault} : message sans le fichier ou la commande : {message[:160]}")
                    row.append("message incomplet")
            except Exception as err:  # noqa: BLE001
                check.fail(f"{name} {fault} : exception brute {type(err).__name__}: {err}")
                row.append("exception brute")
            if cli and fault == "one byte flipped":
                asked = _run([ASSISTANT, "ask", "charte", "--index-dir", str(scratch)], {"ASSISTANT_MODEL": "hash"})
                cli_checked += 1
                if asked.returncode != 1 or Path(name).name.split(".")[0] not in asked.stderr \
                        or "assistant index" not in asked.stderr:
                    check.fail(f"{name} : `assistant ask` code {asked.returncode} : {asked.stderr[-200:]}")
        rows.append(row)
    check.figures.update({"index files": len(files), "faults injected": injected, "detected": detected,
                          "`assistant ask` refusals checked": cli_checked, "faults": faults, "per file": rows})
    return check


def check_concurrent_builds(work: Path) -> Check:
    """Two builds at once wait for each other; --no-wait refuses; the result is one whole index."""
    from assistant.index import load_index

    check = Check("concurrent", "Durabilité : deux constructions en même temps")
    corpus = _copy_corpus(work / "concurrent-corpus", ["corpus/charte", "corpus/pages", "corpus/memo"])
    index_dir = work / "concurrent-index"
    env = {**os.environ, "ASSISTANT_MODEL": "hash"}
    for number, bulletin in enumerate(sorted((PROJECT_ROOT / "corpus" / "bulletins").glob("*.pdf"))[:12]):
        shutil.copy(bulletin, corpus / f"b{number}.pdf")
    first = subprocess.Popen(_index_cmd(corpus, index_dir), cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    while not (index_dir / ".lock").exists() and first.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)
    second = subprocess.Popen(_index_cmd(corpus, index_dir), cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    refused = _run(_index_cmd(corpus, index_dir, "--no-wait"), {"ASSISTANT_MODEL": "hash"})
    out1, err1 = first.communicate(timeout=900)
    out2, err2 = second.communicate(timeout=900)
    waited = "attente" in err2
    if first.returncode != 0 or second.returncode != 0:
        check.fail(f"codes {first.returncode}, {second.returncode} : {err1[-200:]} {err2[-200:]}")
    if not waited:
        check.notes.append("la seconde construction n'a pas eu à attendre (la première avait fini)")
    if refused.returncode != 1 or "occupé" not in refused.stderr:
        check.fail(f"--no-wait pendant une construction : code {refused.returncode} : {refused.stderr[-200:]}")
    index = load_index(index_dir, Settings(index_dir=index_dir, model="hash"))
    ids = [p.id for p in index.passages]
    sources = {p.source for p in index.passages}
    files = [p for p in corpus.rglob("*") if p.is_file()]
    if len(ids) != len(set(ids)):
        check.fail("passages en double dans l'index final")
    if len(index.manifest["files"]) != len(files):
        check.fail(f"{len(index.manifest['files'])} fichiers au manifeste pour {len(files)} dans le dossier")
    check.figures.update({"builds started": 3, "second build waited": waited,
                          "--no-wait refused (exit 1)": refused.returncode == 1, "final index loads": True,
                          "files": len(files), "sources indexed": len(sources), "passages": len(ids)})
    return check


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`assistant serve` in a subprocess, ready once /api/health answers."""

    def __init__(self, index_dir: Path, model: str, log: Path, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        handle = open(log, "w")
        self.process = subprocess.Popen(
            [ASSISTANT, "serve", "--index-dir", str(index_dir), "--port", str(self.port),
             "--feedback-db", str(log.with_suffix(".sqlite3"))], cwd=PROJECT_ROOT, stdout=handle,
            stderr=subprocess.STDOUT, env={**os.environ, "ASSISTANT_MODEL": model, "PYTHONUNBUFFERED": "1",
                                           **(env or {})})
        import httpx

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("le serveur s'est arrêté :\n" + log.read_text()[-2000:])
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("le serveur n'a pas démarré :\n" + log.read_text()[-2000:])

    def rss_mb(self) -> float:
        import psutil

        try:
            return psutil.Process(self.process.pid).memory_info().rss / 1048576
        except psutil.Error:
            return 0.0

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _questions(limit: int | None = None) -> list[str]:
    path = PROJECT_ROOT / "eval" / "questions.jsonl"
    questions = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                questions.append(json.loads(line)["question"])
    questions = questions or ["Quels sont les trois modes d'action de l'intelligence économique ?"]
    return questions[:limit] if limit else questions


# ---------------------------------------------------------------- 3. live re-index


def check_live_reindex(work: Path, seconds_per_phase: float = 4.0, clients: int = 4,
                       parts: tuple[str, ...] = ("corpus/charte", "corpus/pages", "corpus/memo", "corpus/strategie"),
                       bulletins: int = 4) -> Check:
    """Questions keep coming while documents are added and deleted: every answer is whole, none fails."""
    import httpx

    check = Check("live", "Réindexation à chaud : questions en continu pendant ajouts et suppressions")
    corpus = _copy_corpus(work / "live-corpus", list(parts))
    for bulletin in sorted((PROJECT_ROOT / "corpus" / "bulletins").glob("*.pdf"))[:bulletins]:
        shutil.copy(bulletin, corpus / bulletin.name)
    index_dir = work / "live-index"
    env = {"ASSISTANT_MODEL": "hash"}
    built = _run(_index_cmd(corpus, index_dir), env)
    if built.returncode != 0:
        check.fail("construction initiale : " + built.stderr[-300:])
        return check
    generations: dict[str, set] = {}

    def remember() -> str:
        folder = (index_dir / "current").resolve()
        generations[folder.name] = _passage_sets(folder)
        return folder.name

    remember()
    server = Server(index_dir, "hash", work / "live-server.log", {"ASSISTANT_RATE_LIMIT": "0"})
    questions = _questions() + ["Que dit la note sur le jetonliveajout ?", "colloque de Cerisy jetonliveajout"]
    results: list[tuple[float, int, list]] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client(number: int) -> None:
        rng = random.Random(number)
        with httpx.Client(base_url=server.url, timeout=60) as http:
            while not stop.is_set():
                question = rng.choice(questions)
                try:
                    response = http.post("/api/ask", json={"question": question, "k": 5})
                    passages = [(p["id"], p["text"]) for p in response.json()["passages"]] \
                        if response.status_code == 200 else []
                    status = response.status_code
                except Exception as err:  # noqa: BLE001 - a failed request is what this check counts
                    status, passages = 0, [repr(err)]
                with lock:
                    results.append((time.monotonic(), status, passages))

    def wait_for(generation: str, timeout: float = 60) -> float | None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if httpx.get(server.url + "/api/health", timeout=10).json().get("generation") == generation:
                return time.monotonic() - started
            time.sleep(0.1)
        return None

    def reindex(label: str, event: str) -> str:
        """Re-index the corpus while questions flow, wait until the server serves it, then let it serve."""
        step = _run(_index_cmd(corpus, index_dir), env)
        if step.returncode != 0:
            check.fail(f"{label} : " + step.stderr[-300:])
        served = remember()
        pickups.append(wait_for(served))
        events.append(f"{event} → {served}")
        time.sleep(seconds_per_phase)
        return served

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    pickups = []
    events = []
    try:
        for thread in threads:
            thread.start()
        time.sleep(seconds_per_phase)
        # Phase 1: add three documents, delete two.
        for n in range(3):
            (corpus / f"ajout-{n}.md").write_text(
                f"# Ajout {n}\n\nLe colloque de Cerisy présente le jetonliveajout numéro {n}.\n", encoding="utf-8")
        (corpus / "pages" / "poles-de-competitivite.html").unlink()
        next(corpus.glob("bulletin-*.pdf")).unlink()
        name = reindex("réindexation 1", "+3 documents, −2 documents")
        # Phase 2: a damaged generation is switched in: the server must keep the one it serves.
        damaged = index_dir / (name + "-abime")
        shutil.copytree(index_dir / name, damaged)
        _corrupt(damaged / "passages.jsonl", "truncated to half", random.Random(1))
        link = index_dir / ".current-test"
        os.symlink(damaged.name, link)
        os.replace(link, index_dir / "current")
        time.sleep(3)
        served = httpx.get(server.url + "/api/health", timeout=10).json().get("generation")
        if served != name:
            check.fail(f"génération abîmée : le serveur sert {served} au lieu de garder {name}")
        events.append(f"génération abîmée basculée : le serveur garde {served}")
        # Phase 3: the next build repairs (full rebuild) and adds one more document.
        (corpus / "ajout-3.md").write_text("# Ajout 3\n\nDernier jetonliveajout de la série.\n", encoding="utf-8")
        name = reindex("réindexation 3", "reconstruction complète, +1 document")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        rss = server.rss_mb()
        server.stop()
    failed = [r for r in results if r[1] != 200]
    for _, status, detail in failed[:10]:
        check.fail(f"requête en échec : statut {status} {detail[:1]}")
    check.errors += max(0, len(failed) - 10)
    per_generation: dict[str, int] = {}
    mixed = 0
    for _, status, passages in results:
        if status != 200:
            continue
        owners = [g for g, content in generations.items() if set(passages) <= content]
        if not owners:
            mixed += 1
            if mixed <= 5:
                check.fail("réponse qui ne vient entièrement d'aucune génération : "
                           + ", ".join(p[0] for p in passages))
        else:
            for g in owners:
                per_generation[g] = per_generation.get(g, 0) + 1
    check.errors += max(0, mixed - 5)
    if any(p is None for p in pickups):
        check.fail("le serveur n'a pas pris le nouvel index sans redémarrage")
    new_answers = sum(1 for _, s, ps in results if s == 200 and any("jetonliveajout" in t for _, t in ps))
    check.figures.update({"requests served": len(results), "failed requests": len(failed),
                          "answers not whole from one generation": mixed, "re-indexes": 2,
                          "damaged generation refused": True, "pickup seconds": [round(p, 2) for p in pickups if p],
                          "answers citing added documents": new_answers, "answers per generation": per_generation,
                          "events": events, "server RSS at end (MB)": round(rss), "model": "hash"})
    return check


# ---------------------------------------------------------------- 4. load


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def check_load(work: Path, model: str, clients: int, per_client: int, chat_sessions: int) -> Check:
    """N concurrent HTTP clients × M questions, then simultaneous chat sessions in Chromium."""
    import httpx

    check = Check("load", "Charge : clients HTTP simultanés et sessions de chat simultanées")
    index_dir = _model_index(work, model)
    server = Server(index_dir, model, work / "load-server.log", {"ASSISTANT_RATE_LIMIT": "1000000"})
    questions = _questions()
    rss = [server.rss_mb()]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            rss.append(server.rss_mb())
            time.sleep(0.25)

    sampler = threading.Thread(target=sample)
    sampler.start()
    latencies: list[float] = []
    statuses: dict[str, int] = {}

    async def one_client(http, number: int) -> None:
        rng = random.Random(number)
        for _ in range(per_client):
            started = time.perf_counter()
            try:
                response = await http.post("/api/ask", json={"question": rng.choice(questions), "k": 5})
                ok = response.status_code == 200 and "passages" in response.json()
                key = str(response.status_code)
            except Exception as err:  # noqa: BLE001
                ok, key = False, type(err).__name__
            latencies.append(time.perf_counter() - started)
            statuses[key] = statuses.get(key, 0) + 1
            if not ok:
                check.fail(f"client {number} : {key}")

    async def http_load() -> float:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=server.url, timeout=300, limits=limits) as http:
            await http.get("/api/health")
            started = time.perf_counter()
            await asyncio.gather(*(one_client(http, n) for n in range(clients)))
            return time.perf_counter() - started

    try:
        elapsed = asyncio.run(http_load())
        http_rss = max(rss)
        chat = _chat_sessions(server.url, chat_sessions, questions, check) if chat_sessions else {}
    finally:
        sampling.set()
        sampler.join()
        server.stop()
    total = clients * per_client
    check.figures.update({
        "model": model, "clients": clients, "questions per client": per_client, "requests": total,
        "statuses": statuses, "errors": check.errors, "seconds": round(elapsed, 1),
        "requests per second": round(total / elapsed, 1) if elapsed else 0,
        "p50 (ms)": round(_percentile(latencies, 0.50) * 1000), "p95 (ms)": round(_percentile(latencies, 0.95) * 1000),
        "p99 (ms)": round(_percentile(latencies, 0.99) * 1000), "max (ms)": round(max(latencies or [0]) * 1000),
        "server RSS before (MB)": round(rss[0]), "server RSS peak, HTTP load (MB)": round(http_rss),
        "server RSS peak, with chat (MB)": round(max(rss)), **chat})
    return check


def _model_index(work: Path, model: str) -> Path:
    """An index of the shipped corpus for this model, kept in eval/artifacts/ between runs (rebuilt only if stale)."""
    index_dir = PROJECT_ROOT / "eval" / "artifacts" / "reliability" / f"index-{model}"
    if model == "hash":
        index_dir = work / "index-hash"
    started = time.perf_counter()
    built = _run([ASSISTANT, "index", str(PROJECT_ROOT / "corpus"), "--index-dir", str(index_dir), "-q"],
                 {"ASSISTANT_MODEL": model}, timeout=3600)
    if built.returncode != 0:
        raise RuntimeError(f"index {model} : {built.stderr[-500:]}")
    _log(f"index {model} prêt en {time.perf_counter() - started:.0f} s")
    return index_dir


def _chat_sessions(url: str, sessions: int, questions: list[str], check: Check) -> dict:
    """Simultaneous chat sessions in Chromium: each asks two questions and must get two answers."""
    chromium = shutil.which("chromium")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        chromium = None
    if not chromium:
        check.fail("chromium ou playwright absent : sessions de chat non testées")
        return {"chat sessions": 0}
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    latencies: list[float] = []
    outside: list[str] = []
    done = [0]

    async def session(browser, number: int) -> None:
        context = await browser.new_context()
        page = await context.new_page()

        async def guard(route):
            if route.request.url.startswith(url):
                await route.continue_()
            else:
                outside.append(route.request.url)
                await route.abort()

        await page.route("**/*", guard)
        try:
            await page.goto(url + "/", timeout=120_000)
            # The starters are enabled once the socket is up; a question sent before is silently dropped.
            await page.wait_for_selector("#starters button:not([disabled])", timeout=120_000)
            for turn, question in enumerate(random.Random(number).sample(questions, 2), start=1):
                await page.fill("#chat-input", question, timeout=120_000)
                await page.wait_for_selector("#chat-submit:not([disabled])", timeout=120_000)
                started = time.perf_counter()
                await page.press("#chat-input", "Enter")
                selector = '[data-step-type="assistant_message"]'
                await page.wait_for_function(
                    f"document.querySelectorAll('{selector}').length >= {turn} && "
                    f"document.querySelectorAll('{selector}')[{turn - 1}].innerText.trim().length > 0",
                    timeout=180_000)
                latencies.append(time.perf_counter() - started)
                text = await page.locator(selector).nth(turn - 1).inner_text()
                if "n'a pas pu" in text or "erreur" in text.lower()[:80]:
                    check.fail(f"session {number} : réponse d'erreur : {text[:100]}")
            done[0] += 1
        except Exception as err:  # noqa: BLE001
            check.fail(f"session de chat {number} : {type(err).__name__}: {str(err)[:160]}")
        finally:
            await context.close()

    async def run() -> float:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium, headless=True, args=flags)
            started = time.perf_counter()
            await asyncio.gather(*(session(browser, n) for n in range(sessions)))
            elapsed = time.perf_counter() - started
            await browser.close()
            return elapsed

    elapsed = asyncio.run(run())
    if outside:
        check.fail(f"{len(outside)} requête(s) hors du serveur : {outside[:3]}")
    return {"chat sessions": sessions, "chat sessions completed": done[0], "chat answers": len(latencies),
            "chat p50 (ms)": round(_percentile(latencies, 0.5) * 1000),
            "chat p95 (ms)": round(_percentile(latencies, 0.95) * 1000), "chat seconds": round(elapsed, 1)}


# ---------------------------------------------------------------- 5. hostile input to the app


def _app(work: Path, rate_limit: int = 0, name: str = "app", trusted_proxies: tuple[str, ...] = ()):
    """The ASGI app (API only) over a hash index of part of the shipped corpus plus a hostile note."""
    from assistant.api import Runtime, create_app
    from assistant.embed import HashEmbedder
    from assistant.feedback import FeedbackStore
    from assistant.index import build_index
    from assistant.service import Assistant

    index_dir = work / f"{name}-index"
    hostile = work / f"{name}-hostile"
    hostile.mkdir(parents=True, exist_ok=True)
    (hostile / "note-piegee.md").write_text(HOSTILE_NOTE, encoding="utf-8")
    settings = Settings(index_dir=index_dir, model="hash", rate_limit=rate_limit, trusted_proxies=trusted_proxies)
    build_index([PROJECT_ROOT / "corpus" / "charte", PROJECT_ROOT / "corpus" / "pages", hostile], settings,
                HashEmbedder(), show_progress=False)
    runtime = Runtime.create(Assistant.load(settings, HashEmbedder()), FeedbackStore(work / f"{name}.sqlite3"))
    return create_app(runtime, with_chat=False), runtime


HOSTILE_NOTE = """---
title: Note piégée <script>alert('titre')</script>
---
# Consignes de la cellule piégée

La cellule piégée change le code <script>alert('xss')</script> chaque trimestre.
Regardez <img src=x onerror="alert('img')"> puis le [lien piégé](javascript:alert('lien')) de la cellule piégée.
"""


def check_schemathesis(work: Path, examples: int) -> Check:
    """API fuzzing from the OpenAPI schema: valid and invalid requests, no 5xx."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hypothesis_settings
    from schemathesis.generation import GenerationMode

    check = Check("schemathesis", "Entrées hostiles : fuzz de l'API depuis son schéma OpenAPI (schemathesis)")
    app, _ = _app(work, rate_limit=0, name="schema")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    statuses: dict[str, int] = {}
    operations = 0
    cases = [0]
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        # Negative cases need something to break: a body or a constrained parameter (GET routes here have neither).
        modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if operation.method.upper() == "POST" \
            else (GenerationMode.POSITIVE,)
        for mode in modes:
            @hypothesis_settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
                                 suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                cases[0] += 1
                response = case.call()
                key = f"{case.method} {operation.path} {response.status_code}"
                statuses[key] = statuses.get(key, 0) + 1
                if response.status_code >= 500:
                    check.fail(f"{case.method} {case.formatted_path} → {response.status_code} : "
                               f"{str(case.body)[:120]}")

            try:
                run()
            except Exception as err:  # noqa: BLE001 - e.g. unsatisfiable negative strategies
                check.notes.append(f"{operation.path} {mode.value} : {type(err).__name__}: {str(err)[:120]}")
    server_errors = sum(v for k, v in statuses.items() if k.endswith(tuple(f" 5{d}{e}" for d in "0123456789"
                                                                         for e in "0123456789")))
    check.figures.update({"operations": operations, "cases": cases[0], "server errors (5xx)": server_errors,
                          "responses": dict(sorted(statuses.items()))})
    return check


def check_hostile_questions(work: Path) -> Check:
    """Empty, over-long, control-character, emoji, right-to-left… questions: a clear 200 or 422, never 5xx."""
    from fastapi.testclient import TestClient

    from assistant.chat import render_reply
    from tools.hostile import hostile_questions

    check = Check("questions", "Entrées hostiles : questions piégées (API) et texte piégé des documents")
    app, runtime = _app(work, rate_limit=0, name="questions")
    rows = [("question", "statut")]
    with TestClient(app, raise_server_exceptions=False) as client:
        for label, question in hostile_questions():
            response = client.post("/api/ask", content=json.dumps({"question": question}),
                                   headers={"content-type": "application/json"})
            status = response.status_code
            fine = status == 200 and "passages" in response.json() or \
                status == 422 and response.json().get("message", "").startswith("question :")
            if not fine:
                check.fail(f"{label} : statut {status} : {response.text[:120]}")
            rows.append((label, status))
        # Document text with markup comes back as text: JSON strings in the API, escaped Markdown in the chat.
        answer = runtime.ask("cellule piégée code du coffre", k=5)
        hostile = [h for h in answer.hits if "piégée" in h.passage.text]
        reply = render_reply(answer, has_pdf=lambda p: False).content
        import re

        raw = re.findall(r"(?<!\\)<(?:script|img)|\]\(javascript:", reply)
        if not hostile or raw:
            check.fail(f"texte piégé : passages {len(hostile)}, balises non échappées {raw}")
    check.figures.update({"questions": len(rows) - 1, "answered (200)": sum(1 for _, s in rows[1:] if s == 200),
                          "refused with a clear 422": sum(1 for _, s in rows[1:] if s == 422),
                          "server errors": sum(1 for _, s in rows[1:] if s >= 500), "per question": rows,
                          "hostile document text shown as text": not raw})
    return check


def check_rate_limit(work: Path, per_minute: int = 30, flood: int = 100) -> Check:
    """A question flood from one client is cut at the limit with a clear 429; another client is unaffected."""
    from fastapi.testclient import TestClient

    check = Check("ratelimit", "Limite par client : une rafale de questions d'une même adresse")
    app, _ = _app(work, rate_limit=per_minute, name="ratelimit", trusted_proxies=("127.0.0.1",))
    codes: dict[int, int] = {}
    message = ""
    retry = None
    started = time.monotonic()
    with TestClient(app, raise_server_exceptions=False, client=("203.0.113.7", 4000)) as flooder:
        for _ in range(flood):
            response = flooder.post("/api/ask", json={"question": "charte cybersécurité"})
            codes[response.status_code] = codes.get(response.status_code, 0) + 1
            if response.status_code == 429 and not message:
                message = response.json()["message"]
                retry = response.headers.get("retry-after")
    # The bucket refills at per_minute/60 a second while the flood lasts: those questions are allowed too.
    refill = int((time.monotonic() - started) * per_minute / 60) + 1
    with TestClient(app, raise_server_exceptions=False, client=("198.51.100.9", 4000)) as other:
        other_status = other.post("/api/ask", json={"question": "charte cybersécurité"}).status_code
    if not per_minute <= codes.get(200, 0) <= per_minute + refill or codes.get(200, 0) + codes.get(429, 0) != flood:
        check.fail(f"statuts {codes} pour une limite de {per_minute}/min")
    if "questions par minute" not in message or not retry:
        check.fail(f"message 429 : {message!r}, Retry-After {retry!r}")
    if other_status != 200:
        check.fail(f"un autre client est refusé ({other_status})")
    # Behind a trusted proxy (127.0.0.1 here) each client has its own budget; a client that writes
    # X-Forwarded-For itself, connecting directly, does not get new ones.
    question = {"question": "charte cybersécurité"}
    with TestClient(app, raise_server_exceptions=False, client=("127.0.0.1", 4000)) as proxy:
        proxied = [proxy.post("/api/ask", json=question, headers={"x-forwarded-for": "192.0.2.10"}).status_code
                   for _ in range(per_minute + 1)]
        neighbour = proxy.post("/api/ask", json=question, headers={"x-forwarded-for": "192.0.2.11"}).status_code
    with TestClient(app, raise_server_exceptions=False, client=("198.51.100.10", 4000)) as spoofer:
        spoofed = [spoofer.post("/api/ask", json=question,
                                headers={"x-forwarded-for": f"192.0.2.{100 + n}"}).status_code
                   for n in range(per_minute + 1)]
    if proxied[-1] != 429 or neighbour != 200:
        check.fail(f"derrière un proxy de confiance : dernier statut {proxied[-1]} (429 attendu), "
                   f"voisin {neighbour} (200 attendu)")
    if spoofed[-1] != 429:
        check.fail(f"X-Forwarded-For d'un client non mandaté suivi : dernier statut {spoofed[-1]} (429 attendu)")
    check.figures.update({"limit per minute": per_minute, "flood": flood, "statuses": codes,
                          "refill during the flood (allowed)": refill, "429 message": message, "Retry-After": retry, "other client": other_status,
                          "behind a trusted proxy: flooding client, last status": proxied[-1],
                          "behind a trusted proxy: another client": neighbour,
                          "untrusted X-Forwarded-For, last status": spoofed[-1],
                          "setting": "ASSISTANT_RATE_LIMIT (0 : sans limite), ASSISTANT_TRUSTED_PROXIES"})
    return check


def _raw_get(port: int, path: str) -> tuple[int, bytes]:
    """A GET sent byte for byte, so no client library normalises `../` away."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("utf-8"))
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head = data.split(b"\r\n", 1)[0].split()
    return (int(head[1]) if len(head) > 1 and head[1].isdigit() else 0), data


def check_traversal(work: Path) -> Check:
    """Source-file routes serve only indexed PDFs: ../, absolute, encoded, and symlinks out of the corpus refused."""
    from fastapi.testclient import TestClient

    from assistant.api import Runtime, create_app
    from assistant.embed import HashEmbedder
    from assistant.feedback import FeedbackStore
    from assistant.index import build_index, load_index
    from assistant.service import Assistant
    from tools.hostile import pdf_bytes, traversal_paths

    check = Check("traversal", "Entrées hostiles : traversée de chemins sur les routes qui servent des fichiers")
    secret_mark = b"SECRET-HORS-CORPUS"
    outside = work / "dehors"
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret.pdf"
    secret.write_bytes(pdf_bytes(["Document confidentiel hors corpus"]).replace(b"%PDF-1.4", b"%PDF-1.4\n%"
                                                                                  + secret_mark, 1))
    (outside / "secret.txt").write_bytes(secret_mark)
    corpus = work / "traversal-corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    real = sorted((PROJECT_ROOT / "corpus" / "bulletins").glob("*.pdf"))[0]
    shutil.copy(real, corpus / "vrai.pdf")
    (corpus / "lien-dehors.pdf").unlink(missing_ok=True)
    os.symlink(secret, corpus / "lien-dehors.pdf")
    settings = Settings(index_dir=work / "traversal-index", model="hash")
    report = build_index([corpus], settings, HashEmbedder(), show_progress=False)
    index = load_index(settings.index_dir, settings)
    if any("dehors" in p.source or "secret" in p.source for p in index.passages):
        check.fail("un lien symbolique vers l'extérieur du corpus a été indexé")
    runtime = Runtime.create(Assistant.load(settings, HashEmbedder()), FeedbackStore(work / "traversal.sqlite3"))
    label = next(p.source for p in index.passages if p.source.endswith("vrai.pdf"))
    attempts = 0
    refused = 0
    leaked = 0
    served = 0
    rows = [("voie", "chemin demandé", "statut")]

    def judge(how: str, path: str, status: int, body: bytes, expect_ok: bool = False) -> None:
        nonlocal attempts, refused, leaked, served
        if expect_ok:
            served += 1
            if status != 200:
                check.fail(f"{how} {path} : le PDF indexé n'est pas servi ({status})")
            return
        attempts += 1
        leak = secret_mark in body or b"root:x:0" in body or b"[build-system]" in body
        leaked += leak
        if status in (200, 0) or leak:
            check.fail(f"{how} {path} : statut {status}{', contenu hors corpus servi' if leak else ''}")
        else:
            refused += 1
        rows.append((how, path, status))

    with TestClient(create_app(runtime, with_chat=False), raise_server_exceptions=False) as client:
        judge("in-process", label, *_get(client, "/api/sources/" + label), expect_ok=True)
        # httpx normalises `../` before sending (the socket pass below sends paths byte for byte).
        for path in traversal_paths(secret, label.replace("vrai.pdf", "%2e%2e/traversal-corpus/vrai.pdf")):
            judge("in-process", path, *_get(client, "/api/sources/" + path))
        judge("symlink out of the corpus", "lien-dehors.pdf", *_get(client, "/api/sources/" + label.replace(
            "vrai.pdf", "lien-dehors.pdf")))
        # The indexed PDF swapped, after indexing, for a link to a file outside, then for other bytes.
        original = (corpus / "vrai.pdf").read_bytes()
        (corpus / "vrai.pdf").unlink()
        os.symlink(secret, corpus / "vrai.pdf")
        judge("indexed PDF replaced by a symlink out", label, *_get(client, "/api/sources/" + label))
        (corpus / "vrai.pdf").unlink()
        (corpus / "vrai.pdf").write_bytes(secret.read_bytes())
        judge("indexed PDF overwritten with other bytes", label, *_get(client, "/api/sources/" + label))
        (corpus / "vrai.pdf").write_bytes(original)
        judge("in-process", label + " (restored)", *_get(client, "/api/sources/" + label), expect_ok=True)
        for passage_path in ("../../pyproject.toml", "..%2f..%2fpyproject.toml", "%00"):
            judge("passage route", passage_path, *_get(client, "/api/passages/" + passage_path))
    # Over a real socket, byte for byte (no client-side normalisation of the path).
    index_dir = settings.index_dir
    server = Server(index_dir, "hash", work / "traversal-server.log", {"ASSISTANT_RATE_LIMIT": "0"})
    try:
        status, _ = _raw_get(server.port, "/api/sources/" + label)
        judge("socket", label, status, b"", expect_ok=True)
        for path in traversal_paths(secret, label.replace("vrai.pdf", "../traversal-corpus/vrai.pdf")):
            status, body = _raw_get(server.port, "/api/sources/" + path.replace(" ", "%20"))
            judge("socket", path, status, body)
        for path in ("/../pyproject.toml", "/api/../pyproject.toml", "/public/../../pyproject.toml",
                     "/assets/../../pyproject.toml", "/public/%2e%2e/%2e%2e/pyproject.toml",
                     "/.files/../pyproject.toml", "/project/file/..%2f..%2fpyproject.toml"):
            status, body = _raw_get(server.port, path)
            attempts += 1
            leak = b"[build-system]" in body
            leaked += leak
            refused += not leak
            if leak:
                check.fail(f"socket {path} : pyproject.toml servi")
            rows.append(("socket, other routes", path, status))
    finally:
        server.stop()
    check.figures.update({"attempts": attempts, "refused": refused, "content from outside served": leaked,
                          "indexed PDF served where it should be": served,
                          "symlink out of the corpus at index time": "ignoré, signalé" if any(
                              "lien symbolique" in r for _, r in report.failed) else "NON signalé",
                          "per attempt": rows})
    return check


def _get(client, path: str) -> tuple[int, bytes]:
    response = client.get(path)
    return response.status_code, response.content


# ---------------------------------------------------------------- the report


DONE_WHEN = [
    ("fuzz", "fuzz cases ≥ 5,000 with 0 crashes or hangs",
     lambda c: c.figures.get("cases", 0) >= 5000 and c.errors == 0),
    ("kill", "10/10 kill points recovered",
     lambda c: c.figures.get("kill points", 0) >= 10 and c.figures.get("recovered") == c.figures.get("kill points")),
    ("corruption", "every corrupted index file detected",
     lambda c: c.figures.get("detected") == c.figures.get("faults injected") and c.errors == 0),
    ("live", "live re-index with 0 failed requests",
     lambda c: c.figures.get("requests served", 0) > 0 and c.errors == 0),
    ("load", "1,000 concurrent requests with 0 errors",
     lambda c: c.figures.get("requests", 0) >= 1000 and c.errors == 0),
    ("schemathesis", "schemathesis with 0 server errors",
     lambda c: c.figures.get("cases", 0) > 0 and c.errors == 0),
    ("traversal", "every traversal attempt refused",
     lambda c: c.figures.get("attempts", 0) > 0 and c.errors == 0),
]

SUMMARY_KEYS = {
    "fuzz": ["cases", "crashes", "hangs", "slowest case (s)", "worker restarts"],
    "build": ["hostile files", "indexed", "refused with a reason", "good files indexed", "limits hit"],
    "kill": ["kill points", "recovered", "stages"],
    "corruption": ["index files", "faults injected", "detected", "`assistant ask` refusals checked"],
    "concurrent": ["builds started", "second build waited", "--no-wait refused (exit 1)", "passages"],
    "live": ["requests served", "failed requests", "answers not whole from one generation", "pickup seconds",
             "answers citing added documents"],
    "load": ["model", "requests", "errors", "p50 (ms)", "p95 (ms)", "requests per second",
             "server RSS peak, HTTP load (MB)", "chat sessions completed", "chat p50 (ms)", "chat p95 (ms)",
             "server RSS peak, with chat (MB)"],
    "ratelimit": ["limit per minute", "flood", "statuses", "other client"],
    "schemathesis": ["operations", "cases", "server errors (5xx)"],
    "questions": ["questions", "answered (200)", "refused with a clear 422", "server errors"],
    "traversal": ["attempts", "refused", "content from outside served"],
}


def _fmt(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} : {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def _row(values) -> str:
    return "| " + " | ".join(f"`{v}`" if isinstance(v, str) and ("/" in v or "%" in v) and " " not in v
                             else str(v).replace("|", "\\|").replace("\n", " ") for v in values) + " |"


def write_report(checks: list[Check], out: Path, meta: dict) -> tuple[Path, Path]:
    """eval/reliability.md (French headings, figures) and reliability.json."""
    out.mkdir(parents=True, exist_ok=True)
    by_key = {c.key: c for c in checks}
    lines = [
        "# Fiabilité et sécurité : pannes, charge et entrées hostiles",
        "",
        f"Produit par `make reliability` le {meta['date']} en {meta['seconds'] / 60:.1f} min "
        f"(échelle {meta['scale']}, machine : {meta['machine']}). Chaque contrôle exécute le vrai code : "
        "la commande `assistant` dans des sous-processus, le serveur HTTP sur une vraie socket, Chromium pour le chat.",
        "",
        "## Critères de l'issue 6",
        "",
        "| critère | résultat | atteint |",
        "|---|---|---|",
    ]
    for key, text, test in DONE_WHEN:
        check = by_key.get(key)
        if check is None:
            lines.append(f"| {text} | non exécuté | non |")
            continue
        figures = "; ".join(f"{k} : {_fmt(check.figures.get(k))}" for k in SUMMARY_KEYS[key][:4]
                            if k in check.figures)
        lines.append(f"| {text} | {figures} ; erreurs : {check.errors} | {'oui' if test(check) else 'non'} |")
    lines += ["", "## Contrôles", "", "| contrôle | chiffres | erreurs | durée |", "|---|---|---|---|"]
    for check in checks:
        figures = "; ".join(f"{k} : {_fmt(check.figures.get(k))}" for k in SUMMARY_KEYS.get(check.key, [])
                            if k in check.figures)
        lines.append(f"| {check.title} | {figures} | {check.errors} | {check.seconds:.0f} s |")
    for check in checks:
        lines += ["", f"## {check.title}", ""]
        for key, value in check.figures.items():
            if key.startswith("per ") and isinstance(value, list):
                continue
            lines.append(f"- {key} : {_fmt(value)}")
        for key, value in check.figures.items():
            if key.startswith("per ") and isinstance(value, list) and len(value) > 1:
                # The first row holds the column names.
                lines += ["", f"<details><summary>{key} ({len(value) - 1})</summary>", ""]
                lines += [_row(value[0]), "|" + "---|" * len(value[0])] + [_row(r) for r in value[1:]]
                lines += ["", "</details>"]
        if check.notes:
            lines += ["", "Notes :"] + [f"- {n}" for n in check.notes]
    lines += ["", "## Conditions", "",
              f"- Modèle des contrôles de charge : {by_key['load'].figures.get('model') if 'load' in by_key else '—'} ;"
              " les autres contrôles HTTP (réindexation à chaud, traversée, schemathesis, questions) utilisent "
              "l'index du `HashEmbedder` (encodeur factice, rapide) : ils testent le service, pas la pertinence.",
              "- Limites par fichier pendant le fuzz : 15 s et 2 048 Mo par fichier (réglages "
              "`ASSISTANT_MAX_READ_SECONDS`, `ASSISTANT_MAX_READ_MEMORY_MB`, `ASSISTANT_MAX_PAGES`, "
              "`ASSISTANT_MAX_FILE_MB`).",
              f"- Machine partagée : {meta['machine']} ; les durées et latences dépendent de la charge du moment.",
              ""]
    md = out / "reliability.md"
    md.write_text("\n".join(lines), encoding="utf-8")
    data = {"meta": meta, "checks": [{"key": c.key, "title": c.title, "errors": c.errors, "seconds": round(c.seconds, 1),
                                      "figures": c.figures, "notes": c.notes} for c in checks],
            "done_when": {text: (key in by_key and bool(test(by_key[key]))) for key, text, test in DONE_WHEN}}
    js = out / "reliability.json"
    js.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return md, js


def main(argv: list[str] | None = None) -> int:
    """Run every check at the scale asked for and write the report; 1 when any check counted an error."""
    scale = float(os.environ.get("RELIABILITY_SCALE", "1"))
    model = os.environ.get("RELIABILITY_MODEL") or ("e5-small" if scale >= 1 else "hash")
    out = Path(os.environ.get("RELIABILITY_OUT") or PROJECT_ROOT / "eval")
    only = set(argv or sys.argv[1:])
    plan = [
        ("fuzz", lambda w: check_fuzz(w, max(50, int(5000 * scale)))),
        ("build", check_named_files_build),
        ("kill", lambda w: check_kill(w, max(3, round(10 * scale)))),
        ("corruption", check_corruption),
        ("concurrent", check_concurrent_builds),
        ("live", check_live_reindex),
        ("load", lambda w: check_load(w, model, 50, max(2, round(20 * scale)), max(2, round(10 * scale)))),
        ("ratelimit", check_rate_limit),
        ("schemathesis", lambda w: check_schemathesis(w, max(30, int(300 * scale)))),
        ("questions", check_hostile_questions),
        ("traversal", check_traversal),
    ]
    started = time.perf_counter()
    checks = []
    with tempfile.TemporaryDirectory(prefix="assistant-reliability-") as tmp:
        for key, run in plan:
            if only and key not in only:
                continue
            _log(f"contrôle {key}…")
            work = Path(tmp) / key
            work.mkdir()
            t0 = time.perf_counter()
            try:
                check = run(work)
            except Exception as err:  # noqa: BLE001 - a check that cannot run is a failed check
                import traceback

                check = Check(key, key)
                check.fail(f"le contrôle n'a pas pu s'exécuter : {type(err).__name__}: {err}")
                traceback.print_exc()
            check.seconds = time.perf_counter() - t0
            checks.append(check)
            _log(f"contrôle {key} : {check.errors} erreur(s) en {check.seconds:.0f} s")
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "scale": scale,
            "seconds": time.perf_counter() - started, "load model": model,
            "machine": f"{os.cpu_count()} cœurs, {platform.python_implementation()} {platform.python_version()}"}
    md, js = write_report(checks, out, meta)
    errors = sum(c.errors for c in checks)
    print(f"Rapport écrit dans {md} et {js} : {errors} erreur(s).")
    for check in checks:
        for note in check.notes[:5]:
            print(f"  {check.key} : {note}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
