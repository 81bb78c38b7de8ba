"""Content-Security-Policy for the dashboard's pages.

Set by the app rather than nginx because only the app knows the hashes of the
inline scripts Dash writes into each page (``Dash.csp_hashes``). Scripts run
only from this origin or with those hashes; nothing loads from anywhere else.
"""

from __future__ import annotations

from dash import Dash
from flask import Response


def content_security_policy(app: Dash) -> str:
    scripts = " ".join(app.csp_hashes())  # already quoted: 'sha256-...'
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {scripts}",
            # Plotly and Dash components set inline styles on elements
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def install_csp(app: Dash) -> None:
    """Add the policy to every HTML response (computed once, after all callbacks exist)."""
    policy: list[str] = []

    @app.server.after_request
    def add_policy(response: Response) -> Response:
        if response.mimetype == "text/html":
            if not policy:
                policy.append(content_security_policy(app))
            response.headers.setdefault("Content-Security-Policy", policy[0])
        return response
