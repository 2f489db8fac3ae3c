"""Text that is safe to show on a terminal: the one neutraliser of stored and user text.

Identities, comments, reasons, schema metadata, file names and messages that
quote documents are stored exactly as given, and may hold terminal control
sequences: an ESC (``\\x1b``) or a C1 CSI (``\\x9b``) can clear a screen,
retitle a window or paint a fake message; a bidirectional override
(``\\u202e``) reorders what follows it; a newline starts a line that looks like
egif's own.  Every text rendering passes what it did not write itself through
:func:`escape` (one field: everything escaped, newlines too) and the whole
output through :func:`escape_block` (newlines the renderer put there kept);
JSON keeps the data exactly and only spells the same characters as ``\\uXXXX``
(:func:`escape_json`).  HTML pages escape for HTML instead (``html.escape``).

Shown escaped: C0 controls, DEL and C1 controls (``\\x00``-``\\x1f``,
``\\x7f``-``\\x9f``), the Unicode line and paragraph separators and the
bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
U+2066-U+2069).  A backslash is left as it is: text that spells an escape
looks like one, but cannot act as one.
"""

from __future__ import annotations

_FORMAT_CONTROLS = (0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F),
                    *range(0x2066, 0x206A))
_CONTROL_POINTS = (*range(0x00, 0x20), *range(0x7F, 0xA0), *_FORMAT_CONTROLS)


def _spell(cp: int) -> str:
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}"


_FIELD = {cp: _spell(cp) for cp in _CONTROL_POINTS}
_BLOCK = {cp: s for cp, s in _FIELD.items() if cp != 0x0A}
_JSON = {cp: f"\\u{cp:04x}" for cp in _CONTROL_POINTS if cp >= 0x7F}


def escape(value: object) -> str:
    """One field of text (a name, a comment, a message): every control character escaped,
    line breaks included, so it stays on the line the renderer put it on."""
    text = str(value)
    # every character escaped here is one str.isprintable() refuses: text it accepts (the
    # usual case) is returned without a table lookup per character
    return text if text.isprintable() else text.translate(_FIELD)


def escape_block(text: str) -> str:
    """A rendered block of lines: control characters escaped, its line breaks kept."""
    return text if text.replace("\n", "").isprintable() else text.translate(_BLOCK)


def escape_json(text: str) -> str:
    """JSON text with DEL, C1, line-separator and bidirectional characters written as
    ``\\uXXXX`` escapes: they can occur only inside strings, so a JSON reader gets exactly
    the same data (``json.dumps`` already escapes the C0 range)."""
    return text.translate(_JSON)


def is_clean_block(text: str) -> bool:
    """Whether *text* holds no character :func:`escape_block` would escape."""
    return not any(ord(ch) in _BLOCK for ch in text)


__all__ = ["escape", "escape_block", "escape_json", "is_clean_block"]
