"""Files to text: one parser per media type, each returning the text and its blocks.

A block is a paragraph-like unit (a paragraph, a list item, a code block, a table cell, a JSON
line) with the heading path it sits under, so the structure chunker can keep sections together
and name them. Plain text and PDF pages are split into blocks at blank lines.

A file that cannot be parsed (not UTF-8, a broken PDF, a JSONL line without text) raises
:class:`ParseError` with the reason: the service turns it into a rejection, never a crash.

JSON lines: each non-blank line is an object whose ``text`` (a string) is one block; its
``title`` (or ``heading``), if a string, is the block's heading. Other keys are ignored.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

#: Media types with a parser; aliases map to them.
TEXT = "text/plain"
MARKDOWN = "text/markdown"
HTML = "text/html"
PDF = "application/pdf"
JSONL = "application/jsonl"
_ALIASES = {
    "text/x-markdown": MARKDOWN,
    "application/xhtml+xml": HTML,
    "application/x-ndjson": JSONL,
    "application/jsonlines": JSONL,
    "application/x-jsonlines": JSONL,
}

_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
#: HTML elements whose text is one block (the outermost one wins when they nest).
_HTML_BLOCKS = frozenset(
    {"p", "li", "pre", "blockquote", "dt", "dd", "td", "th", "figcaption", "caption", "summary"}
)
_HTML_DROP = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside")


class ParseError(ValueError):
    """The file cannot be turned into text; the message says why."""


@dataclass(frozen=True)
class Block:
    """One paragraph-like unit of a document."""

    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None

    @property
    def section(self) -> str:
        """The heading path, ``Guide > Install``; empty outside any heading."""
        return " > ".join(self.headings)


@dataclass(frozen=True)
class Parsed:
    """A parsed document: its full text and its blocks in order."""

    text: str
    blocks: list[Block] = field(default_factory=list)
    media_type: str = TEXT
    title: str | None = None


def canonical(media_type: str) -> str:
    """The media type without parameters, lower case, aliases resolved."""
    base = media_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def supported(media_type: str) -> bool:
    """Whether a parser exists for the media type."""
    return canonical(media_type) in _PARSERS


def parse(data: bytes | str, media_type: str) -> Parsed:
    """Parse a file's bytes (or an already decoded text) of the given media type.

    Raises:
        ParseError: unsupported media type, undecodable or malformed content.
    """
    kind = canonical(media_type)
    parser = _PARSERS.get(kind)
    if parser is None:
        accepted = ", ".join(sorted(_PARSERS))
        raise ParseError(f"media type {media_type!r} is not parsed (accepted: {accepted})")
    return parser(data)


def decode(data: bytes | str) -> str:
    """UTF-8 text (a BOM dropped, line ends normalised)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    if "\x00" in data:
        raise ParseError("binary content (NUL bytes) where text was expected")
    return data.replace("\r\n", "\n").replace("\r", "\n")


def paragraphs(text: str, page: int | None = None) -> list[Block]:
    """Blocks of plain text: one per run of lines between blank lines."""
    return [Block(p.strip(), page=page) for p in _BLANK_LINE.split(text) if p.strip()]


def from_blocks(blocks: list[Block], media_type: str, title: str | None = None) -> Parsed:
    """A document whose text is its headings and blocks, blank-line separated."""
    parts: list[str] = []
    last: tuple[str, ...] = ()
    for block in blocks:
        if block.headings != last and block.headings:
            parts.append(block.headings[-1])
        last = block.headings
        parts.append(block.text)
    return Parsed("\n\n".join(parts), blocks, media_type, title)


def parse_text(data: bytes | str) -> Parsed:
    """Plain text: paragraphs."""
    text = decode(data)
    return Parsed(text, paragraphs(text), TEXT)


def parse_markdown(data: bytes | str) -> Parsed:
    """Markdown (CommonMark + tables): headings give the path, top-level elements the blocks."""
    from markdown_it import MarkdownIt

    text = decode(data)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    buffer: list[str] = []
    heading_level: int | None = None
    for token in tokens:
        if token.type == "heading_open":
            heading_level = int(token.tag[1])
        elif token.type == "inline" and heading_level is not None:
            headings = [h for h in headings if h[0] < heading_level]
            headings.append((heading_level, _inline_text(token)))
        elif token.type == "heading_close":
            heading_level = None
        elif token.type == "inline":
            buffer.append(_inline_text(token))
        elif token.type in ("fence", "code_block", "html_block"):
            buffer.append(token.content.rstrip("\n"))
        if token.level == 0 and token.nesting <= 0 and token.type != "heading_close" and buffer:
            # A top-level element has closed (or was a leaf such as a fence): one block.
            joined = "\n".join(b for b in buffer if b.strip()).strip()
            if joined:
                blocks.append(Block(joined, tuple(h for _, h in headings)))
            buffer = []
    title = next((h for level, h in headings[:1] if level == 1), None)
    first = next((b.headings[0] for b in blocks if b.headings), None)
    return from_blocks(blocks, MARKDOWN, title or first)


def _inline_text(token: object) -> str:
    """The visible text of an inline token (links and emphasis dropped, breaks as spaces)."""
    children = getattr(token, "children", None) or []
    if not children:
        return str(getattr(token, "content", ""))
    out: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline", "html_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n" if child.type == "hardbreak" else " ")
        elif child.type == "image":
            out.append(child.content)
    return "".join(out).strip()


def parse_html(data: bytes | str) -> Parsed:
    """HTML: headings give the path; paragraphs, list items, cells and ``pre`` the blocks.

    Scripts, styles and page furniture (nav, header, footer, aside) are dropped. A page with
    none of those block elements falls back to its visible text in paragraphs.
    """
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(decode(data))
    tree.strip_tags(list(_HTML_DROP))
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node is not None else None
    root = tree.body or tree.root
    if root is None:
        raise ParseError("an HTML document without content")
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    selector = ",".join((*_HEADINGS, *sorted(_HTML_BLOCKS)))
    for node in root.css(selector):
        if node.tag in _HEADINGS:
            level = int(node.tag[1])
            text = _squash(node.text(separator=""))
            if text:
                headings = [h for h in headings if h[0] < level]
                headings.append((level, text))
            continue
        if _inside_block(node):
            continue
        # Inline elements (b, a, code) sit inside words' whitespace already: no separator.
        raw = node.text(separator="")
        text = raw.strip("\n") if node.tag == "pre" else _squash(raw)
        if text:
            blocks.append(Block(text, tuple(h for _, h in headings)))
    if not blocks:
        blocks = paragraphs(root.text(separator="\n"))
    return from_blocks(blocks, HTML, title or None)


def _inside_block(node: object) -> bool:
    parent = getattr(node, "parent", None)
    while parent is not None:
        if parent.tag in _HTML_BLOCKS:
            return True
        parent = parent.parent
    return False


def _squash(text: str) -> str:
    return " ".join(text.split())


def parse_pdf(data: bytes | str) -> Parsed:
    """PDF: the text of each page, in paragraphs that know their page (1-based)."""
    if isinstance(data, str):
        raise ParseError("a PDF must be submitted as a file, not as text")
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ParseError("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ParseError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ParseError(f"not a readable PDF: {type(exc).__name__}: {exc}") from None
    blocks: list[Block] = []
    for number, page in enumerate(pages, start=1):
        blocks += paragraphs(decode(page), page=number)
    return Parsed("\n\n".join(b.text for b in blocks), blocks, PDF)


def parse_jsonl(data: bytes | str) -> Parsed:
    """JSON lines: one block per line's ``text``, headed by its ``title`` or ``heading``."""
    blocks: list[Block] = []
    for number, line in enumerate(decode(data).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise ParseError(f"line {number}: not valid JSON: {exc}") from None
        if not isinstance(record, dict):
            raise ParseError(f"line {number}: not a JSON object")
        text = record.get("text")
        if not isinstance(text, str):
            raise ParseError(f"line {number}: no 'text' string")
        heading = record.get("title", record.get("heading"))
        headings = (heading.strip(),) if isinstance(heading, str) and heading.strip() else ()
        if text.strip():
            blocks.append(Block(text.strip(), headings))
    return from_blocks(blocks, JSONL)


_PARSERS: dict[str, Callable[[bytes | str], Parsed]] = {
    TEXT: parse_text,
    MARKDOWN: parse_markdown,
    HTML: parse_html,
    PDF: parse_pdf,
    JSONL: parse_jsonl,
}
