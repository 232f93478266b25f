"""A tiny, strict Markdown subset for pack guidance: to safe HTML and to plain text.

No Markdown library is installed, and none is wanted: guidance is shown on
staff pages, printed for a victim and cut into SMS pieces, so every construct
it may use must have a safe HTML form *and* a plain-text form.  The subset is
paragraphs, bullet lists, checklist items and ``**bold**``.  The parser in
:mod:`advocacy.content.packs` refuses anything that looks like other Markdown;
here every character of the text itself is escaped with markupsafe, so a
``<script>`` in a pack is shown as text, never run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

BOLD = "**"


@dataclass(frozen=True)
class Paragraph:
    text: str
    line: int = 0

    @property
    def html(self) -> Markup:
        return Markup("<p>%s</p>") % inline_html(self.text)

    @property
    def plain(self) -> str:
        return inline_text(self.text)


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]
    line: int = 0

    @property
    def html(self) -> Markup:
        return Markup("<ul>%s</ul>") % Markup("").join(
            Markup("<li>%s</li>") % inline_html(item) for item in self.items
        )

    @property
    def plain(self) -> str:
        # "- " rather than a bullet sign: it is in the GSM-7 alphabet, so an
        # SMS piece stays in the cheaper encoding.
        return "\n".join(f"- {inline_text(item)}" for item in self.items)


Block = Paragraph | Bullets


def balanced(text: str) -> bool:
    """Whether every ``**`` that opens bold also closes it."""
    return text.count(BOLD) % 2 == 0


def inline_html(text: str) -> Markup:
    """``text`` escaped, with ``**bold**`` as ``<strong>``.

    An unbalanced marker (which the parser refuses) is shown as it is.
    """
    if not balanced(text):
        return escape(text)
    parts = text.split(BOLD)
    out = []
    for index, part in enumerate(parts):
        out.append(Markup("<strong>%s</strong>") % part if index % 2 else escape(part))
    return Markup("").join(out)


def inline_text(text: str) -> str:
    """``text`` without its bold markers, for print-as-text and SMS."""
    return text.replace(BOLD, "") if balanced(text) else text


def blocks_html(blocks: Iterable[Block]) -> Markup:
    return Markup("\n").join(block.html for block in blocks)


def blocks_text(blocks: Iterable[Block]) -> str:
    """Blocks as plain text: one blank line between blocks."""
    return "\n\n".join(block.plain for block in blocks)


def checklist_html(texts: Iterable[str]) -> Markup:
    """Checklist items as a list the print stylesheet draws boxes for.

    The box is left to CSS so that the PDF needs no symbol font.
    """
    return Markup('<ul class="checklist">%s</ul>') % Markup("").join(
        Markup("<li>%s</li>") % inline_html(text) for text in texts
    )


def checklist_text(texts: Iterable[str]) -> str:
    return "\n".join(f"[ ] {inline_text(text)}" for text in texts)
