"""Render an interview's problem statement (Markdown) to HTML.

The output is injected into the page with ``dangerouslySetInnerHTML``, so it
must be safe on its own: raw HTML is escaped, link and image URLs pass an
explicit scheme allow-list, and fenced code keeps only a well-formed
language class.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

__all__ = ["MAX_MARKDOWN_CHARS", "render_markdown"]

MAX_MARKDOWN_CHARS = 20_000

_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_IMAGE_SCHEMES = frozenset({"http", "https"})
_WEB_SCHEMES = frozenset({"http", "https"})
_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.\-]*):")
_LANGUAGE_RE = re.compile(r"[A-Za-z0-9_+\-]{1,32}")
_LINK_REL = "nofollow noopener noreferrer"
# Enough rounds to undo any realistic stacking of entities and %-escapes.
_MAX_DECODE_ROUNDS = 5
_UNDECODABLE = "undecodable"  # not a real scheme, so never on an allow-list


def _url_scheme(url: str) -> str | None:
    """Return the scheme the URL could be read as, or None if it is relative.

    This deliberately over-decodes: browsers ignore tabs/newlines inside a
    scheme and strip leading control characters, and other consumers (or a
    future change to the renderer) may decode entities or %-escapes. Reading
    the URL in its most decoded form means no such trick can hide a scheme.
    """
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = html.unescape(unquote(url))
        if decoded == url:
            break
        url = decoded
    else:
        # Still changing: no honest URL is encoded this deeply, so refuse it.
        return _UNDECODABLE
    # Dropping every control, format (zero-width) and space character can
    # only reveal a scheme, never hide one, so it errs towards refusing.
    url = "".join(ch for ch in url if unicodedata.category(ch)[0] not in "CZ")
    match = _SCHEME_RE.match(url.lower())
    return match.group(1) if match else None


def _url_allowed(url: str, schemes: frozenset[str]) -> bool:
    scheme = _url_scheme(url)
    return scheme is None or scheme in schemes


def _plain_text(tokens: list[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.children:
            parts.append(_plain_text(token.children))
    return "".join(parts)


def _sanitize_inline(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    # One entry per open link, so a dropped opener also drops its own closer.
    kept_links: list[bool] = []
    for token in tokens:
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            keep = _url_allowed(href, _LINK_SCHEMES)
            kept_links.append(keep)
            if not keep:
                continue
            token.attrSet("rel", _LINK_REL)
            if _url_scheme(href) in _WEB_SCHEMES or href.startswith("//"):
                token.attrSet("target", "_blank")
        elif token.type == "link_close":
            if kept_links and not kept_links.pop():
                continue
        elif token.type == "image":
            src = str(token.attrGet("src") or "")
            if not _url_allowed(src, _IMAGE_SCHEMES):
                token = Token("text", "", 0, content=_plain_text(token.children or []))
        out.append(token)
    return out


def _sanitize(state: StateCore) -> None:
    for token in state.tokens:
        if token.type == "fence":
            words = token.info.split(maxsplit=1)
            lang = words[0] if words else ""
            # The renderer turns the first word into class="language-…";
            # anything unusual is dropped rather than escaped.
            token.info = lang if _LANGUAGE_RE.fullmatch(lang) else ""
        if token.children:
            token.children = _sanitize_inline(token.children)


class _SafeMarkdownIt(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        # URLs are vetted in _sanitize instead: refusing here would print the
        # raw ``[text](url)`` source, whereas we want just the link text.
        return True


_md = _SafeMarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
_md.core.ruler.push("rivendell_sanitize", _sanitize)


def render_markdown(source: str) -> str:
    """Render Markdown ``source`` to HTML that is safe to inject as-is.

    Raises ``ValueError`` if ``source`` is longer than ``MAX_MARKDOWN_CHARS``.
    """
    if len(source) > MAX_MARKDOWN_CHARS:
        raise ValueError(
            f"The problem statement is too long: {len(source):,} characters "
            f"(the limit is {MAX_MARKDOWN_CHARS:,})."
        )
    rendered: str = _md.render(source.replace("\x00", "\ufffd"))
    return rendered
