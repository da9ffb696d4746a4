"""formcheck's local web app: upload a lift video, follow its analysis, watch it back with an overlay.

In:  HTTP requests (video uploads, page and API reads) from a browser on this machine.
Out: analyses stored in a per-user data folder (SQLite + files), JSON API, SSE progress streams and
     the static viewer pages. The server stores, schedules and presents; the analysis is the library's.
Entry points: `server.app.create_app(Settings)` and `server.cli.run_serve` (`formcheck serve`).
"""
