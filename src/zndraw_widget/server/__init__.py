"""The two ways to serve rooms: a Jupyter server extension and a standalone server."""
