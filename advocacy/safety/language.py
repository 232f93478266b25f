"""Rendering in the victim's language, whatever language the advocate's pages are in.

The printed plan and the texts are the victim's: their words come from the
catalog of the plan's language (Flask-Babel, through the registry's domain)
while the page around them stays in the advocate's.  :func:`in_language`
switches the language of this request for a block and switches it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from flask_babel import refresh

from advocacy.i18n import SOURCE_LANGUAGE, is_supported


@contextmanager
def in_language(tag: str) -> Iterator[None]:
    """Translate in ``tag`` (a registry language) inside the block.

    Outside a request (the SMS worker, a CLI command) the language is chosen
    per request too, so a bare request context is opened for the block.
    """
    if not is_supported(tag):
        raise ValueError(f"not a registry language: {tag!r}")
    if not has_request_context():
        with current_app.test_request_context("/"), in_language(tag):
            yield
        return
    had = "language" in g
    before = g.get("language")
    g.language = tag
    refresh()
    try:
        yield
    finally:
        if had:
            g.language = before
        else:
            g.pop("language", None)
        refresh()


def translated(message: str, tag: str) -> bool:
    """Whether ``message`` has a translation in ``tag``'s catalog (English always has)."""
    if tag == SOURCE_LANGUAGE:
        return True
    with in_language(tag):
        return _(message) != message
