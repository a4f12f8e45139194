#!/usr/bin/env python3
"""The /admin console's static assets (issue 4), black-box against the real
binary: content types, no-cache, 404 JSON for unknown files, and every file
the page references is served. The page's behaviour is tested in a real
browser by tests/browser/.

Run: python3 tests/integration/test_admin_console.py --binary build/eventide
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server, assert_json_error  # noqa: E402

TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}


def check_asset(srv, path, media_type):
    st, headers, body = srv.http("GET", path)
    assert st == 200, (path, st, body)
    assert headers["content-type"].split(";")[0] == media_type, (path, headers)
    assert headers.get("cache-control") == "no-cache", (path, headers)
    assert isinstance(body, bytes) and body, (path, body)
    return body.decode("utf-8")


def test_page_at_admin_and_admin_slash(binary):
    with start_server(binary) as srv:
        page = check_asset(srv, "/admin", "text/html")
        assert page == check_asset(srv, "/admin/", "text/html")
        assert page == check_asset(srv, "/admin/index.html", "text/html")
        assert "<title>eventide console</title>" in page, page[:200]


def test_every_referenced_asset_is_served(binary):
    with start_server(binary) as srv:
        page = check_asset(srv, "/admin", "text/html")
        refs = set(re.findall(r'(?:href|src)="(/admin/[^"]+)"', page))
        assert len(refs) >= 3, refs
        for ref in refs:
            check_asset(srv, ref, TYPES[os.path.splitext(ref)[1]])


def test_page_needs_nothing_from_outside(binary):
    with start_server(binary) as srv:
        for path in ("/admin", "/admin/console.js", "/admin/console.css"):
            text = check_asset(srv, path, TYPES.get(
                os.path.splitext(path)[1], "text/html"))
            assert "http://" not in text and "https://" not in text, path


def test_unknown_assets_are_404_json(binary):
    with start_server(binary) as srv:
        for path in ("/admin/nope.js", "/admin/../v1/stats",
                     "/admin/console.js/x", "/adminx"):
            st, _, body = srv.http("GET", path)
            assert_json_error(st, body, 404, "not_found")
        st, headers, body = srv.http("POST", "/admin", b"x")
        assert_json_error(st, body, 405, "method_not_allowed")
        assert "GET" in headers.get("allow", ""), headers


if __name__ == "__main__":
    harness.run_tests(globals())
