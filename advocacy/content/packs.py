"""Culturally adapted safety-plan content packs: files, validation and look-ups.

A pack is guidance for the plan's sections (:mod:`advocacy.content.sections`)
written for one situation (general, Native, immigrant, Deaf, LGBTQ+, elders,
rural) in one locale.  Each pack and locale is one Markdown file,
``packs/<pack>.<locale>.md``, loaded and validated once at start: a file is
accepted whole or the start stops with :class:`PackError` naming the file,
the line and the problem, so a translator can fix it without guessing.

Format (exact)::

    ---
    pack: general
    locale: es
    version: 1
    review: draft
    sources: what the guidance draws on, in words
    ---

    ## during_incident

    A paragraph: one or more lines, joined; **bold** is the only markup.

    - a bullet item
      an indented line continues the item above

    ## items_to_take

    - [ ] id_papers: Your ID card, passport or driver's licence

    ## important_numbers

    - number: National Domestic Violence Hotline | call 1-800-799-7233 | 24 hours | English, Spanish

Header: one ``key: value`` per line between two ``---`` lines, keys
``pack``, ``locale``, ``version`` (a whole number), ``review``, ``sources``
(all required) and ``reviewer`` and ``reviewed_on`` (``YYYY-MM-DD``), which
``review: reviewed`` requires and the other statuses forbid.  English is
``source`` (written by the project) or ``reviewed``; a translation is
``draft`` until a person reviews it, then ``reviewed``.

Body: ``## <section key>`` headings, each section once, holding paragraphs
and ``-`` bullets.  Checklist items (``- [ ] <key>: <text>``) belong to
``items_to_take`` only, and numbers (``- number: <name> | <how> | <hours> |
<languages>``) to ``important_numbers`` only.  ``<how>`` is ``call <number>``,
``tty <number>``, ``relay <number>`` or ``text <KEYWORD> <short code>``; the
name of a ``text`` number must contain its keyword, so a translation cannot
lose the word to send.  Only the national numbers of :data:`SHIPPED_NUMBERS`
may appear anywhere in a pack (agencies configure their local numbers
elsewhere), and nothing that looks like a street address.

A translation covers sections, items and numbers of its English pack only
(keys and ``how`` are the same in every locale).  Bold opens and closes on
one line.  Where it lacks one, the
English one is given instead, marked as a fallback.  A translation whose
``version`` is lower than its English pack's is **outdated**: it is still
loaded and given, flagged, because refusing it would stop the app whenever
the English text is improved, and lying about it (bumping the version) is
worse.  A translation whose version is *higher* than its English pack's is
refused: it cannot translate text that does not exist.

The code is split along its seams: :mod:`.packfiles` (the format and the
parser), :mod:`.library` (what the loaded packs answer) and :mod:`.suggest`
(which packs fit a case).  The names below are the public face.
"""

from __future__ import annotations

from advocacy.content.library import (
    ChecklistItem,
    Coverage,
    GuidanceBlock,
    ImportantNumber,
    PackLibrary,
    load_packs,
    shipped,
)
from advocacy.content.packfiles import (
    MAX_FILE_BYTES,
    SHIPPED_DIR,
    SHIPPED_E164,
    SHIPPED_NUMBERS,
    SOURCE_LOCALE,
    Channel,
    Item,
    Number,
    Pack,
    PackError,
    PackFile,
    Review,
    SectionContent,
    looks_like_address,
    parse_pack,
)
from advocacy.content.suggest import (
    IMMIGRANT_LANGUAGES,
    Reason,
    Suggestion,
    suggest_for_case,
    suggest_packs,
)

__all__ = [
    "IMMIGRANT_LANGUAGES",
    "MAX_FILE_BYTES",
    "SHIPPED_DIR",
    "SHIPPED_E164",
    "SHIPPED_NUMBERS",
    "SOURCE_LOCALE",
    "Channel",
    "ChecklistItem",
    "Coverage",
    "GuidanceBlock",
    "ImportantNumber",
    "Item",
    "Number",
    "Pack",
    "PackError",
    "PackFile",
    "PackLibrary",
    "Reason",
    "Review",
    "SectionContent",
    "Suggestion",
    "load_packs",
    "looks_like_address",
    "parse_pack",
    "shipped",
    "suggest_for_case",
    "suggest_packs",
]
