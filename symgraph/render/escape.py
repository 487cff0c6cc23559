"""The one place where user text (node names, labels, tooltips, captions) is made safe for
DOT, SVG and HTML.

Graphviz copies label text into SVG as it is, so a control character makes the SVG
ill-formed XML (Jupyter shows a broken image), a NUL ends DOT's string early (a syntax
error) and a lone surrogate cannot be encoded at all. ``clean`` replaces those characters
with visible stand-ins; ``shorten`` keeps labels under Graphviz's limit; ``dot_string``
and ``html_text`` / ``json_text`` quote clean text for each target.
"""
from __future__ import annotations

import json
import re

# Graphviz's scanner keeps at most 16,384 characters of one string; labels stop well
# before that so the drawing stays readable (the full text stays in the explorer).
MAX_LABEL = 2000

# C0 controls except tab and newline, DEL and the C1 controls: not allowed in XML 1.0
# (or only as character references that Graphviz does not write).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _picture(match: re.Match) -> str:
    code = ord(match.group())
    # U+2400.. are the Unicode "control pictures" (␀ ␛ ...); C1 controls get a code.
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else f"<U+{code:04X}>"


def clean(text: str) -> str:
    """``text`` with control characters shown as control pictures (``"\\x1b"`` -> ``␛``),
    carriage returns as line breaks and lone surrogates as U+FFFD."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(text):
        text = _CONTROL.sub(_picture, text)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text


def is_clean(text: str) -> bool:
    """True when ``clean`` would leave ``text`` as it is."""
    return not (_CONTROL.search(text) or _SURROGATE.search(text) or "\r" in text)


def shorten(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` cut to ``limit`` characters with a note of how many were left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"… (+{len(text) - limit} characters)"


def dot_string(text: str) -> str:
    """A DOT string literal of clean text; newlines become DOT's centred line breaks."""
    text = clean(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


def html_text(text: str) -> str:
    """Clean text escaped for HTML element content and attribute values."""
    return (clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def json_text(data: object) -> str:
    """``data`` as JSON safe inside an HTML ``<script>`` element: strings cleaned by the
    caller, and ``<``, ``>``, ``&`` and the line separators written as escapes so no
    text can close the element."""
    out = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
