"""Who may change things: reading is open; uploads, runs and cancels need the admin token.

When ``ADMIN_TOKEN`` is set, a change is allowed for a JSON API call carrying
``Authorization: Bearer <token>``, or for a dashboard session signed in on the
Retraining page (Flask's signed session cookie: HttpOnly, SameSite=Lax). The
session holds a fingerprint of the token, so changing the token signs every
session out. Without ``ADMIN_TOKEN`` everything is open and the Retraining page
says so. A refusal is 401 and nothing happens.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from flask import Flask, jsonify, request, session
from flask_smorest import abort

from dashapp.state import app_state

SESSION_KEY = "admin"
#: the OpenAPI security scheme of the token (declared in ``dashapp/api/edge.py``)
BEARER_SCHEME = "bearerAuth"
#: outputs of the Dash callbacks that change things but cannot look at the session
#: themselves: the background job that starts a run (the others check ``is_admin`` and
#: say "sign in" on the page)
GUARDED_OUTPUTS = ("retraining-submit-message.children",)
REFUSAL = (
    "Changing data or models needs the admin token: sign in on the Retraining page, "
    "or send 'Authorization: Bearer <ADMIN_TOKEN>' with the API call."
)


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def admin_token() -> str | None:
    return app_state().settings.admin_token


def is_admin() -> bool:
    """Whether the current request may change things."""
    token = admin_token()
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode()):
        return True
    return hmac.compare_digest(str(session.get(SESSION_KEY, "")), _fingerprint(token))


def admin_only(view):
    """A JSON API view that changes things: 401 before anything else when not allowed."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if not is_admin():
            abort(401, message=REFUSAL, headers={"WWW-Authenticate": 'Bearer realm="api"'})
        return view(*args, **kwargs)

    return guarded


def sign_in(given: str) -> bool:
    """Mark this session as admin when ``given`` is the token."""
    token = admin_token()
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        return False
    session[SESSION_KEY] = _fingerprint(token)
    session.permanent = False
    return True


def sign_out() -> None:
    session.pop(SESSION_KEY, None)


def init_auth(server: Flask) -> None:
    """Session cookie settings and the guard in front of Dash's changing callbacks."""
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")

    @server.before_request
    def guard_dash_callbacks():
        if request.path != "/_dash-update-component" or request.method != "POST":
            return None
        output = (request.get_json(silent=True) or {}).get("output", "")
        if any(guarded in output for guarded in GUARDED_OUTPUTS) and not is_admin():
            response = jsonify(error="Unauthorized", detail=REFUSAL)
            response.status_code = 401
            return response
        return None
