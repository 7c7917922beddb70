"""The model card as one standalone HTML page (`mlprod evaluate --html`), chart included.

The Markdown card is converted with markdown-it-py (CommonMark + tables) with raw HTML
disabled, so any markup that survived escaping is shown as text, and markdown-it's link
validation drops `javascript:`/`data:` links. The per-cohort bar chart is drawn with
matplotlib (Agg) and embedded as a base64 PNG data URI; its labels are drawn as text, never
parsed as markup. No network access: fonts and styles are inline.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from typing import Any

from ._card_numbers import METRIC_NAMES
from ._cardfmt import get, items

#: In every page's <head>: `mlprod evaluate --html` replaces only a file that carries it.
GENERATOR = "mlprod model card"

STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1f2328;
       max-width: 1100px; margin: 2em auto; padding: 0 1.5em; line-height: 1.5; font-size: 15px; }
h1 { border-bottom: 2px solid #d0d7de; padding-bottom: .3em; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; margin-top: 1.8em; }
h3 { margin-top: 1.4em; }
table { border-collapse: collapse; margin: .6em 0 1em; font-size: 13.5px; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; vertical-align: top; }
th { background: #f6f8fa; }
tr:nth-child(even) td { background: #fbfcfd; }
code { background: #f0f2f4; padding: 1px 4px; border-radius: 4px; font-size: 90%; }
blockquote, .status { border-left: 4px solid #0969da; background: #f0f6ff; margin: 1em 0; padding: .5em 1em; }
em { color: #57606a; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #d0d7de; }
figcaption { color: #57606a; font-size: 13px; }
.glance { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 0 1em .5em; }
.glance h2 { border: 0; margin-top: .6em; }
"""


def _split_front_matter(text: str) -> tuple[str, str]:
    """(front matter YAML, body) of a Markdown file with optional `---` front matter."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 3)
        if end != -1:
            return text[4 : end + 1], text[end + 5 :]
    return "", text


def markdown_to_html(body: str) -> str:
    """CommonMark + GFM tables, raw HTML disabled (shown as text)."""
    from markdown_it import MarkdownIt

    body = re.sub(r"^<!-- .* -->\n", "", body, flags=re.MULTILINE)  # the generated-file header
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    return md.render(body)


def cohort_chart(ev: dict[str, Any] | None) -> str | None:
    """A horizontal bar chart of the per-cohort metrics as a PNG data URI (None without cohorts)."""
    groups: list[tuple[str, dict[str, Any], bool]] = []
    for c in items(ev, "cohorts"):
        for g in items(c, "groups"):
            label = _label(f"{get(c, 'name')}: {get(g, 'label')} (n={get(g, 'n')})")
            groups.append((label, get(g, "metrics") or {}, get(g, "judged") is True))
    if not groups:
        return None
    metrics = list(dict.fromkeys(k for _, m, _ in groups for k in m if isinstance(k, str)))[:4]
    if not metrics:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    overall = get(ev, "overall", "metrics") or {}
    height = 0.9 + 0.32 * len(groups)
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(3.4 * len(metrics), height), sharey=True, squeeze=False
    )
    labels = [g[0] for g in groups][::-1]
    for ax, metric in zip(axes[0], metrics, strict=True):
        values = [_finite(m.get(metric)) for _, m, _ in groups][::-1]
        colors = ["#0969da" if judged else "#b7c0ca" for _, _, judged in groups][::-1]
        ax.barh(range(len(groups)), [v if v is not None else 0.0 for v in values], color=colors)
        for y, v in enumerate(values):
            ax.text(
                0.01 if v is None else v, y, " n/a" if v is None else f" {v:.2f}", va="center", fontsize=7
            )
        ref = _finite(overall.get(metric)) if isinstance(overall, dict) else None
        if ref is not None:
            ax.axvline(ref, color="#cf222e", linestyle="--", linewidth=1)
        ax.set_title(_label(METRIC_NAMES.get(metric, metric)), fontsize=10)
        ax.set_xlim(0, max([1.0, *[v for v in values if v is not None]]) * 1.12)
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(range(len(groups)), labels, fontsize=8)
    fig.suptitle("Per-cohort metrics (grey: too few rows to judge; red dashes: overall)", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def confusion_chart(ev: dict[str, Any] | None) -> str | None:
    """The confusion matrix of a multiclass card as two heatmaps (counts; shares of each true
    class) in one PNG data URI; None without one."""
    labels = get(ev, "classes", "classes")
    counts = get(ev, "classes", "confusion", "counts")
    shares = get(ev, "classes", "confusion", "normalized")
    if not isinstance(labels, list) or not labels or not isinstance(counts, list):
        return None
    n = len(labels)
    grids = []
    for rows in (counts, shares):
        if (
            not isinstance(rows, list)
            or len(rows) != n
            or any(not isinstance(r, list) or len(r) != n for r in rows)
        ):
            return None
        grids.append([[_finite(v) for v in r] for r in rows])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = 2.2 + 0.45 * n
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 1.0, size), squeeze=False)
    names = [_label(x)[:18] for x in labels]
    for ax, grid, title, fmt in zip(
        axes[0], grids, ("Counts", "Share of each true class"), ("{:.0f}", "{:.2f}"), strict=True
    ):
        values = [[v if v is not None else 0.0 for v in r] for r in grid]
        top = max([max(r) for r in values] + [1e-12])
        ax.imshow(values, cmap="Blues", vmin=0.0, vmax=top)
        for i, r in enumerate(grid):
            for j, v in enumerate(r):
                text = "n/a" if v is None else fmt.format(v)
                dark = v is not None and v > top * 0.6
                ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
        ax.set_xticks(
            range(n), names, rotation=30 if n > 3 else 0, ha="right" if n > 3 else "center", fontsize=8
        )
        ax.set_yticks(range(n), names, fontsize=8)
        ax.set_xlabel("predicted class", fontsize=9)
        ax.set_ylabel("true class", fontsize=9)
        ax.set_title(title, fontsize=10)
    fig.suptitle("Confusion matrix", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _label(value: Any) -> str:
    """Chart text: control characters dropped, `$` escaped (matplotlib would parse it as math)."""
    text = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", str(value))
    return text.replace("\\", "\\\\").replace("$", r"\$")


def at_a_glance(ev: dict[str, Any] | None) -> str:
    """Headline numbers as escaped HTML (empty without an evaluation)."""
    if not isinstance(ev, dict):
        return ""
    e = html.escape
    parts = []
    metrics = get(ev, "overall", "metrics") or {}
    if isinstance(metrics, dict):
        for key, name in (("roc_auc", "ROC AUC"), ("accuracy", "accuracy"), ("rmse", "RMSE"), ("r2", "R²")):
            v = _finite(metrics.get(key))
            if v is not None:
                parts.append(f"{name} <b>{v:.3f}</b>")
    dataset = get(ev, "overall", "dataset")
    line = " · ".join(parts) + (f" on data set {e(str(dataset))}" if parts and dataset else "")
    summary = get(ev, "summary")
    if isinstance(summary, dict):
        counts = [summary.get(k) for k in ("checks", "failed", "not_judged")]
        if all(isinstance(c, int) for c in counts):
            line += f"; {counts[0]} checks measured, <b>{counts[1]} failed</b>, {counts[2]} not judged"
    model = get(ev, "model", "sha256")
    line += f"; model sha256 <code>{e(str(model)[:12])}</code>, measured {e(str(get(ev, 'date')))}."
    return f"<p>{line}</p>\n"


def _finite(v: Any) -> float | None:
    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def card_html(card_text: str, ev: dict[str, Any] | None) -> str:
    """The whole page: the card's body as HTML, the chart after the per-cohort table."""
    _, body = _split_front_matter(card_text)
    content = markdown_to_html(body)
    chart = cohort_chart(ev)
    glance = at_a_glance(ev)
    if chart is not None:
        glance += (
            f'<figure><img alt="Per-cohort metrics chart" src="{html.escape(chart, quote=True)}">'
            "<figcaption>Per-cohort metrics from .mlprod/evaluation.json; the tables are below."
            "</figcaption></figure>\n"
        )
    matrix = confusion_chart(ev)
    if matrix is not None:
        glance += (
            f'<figure><img alt="Confusion matrix" src="{html.escape(matrix, quote=True)}">'
            "<figcaption>Confusion matrix from .mlprod/evaluation.json (true class in rows); the "
            "tables are below.</figcaption></figure>\n"
        )
    if glance:
        # after the title and the status paragraph: the first thing a reader sees
        h1 = content.find("</h1>")
        para = content.find("</p>", h1) if h1 != -1 else -1
        cut = para + len("</p>") if para != -1 else 0
        content = (
            content[:cut]
            + '\n<section class="glance">\n<h2>At a glance</h2>\n'
            + glance
            + "</section>\n"
            + content[cut:]
        )
    title = re.search(r"<h1>(.*?)</h1>", content)
    head_title = re.sub(r"<[^>]+>", "", title.group(1)) if title else "Model card"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="{GENERATOR}">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">\n"
        f"<title>{head_title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{content}</body>\n</html>\n"
    )
