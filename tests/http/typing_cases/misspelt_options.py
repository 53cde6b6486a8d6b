"""Must FAIL ``mypy --strict``: every HTTP source and Client method types its options.

Not a test module (pytest does not collect it); ``test_http_typing.py`` runs mypy on it.
Each line below marked with an E comment must give exactly one mypy error on that line.
"""

from __future__ import annotations

from rxasync import http


async def misuse(client: http.Client, url: str) -> None:
    client.get_json(url, timout=3)  # E: unexpected keyword
    client.get(url, retry="yes")  # E: wrong type
    client.request("GET", url, max_body_size="big")  # E: wrong type
    client.stream(url, chunk_size=1.5)  # E: wrong type
    client.lines(url, encodng="latin-1")  # E: unexpected keyword
    client.ndjson(url, max_line_lenght=10)  # E: unexpected keyword
    client.sse(url, reconect=False)  # E: unexpected keyword
    client.websocket(url, heartbeet=5.0)  # E: unexpected keyword
    http.get_json(url, timout=3)  # E: unexpected keyword
    http.request("GET", url, max_redirect=3)  # E: unexpected keyword
    http.stream(url, chunksize=10)  # E: unexpected keyword
    http.get(url, params={"q": "x"}, timeout=2.5, max_body_size=1024, max_field_size=65536)  # fine
