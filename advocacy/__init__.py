"""advocacy: the advocates' part of a coordinated community response.

:func:`create_app` only wires parts together; each part explains itself in
its own module (configuration in ``config.py``, guards and headers in
:mod:`advocacy.security`, language access in :mod:`advocacy.i18n`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, MultiFernet
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings, load_settings

if TYPE_CHECKING:
    from advocacy.clock import Clock

ROOT = Path(__file__).resolve().parent.parent

BLUEPRINTS = (
    "core",
    "auth",
    "intake",
    "shelters",
    "safety",
    "court",
    "notify",
    "handoff",
    "handoff.api",
    "content",
    "reports",
    "admin",
)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Flask:
    """The app for ``settings`` (read from the environment when None), on ``clock``
    (the system clock when None; tests and the demo pass a frozen one)."""
    from importlib import import_module

    import advocacy.models  # noqa: F401  (the whole schema, before any blueprint)
    from advocacy import cli, security, templating, uow
    from advocacy.clock import EXTENSION_KEY, SYSTEM
    from advocacy.extensions import babel, csrf, db, login_manager, migrate
    from advocacy.i18n import select_babel_locale
    from advocacy.logs import configure_logging

    settings = settings or load_settings()
    app = Flask(
        __name__,
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_mapping(settings.flask_config())
    app.extensions["advocacy.fernet"] = MultiFernet([Fernet(k) for k in settings.encryption_keys])
    app.extensions[EXTENSION_KEY] = clock or SYSTEM
    configure_logging(settings.log_level)
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops, x_host=settings.proxy_hops
        )

    from advocacy.converters import IdConverter

    app.url_map.converters["id"] = IdConverter  # before any blueprint's routes
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_babel_locale)
    login_manager.init_app(app)

    for name in BLUEPRINTS:
        app.register_blueprint(import_module(f"advocacy.{name}").bp)

    security.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    uow.install(app)
    # The safety-plan content packs are parsed and validated now, not at the first plan page:
    # a malformed pack file stops the start with a PackError naming its file, line and problem.
    from advocacy.content.library import shipped

    shipped()
    return app
