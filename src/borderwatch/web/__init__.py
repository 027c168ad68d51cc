"""The web stage: a read-only JSON API over the store and the map page served beside it.

    from borderwatch.web import create_app
    app = create_app("sqlite:///out/sample.sqlite")      # then run it with uvicorn
"""

from borderwatch.web.app import create_app

__all__ = ["create_app"]
