"""``{% cache %}``: parts of the page frame rendered once per process, not once per page.

The frame of every page (``base.html``) draws the same menu, language list,
asset links and footer for everyone who reads it in one language: about a
millisecond of Jinja per page, more than the health check costs whole.  A
fragment in ``{% cache "name", key, ... %}...{% endcache %}`` is rendered the
first time its key is seen and reused after, in this app's Jinja environment
only (so two apps, as tests make them, never share one).

What may go in a fragment: interface text and URLs that the key determines
(the language, the menu entries a role sees, the current endpoint).  What
must not: anything of a person (a name, an agency, a case), a CSRF token, or
the request's own URL; those stay outside the ``{% cache %}`` block, and
``tests/test_fragments.py`` checks that the frame's fragments hold none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser
from markupsafe import Markup

#: Fragments per app at most: keys are languages x menus x endpoints, a few thousand
#: at the very most; past it a fragment is rendered each time (never wrong, only slower).
LIMIT = 4096


class FragmentCache(Extension):
    tags = {"cache"}

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.extend(fragment_cache={})

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        key = [parser.parse_expression()]
        while parser.stream.skip_if("comma"):
            key.append(parser.parse_expression())
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        call = self.call_method("_fragment", [nodes.Tuple(key, "load")])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _fragment(self, key: tuple[Hashable, ...], caller: Callable[[], str]) -> str:
        cache: dict[tuple[Hashable, ...], Markup] = self.environment.fragment_cache  # type: ignore[attr-defined]
        try:
            return cache[key]
        except KeyError:
            rendered = Markup(caller())  # noqa: S704 - the block's own (escaped) output
            if len(cache) < LIMIT:
                cache[key] = rendered
            return rendered
