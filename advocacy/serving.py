"""gunicorn's settings for this app: ``gunicorn --config python:advocacy.serving``.

Only what a worker of this app needs beyond gunicorn's defaults; the
workers, the bind address and the rest stay on the command line.

After a worker has loaded the app, everything it holds for its life
(modules, the app, its compiled templates, SQLAlchemy's statement cache,
catalogs) is moved out of the cyclic garbage collector's generations
(:func:`gc.freeze`).  Otherwise every oldest-generation collection walks
those 170,000 objects again: about 130 ms once every hundred requests or so,
1 to 1.5 ms of CPU per request on average, paid by whichever request was
unlucky (``bench/served.py`` figures in the README).  Reference counting
still frees what a request leaves; the collector still collects the
request's own cycles; what is frozen would have lived as long as the
process anyway.  Not in ``create_app``: tests and commands make apps by
the thousand, and frozen apps would never be freed.
"""

from __future__ import annotations

import gc
from typing import Any


def post_worker_init(worker: Any) -> None:
    gc.freeze()
