"""The printed plan as PDF, through WeasyPrint, with Debian's Noto fonts.

WeasyPrint lays text out with Pango and HarfBuzz, so Arabic is shaped and
set right to left and S'gaw Karen gets its Myanmar-script shaping; the fonts
are the system's (``fonts-noto-core``, installed by ``.ci/run`` and the
README's set-up), chosen per language in ``static/css/print.css``.  Nothing
is fetched: the stylesheet is read from disk and every URL is refused.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from advocacy import ROOT

STYLESHEET = ROOT / "static" / "css" / "print.css"


@cache
def available() -> bool:
    """Whether WeasyPrint and its libraries (Pango) load on this machine."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"the printed plan loads nothing: {url}")


def document(html: str, stylesheet: Path = STYLESHEET) -> Any:
    """The laid-out document (for tests that inspect the fonts it used)."""
    import weasyprint

    return weasyprint.HTML(string=html, url_fetcher=_no_fetch).render(
        stylesheets=[weasyprint.CSS(filename=str(stylesheet))]
    )


def render(html: str) -> bytes:
    return document(html).write_pdf()
