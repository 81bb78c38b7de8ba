"""Request and response shapes of the JSON API (marshmallow), a module per resource and
``common`` for what they share; the OpenAPI document is generated from them."""
