"""An SVG badge of the score ("mlprod | 18/20", red "mlprod | 20/20 | 3 failing"), deterministic."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

#: (lowest total, colour), highest first: the same bands as the interpretation.
COLOURS: tuple[tuple[int, str], ...] = (
    (18, "#4c1"),  # bright green
    (14, "#97ca00"),  # green
    (10, "#dfb317"),  # yellow
    (5, "#fe7d37"),  # orange
    (0, "#e05d44"),  # red
)


def badge_colour(total: int, failing: int = 0) -> str:
    """The band's colour; red whenever a test fails."""
    if failing:
        return COLOURS[-1][1]
    return next(colour for low, colour in COLOURS if total >= low)


def _width(text: str) -> int:
    # Verdana 11px averages ~7 px per character; round to whole pixels for determinism.
    return 10 + 7 * len(text)


def render_badge(total: int, maximum: int, label: str = "mlprod", failing: int = 0) -> str:
    """The badge as SVG text; the same score always gives the same bytes."""
    value = f"{total}/{maximum}" + (f" | {failing} failing" if failing else "")
    left, right = _width(label), _width(value)
    width = left + right
    colour = badge_colour(total, failing)
    title = escape(f"{label}: {value}")
    lab, val = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img"'
        f" aria-label={quoteattr(f'{label}: {value}')}>\n"
        f"  <title>{title}</title>\n"
        f'  <linearGradient id="s" x2="0" y2="100%">'
        f'<stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/>'
        f"</linearGradient>\n"
        f'  <clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>\n'
        f'  <g clip-path="url(#r)">\n'
        f'    <rect width="{left}" height="20" fill="#555"/>\n'
        f'    <rect x="{left}" width="{right}" height="20" fill="{colour}"/>\n'
        f'    <rect width="{width}" height="20" fill="url(#s)"/>\n'
        f"  </g>\n"
        f'  <g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif"'
        f' font-size="11">\n'
        f'    <text x="{left / 2:g}" y="14">{lab}</text>\n'
        f'    <text x="{left + right / 2:g}" y="14">{val}</text>\n'
        f"  </g>\n"
        f"</svg>\n"
    )
