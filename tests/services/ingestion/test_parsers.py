"""Parsers: each format's text and blocks, and a clear reason for what cannot be parsed."""

from __future__ import annotations

import pytest

from llmops_ingestion.parsers import Block, ParseError, canonical, parse, supported


def make_pdf(pages: list[str]) -> bytes:
    """A minimal, valid PDF with one line of Helvetica text per page (for pypdf to read)."""
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    font = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_media_types_are_canonical_and_aliases_resolve() -> None:
    assert canonical("Text/Markdown; charset=utf-8") == "text/markdown"
    assert canonical("application/x-ndjson") == "application/jsonl"
    assert supported("text/html")
    assert not supported("image/png")


def test_plain_text_is_split_into_paragraphs() -> None:
    parsed = parse(b"\xef\xbb\xbfFirst para\r\nstill first.\r\n\r\n  \n\nSecond.", "text/plain")
    assert parsed.text == "First para\nstill first.\n\n  \n\nSecond."
    assert parsed.blocks == [Block("First para\nstill first."), Block("Second.")]


def test_markdown_blocks_carry_their_heading_path() -> None:
    markdown = """# Guide

Intro with a [link](http://x) and *emphasis*.

## Install

- one
- two

```sh
pip install llmops
```

### Linux

Use apt.

## Use

| a | b |
|---|---|
| 1 | 2 |
"""
    parsed = parse(markdown, "text/markdown")
    assert [(b.section, b.text) for b in parsed.blocks] == [
        ("Guide", "Intro with a link and emphasis."),
        ("Guide > Install", "one\ntwo"),
        ("Guide > Install", "pip install llmops"),
        ("Guide > Install > Linux", "Use apt."),
        ("Guide > Use", "a\nb\n1\n2"),
    ]
    assert parsed.title == "Guide"
    assert parsed.text.startswith("Guide\n\nIntro with a link")
    assert "Linux\n\nUse apt." in parsed.text


def test_html_blocks_skip_scripts_and_furniture_and_keep_headings() -> None:
    html = """<html><head><title>Page</title><style>p{}</style></head><body>
    <nav><p>Menu</p></nav>
    <h1>Top</h1><p>Hello   <b>world</b>.</p>
    <script>var x = "<p>no</p>";</script>
    <h2>Sub</h2><ul><li><p>item one</p></li><li>item two</li></ul>
    <pre>code
  indented</pre>
    </body></html>"""
    parsed = parse(html, "text/html")
    assert [(b.section, b.text) for b in parsed.blocks] == [
        ("Top", "Hello world."),
        ("Top > Sub", "item one"),
        ("Top > Sub", "item two"),
        ("Top > Sub", "code\n  indented"),
    ]
    assert parsed.title == "Page"
    assert "Menu" not in parsed.text
    assert "var x" not in parsed.text


def test_html_without_block_elements_falls_back_to_its_text() -> None:
    parsed = parse("<div>Just some text<br>in a div</div>", "text/html")
    assert "Just some text" in parsed.text
    assert parsed.blocks


def test_pdf_pages_are_read_with_their_page_numbers() -> None:
    parsed = parse(
        make_pdf(["Llamas live in the Andes.", "Tides follow the moon."]), "application/pdf"
    )
    assert [(b.page, b.text) for b in parsed.blocks] == [
        (1, "Llamas live in the Andes."),
        (2, "Tides follow the moon."),
    ]


def test_jsonl_lines_are_blocks_headed_by_their_title() -> None:
    data = '{"text": "First record.", "title": "One"}\n\n{"text": "Second.", "id": 2}\n'
    parsed = parse(data.encode(), "application/jsonl")
    assert [(b.section, b.text) for b in parsed.blocks] == [
        ("One", "First record."),
        ("", "Second."),
    ]


@pytest.mark.parametrize(
    ("data", "media_type", "reason"),
    [
        (b"\xff\xfe\x00bad", "text/plain", "not UTF-8"),
        (b"a\x00b", "text/plain", "NUL"),
        (b"%PDF-1.7 truncated", "application/pdf", "not a readable PDF"),
        ("text", "application/pdf", "as a file"),
        (b'{"text": "ok"}\n[1, 2]\n', "application/jsonl", "line 2: not a JSON object"),
        (b'{"title": "no text"}\n', "application/jsonl", "line 1: no 'text' string"),
        (b"{oops\n", "application/jsonl", "line 1: not valid JSON"),
        (b"GIF89a", "image/gif", "'image/gif' is not parsed"),
    ],
)
def test_unparseable_input_raises_with_the_reason(
    data: bytes | str, media_type: str, reason: str
) -> None:
    with pytest.raises(ParseError, match=reason):
        parse(data, media_type)
