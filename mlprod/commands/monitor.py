"""`mlprod monitor`: execute the monitoring notebooks on the current data and report their checks.

Each notebook in `<outputs.notebooks>/` runs in a fresh `python3` kernel (nbclient) with the
project root as working directory. The executed copy and a standalone HTML page go to
`<outputs.notebooks>/reports/<date>/` (date: `--today`, else MLPROD_TODAY, else today).
The summary each notebook emits (`mlprod.checks.monitoring.SUMMARY_MIME`) is printed with
every breach named. Exit 1 when a cell errors, a notebook emits no summary or a check
breaches; 0 otherwise. nbclient, nbformat and nbconvert are imported only here.

Only notebooks mlprod generated run: each must be a regular file inside the project whose
content matches its manifest entry (`verify_notebooks`); `--allow-edited` overrides that.
Reports are written through the safe writer (`mlprod.generator.writer.write_file`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import typer

from mlprod.errors import ExitCode, RefusedError, UsageError

SUMMARY_MIME = "application/vnd.mlprod.checks+json"  # = mlprod.checks.monitoring.SUMMARY_MIME
ORDER = ("drift", "bias", "infrastructure", "baseline")
INSTALL_HINT = "install the monitoring dependencies: pip install 'mlprod[checks]'"


@dataclass
class Outcome:
    """What one notebook run produced."""

    name: str
    cells: int
    seconds: float = 0.0
    error: str | None = None  # a cell error, a timeout or a dead kernel
    summary: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)

    @property
    def breaches(self) -> list[dict[str, Any]]:
        return [c for c in (self.summary or {}).get("checks", []) if c.get("status") == "breach"]

    @property
    def failed(self) -> bool:
        return self.error is not None or self.summary is None or bool(self.breaches)


def _today(value: str | None) -> str:
    from mlprod.today import parse_iso_date, today

    return (parse_iso_date(value, source="--today") if value else today()).isoformat()


def _import_nb() -> tuple[Any, Any, Any]:
    try:
        import nbclient
        import nbconvert
        import nbformat
    except ImportError as exc:
        raise RefusedError(
            f"mlprod monitor needs the package {exc.name}, which is not installed", hint=INSTALL_HINT
        ) from None
    return nbformat, nbclient, nbconvert


def read_notebook(path: Path, text: str | None = None) -> Any:
    """A notebook (its verified `text`, else the file) as a node; a damaged one is a RefusedError."""
    import nbformat

    try:
        return nbformat.reads(text, as_version=4) if text is not None else nbformat.read(path, as_version=4)
    except OSError as exc:
        raise RefusedError(f"cannot read notebook {path.name}: {exc}") from exc
    except Exception as exc:  # not JSON, not a notebook (nbformat raises several kinds)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RefusedError(
            f"{path.parent.name}/{path.name} is not a readable notebook ({reason}); nothing was run",
            hint="restore it with `mlprod generate --force`, or delete it and run `mlprod generate`",
        ) from exc


def _kernel_problem(exc: BaseException, log: Path) -> RefusedError:
    """A clear message for a kernel that cannot start, naming the missing package."""
    import importlib.util

    try:
        tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-5:])
    except OSError:
        tail = ""
    if importlib.util.find_spec("ipykernel") is None or "No module named 'ipykernel'" in tail:
        return RefusedError(
            "cannot start the python3 kernel: the package ipykernel is not installed",
            hint="pip install ipykernel (or pip install 'mlprod[checks]')",
        )
    message = f"cannot start the python3 kernel: {type(exc).__name__}: {exc}"
    if tail:
        message += f"\nkernel output:\n{tail}"
    return RefusedError(message, hint="check that `python -m ipykernel_launcher --version` works")


def _notebooks(folder: Path, wanted: list[str] | None) -> list[Path]:
    found = {p.stem: p for p in folder.glob("*.ipynb") if p.is_file()} if folder.is_dir() else {}
    if not found:
        raise UsageError(f"no monitoring notebooks in {folder.name}/", hint="run `mlprod generate` first")
    if wanted:
        names = [w.removesuffix(".ipynb") for w in wanted]
        unknown = [n for n in names if n not in found]
        if unknown:
            regenerate = "run `mlprod generate` to (re)create the notebooks the spec declares"
            raise UsageError(
                f"no notebook {', '.join(unknown)} in {folder.name}/ (available: {', '.join(sorted(found))})",
                hint=regenerate if any(n in ORDER for n in unknown) else None,
            )
        return [found[n] for n in dict.fromkeys(names)]
    rank = {n: i for i, n in enumerate(ORDER)}
    return [found[n] for n in sorted(found, key=lambda n: (rank.get(n, len(ORDER)), n))]


class _Board:
    """Progress of the notebooks running together: a live line on a terminal, a line per finished one."""

    def __init__(self, totals: dict[str, int]) -> None:
        self.totals, self.done = totals, dict.fromkeys(totals, 0)
        self.start = dict.fromkeys(totals, time.monotonic())
        self.tty = sys.stderr.isatty()

    def started(self, name: str) -> None:
        self.start[name] = time.monotonic()

    def elapsed(self, name: str) -> float:
        return time.monotonic() - self.start[name]

    def bar(self, name: str, width: int = 10) -> str:
        filled = int(width * self.done[name] / max(self.totals[name], 1))
        return "[" + "#" * filled + "-" * (width - filled) + "]"

    def _live(self) -> None:
        if self.tty:
            running = [
                f"{n} {self.bar(n)} {self.done[n]}/{self.totals[n]}"
                for n in self.totals
                if self.done[n] < self.totals[n]
            ]
            sys.stderr.write("\r\x1b[K" + "  ".join(running))
            sys.stderr.flush()

    def step(self, name: str) -> None:
        self.done[name] += 1
        self._live()

    def finish(self, name: str, note: str = "") -> float:
        seconds = self.elapsed(name)
        line = (
            f"{name:<16} {self.bar(name, 20)} {self.done[name]}/{self.totals[name]} cells "
            f"{seconds:5.1f}s" + (f"  {note}" if note else "")
        )
        sys.stderr.write(("\r\x1b[K" if self.tty else "") + line + "\n")
        sys.stderr.flush()
        self._live()
        return seconds


def _summary(nb: Any) -> dict[str, Any] | None:
    found = None
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            if SUMMARY_MIME in data:
                found = data[SUMMARY_MIME]
    return dict(found) if found is not None else None


def _error_text(nb: Any, exc: BaseException) -> str:
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                return f"cell {cell.get('id', '?')} raised {out.get('ename')}: {out.get('evalue')}"
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"


async def run_notebook(
    path: Path, text: str, root: Path, out_dir: str, today: str, timeout: int, board: _Board
) -> Outcome:
    """Execute one notebook (its verified `text`); write the executed copy and HTML under `out_dir`."""
    import nbclient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = read_notebook(path, text)
    name = path.stem
    outcome = Outcome(name, board.totals[name])
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(root)}},
        on_cell_executed=lambda **_: board.step(name),
    )
    env = {**os.environ, "MLPROD_TODAY": today}
    fd, log_name = tempfile.mkstemp(prefix="mlprod-kernel-", suffix=".log")
    log_path = Path(log_name)
    board.started(name)
    try:
        with os.fdopen(fd, "wb") as kernel_log:  # the kernel's own chatter, shown only if it fails to start
            await client.async_execute(env=env, stdout=kernel_log, stderr=kernel_log)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        outcome.error = _error_text(nb, exc)
    except Exception as exc:  # the kernel could not start (no kernelspec, crash at import)
        if board.done[name] == 0:
            board.finish(name, "kernel did not start")
            raise _kernel_problem(exc, log_path) from None
        outcome.error = f"{type(exc).__name__}: {exc}"
    finally:
        log_path.unlink(missing_ok=True)
    outcome.seconds = board.finish(name, "ERROR" if outcome.error else "")
    outcome.summary = _summary(nb)
    outcome.files = _write_reports(nb, root, out_dir, name)
    return outcome


async def run_all(
    sources: dict[Path, str], root: Path, out_dir: str, today: str, timeout: int, jobs: int
) -> list[Outcome]:
    """Run the notebooks (path -> verified text), `jobs` kernels at a time; outcomes in order."""
    import asyncio

    totals = {
        p.stem: sum(c.cell_type == "code" for c in read_notebook(p, t).cells) for p, t in sources.items()
    }
    board = _Board(totals)
    gate = asyncio.Semaphore(max(1, jobs))

    async def one(p: Path, text: str) -> Outcome:
        async with gate:
            return await run_notebook(p, text, root, out_dir, today, timeout, board)

    return list(await asyncio.gather(*(one(p, t) for p, t in sources.items())))


def verify_notebooks(root: Path, paths: list[Path], allow_edited: bool) -> dict[Path, str]:
    """The text of each notebook to run, after checking mlprod generated it as it is.

    A notebook runs only when it is a regular file inside the project (no symlink at it or
    its folder) whose content matches its `.mlprod/manifest.json` entry: in a scheduled CI
    job an edited notebook would run with the job's secrets. Otherwise RefusedError naming
    each, unless `allow_edited` (then each is named in a warning and run).
    """
    from mlprod.generator import writer
    from mlprod.generator.manifest import MANIFEST_PATH, read_manifest

    manifest, _ = read_manifest(root)
    sources: dict[Path, str] = {}
    problems: list[str] = []
    with writer.ProjectDir(root) as pd:
        for path in paths:
            rel = path.relative_to(root).as_posix()
            why, data = _notebook_problem(pd, path, rel, manifest.files.get(rel))
            if why is not None:
                problems.append(f"  {rel}: {why}")
                data = path.read_bytes() if allow_edited else b""
            sources[path] = (data or b"").decode("utf-8", errors="replace")
    if problems and not allow_edited:
        raise RefusedError(
            f"refusing to run {len(problems)} notebook(s) that are not as mlprod generated them "
            f"(see {MANIFEST_PATH}); nothing was run:\n" + "\n".join(problems),
            hint="restore them with `mlprod generate` (--force to drop edits), remove the extra ones, "
            "or pass --allow-edited to run them anyway (they run with this job's credentials)",
        )
    for line in problems:
        typer.echo(f"warning: running it anyway (--allow-edited): {line.strip()}", err=True)
    return sources


def _notebook_problem(pd: Any, path: Path, rel: str, entry: Any) -> tuple[str | None, bytes | None]:
    """(why it may not run, None) or (None, its bytes)."""
    import hashlib

    if path.is_symlink():
        return f"is a symlink (to {os.readlink(path)}), not a notebook mlprod generated", None
    try:
        data = pd.read_bytes(rel)
    except RefusedError as exc:  # a symlinked folder, or not a regular file
        return exc.message.replace("; refusing to write through it", "").removeprefix(f"{rel} "), None
    if data is None:
        return "is gone", None
    if entry is None or entry.managed:
        return "is not a notebook mlprod generated (it is not in the manifest)", None
    if hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest() != entry.sha256:
        return "was edited since mlprod generated it", None
    return None, data


_REPORT_MARK = '<meta name="generator" content="mlprod monitor">'


def _is_report(data: bytes) -> bool:
    """An executed copy or HTML page that `mlprod monitor` wrote (so a re-run may replace it)."""
    import json

    if _REPORT_MARK.encode() in data:
        return True
    try:
        meta = json.loads(data).get("metadata", {})
    except (ValueError, AttributeError):
        return False
    return isinstance(meta, dict) and isinstance(meta.get("mlprod"), dict)


def _write_reports(nb: Any, root: Path, out_dir: str, stem: str) -> list[str]:
    import nbformat
    from nbconvert import HTMLExporter

    from mlprod.generator import writer

    html, _ = HTMLExporter().from_notebook_node(nb)
    html = html.replace("<head>", f"<head>\n{_REPORT_MARK}", 1)
    written = []
    for rel, text in (
        (f"{out_dir}/{stem}.ipynb", nbformat.writes(nb) + "\n"),
        (f"{out_dir}/{stem}.html", html),
    ):
        writer.write_file(root, rel, text, owned=_is_report, hint="move the file away, then run again")
        written.append(rel)
    return written


def _report(outcomes: list[Outcome]) -> None:
    for o in outcomes:
        s = o.summary or {}
        if o.summary is None:
            head = f"{o.name}: no summary (the notebook did not finish)"
        else:
            head = (
                f"{o.name}: {s.get('passed', 0)} ok, {len(o.breaches)} breach(es), "
                f"{s.get('not_judged', 0)} not judged ({o.seconds:.1f}s)"
            )
        typer.echo(head)
        if o.error:
            typer.echo(f"  ERROR  {o.error}")
        for c in o.breaches:
            typer.echo(f"  BREACH {c.get('message')}")
    failed = [o.name for o in outcomes if o.failed]
    if failed:
        typer.echo(
            f"mlprod monitor: {len(failed)} of {len(outcomes)} notebook(s) need attention: "
            + ", ".join(failed)
        )
    else:
        typer.echo(f"mlprod monitor: {len(outcomes)} notebook(s) ran, no breach.")


def monitor(
    spec: Annotated[Path, typer.Option("--spec", help="The spec file.")] = Path("mlprod.yaml"),
    notebook: Annotated[
        list[str] | None, typer.Option("--notebook", help="Run only this notebook (repeatable), e.g. drift.")
    ] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="Report date (default MLPROD_TODAY, else today).")
    ] = None,
    timeout: Annotated[int, typer.Option("--timeout", help="Seconds allowed per cell.", min=1)] = 600,
    jobs: Annotated[int, typer.Option("--jobs", help="Notebooks run at the same time.", min=1)] = 4,
    allow_edited: Annotated[
        bool,
        typer.Option(
            "--allow-edited",
            help="Also run notebooks that differ from what mlprod generated (or are symlinks).",
        ),
    ] = False,
) -> int:
    """Execute the monitoring notebooks; keep executed copies and HTML; exit 1 on a breach or error."""
    from mlprod.schema import load_spec

    loaded = load_spec(spec)
    root = loaded.root
    day = _today(today)
    folder = PurePosixPath(loaded.spec.outputs.notebooks)
    paths = _notebooks(root / folder, notebook)
    sources = verify_notebooks(root, paths, allow_edited)
    _import_nb()
    out_dir = f"{folder}/reports/{day}"
    import asyncio

    outcomes = asyncio.run(run_all(sources, root, out_dir, day, timeout, jobs))
    _report(outcomes)
    typer.echo(f"reports: {out_dir}/")
    return ExitCode.CHECK_FAILED if any(o.failed for o in outcomes) else ExitCode.OK


def register(app: typer.Typer) -> None:
    app.command("monitor", short_help="Run the monitoring notebooks.")(monitor)
