"""Managed blocks (`# >>> mlprod` ... `# <<< mlprod`) spliced into files the user owns.

Pure text functions: `find_block`, `block_text`, `splice_block`, `remove_block`, and the
line-ending helpers `lf` and `uses_crlf`. No file is read or written here.
"""

from __future__ import annotations


def find_block(text: str, start: str, end: str) -> tuple[int, int] | None:
    """(begin, stop) character offsets of the managed block in `text`, or None.

    The block runs from the start marker line through the end marker line and its newline.
    ValueError when the markers are damaged (unpaired, repeated or out of order).
    """
    # Lines end at "\n" only, as git and editors see them (str.splitlines would also break at
    # \x0c, \x85 or \u2028 and find a marker in the middle of a line).
    lines = text.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    starts = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == start]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == end]
    if not starts and not ends:
        return None
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(f"its mlprod block markers are damaged ({start!r} ... {end!r})")
    begin = sum(len(line) for line in lines[: starts[0]])
    stop = sum(len(line) for line in lines[: ends[0] + 1])
    return begin, stop


def block_text(text: str, span: tuple[int, int]) -> str:
    """The block as written by mlprod (a missing final newline is not an edit)."""
    block = text[span[0] : span[1]]
    return block if block.endswith("\n") else block + "\n"


def lf(text: str) -> str:
    """`text` with `\\r\\n` line endings as `\\n` (how git stores a file checked out with CRLF)."""
    return text.replace("\r\n", "\n")


def uses_crlf(text: str) -> bool:
    """True when the first line of `text` ends with `\\r\\n` (a Windows or autocrlf checkout)."""
    first = text.find("\n")
    return first > 0 and text[first - 1] == "\r"


def splice_block(old: str | None, span: tuple[int, int] | None, block: str) -> str:
    """The file text with the block replaced, or appended when it has none.

    In a file with CRLF line endings the block is written with CRLF too, so the user's
    file keeps one line-ending style.
    """
    if old is None:
        return block
    eol = "\r\n" if uses_crlf(old) else "\n"
    if eol != "\n":
        block = block.replace("\n", eol)
    if span is None:
        if not old:
            return block
        sep = "" if old.endswith("\n") else eol
        return f"{old}{sep}{eol}{block}"
    return old[: span[0]] + block + old[span[1] :]


def remove_block(old: str, span: tuple[int, int]) -> str:
    """The file text without its managed block (and the blank line mlprod put before it)."""
    before, after = old[: span[0]], old[span[1] :]
    if not after:
        for eol in ("\r\n", "\n"):
            if before.endswith(eol * 2):
                before = before[: -len(eol)]
                break
    return before + after
