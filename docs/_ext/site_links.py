"""Check the links of a built site: internal links and anchors must resolve.

Run as ``python docs/_ext/site_links.py BUILT_HTML_DIR [REPORT]``. It exits with 1 and
lists every internal link whose page or ``#anchor`` does not exist, and writes the
external links to REPORT (they are listed, not fetched: CI has no internet).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(str(values[key]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))


def check_site(root: Path) -> tuple[list[str], list[str]]:
    """Return the broken internal links and the external links of the HTML under root."""
    pages: dict[Path, _Page] = {}
    for path in root.rglob("*.html"):
        parser = _Page()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        pages[path.resolve()] = parser
    broken, external = [], defaultdict(set)
    for path, page in sorted(pages.items()):
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https"):
                external[href].add(str(path.relative_to(root.resolve())))
                continue
            if parts.scheme or href.startswith("//"):
                continue  # mailto:, javascript: and the like
            if not parts.path:
                target = path
            elif parts.path.startswith("/"):  # absolute, as on the 404 page: from the site root
                target = (root / unquote(parts.path).lstrip("/")).resolve()
            else:
                target = (path.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(root.resolve())}: {href}"
            if not target.exists():
                broken.append(f"{where} (no such file)")
                continue
            anchor = unquote(parts.fragment)
            if anchor and target.suffix == ".html" and anchor not in pages[target].ids:
                broken.append(f"{where} (no anchor #{anchor})")
    report = [
        f"{url}  (from {', '.join(sorted(found))})" for url, found in sorted(external.items())
    ]
    return broken, report


def main(argv: list[str]) -> int:
    """Check the site in ``argv[0]``; write external links to ``argv[1]`` if given."""
    root = Path(argv[0])
    broken, report = check_site(root)
    if len(argv) > 1:
        Path(argv[1]).write_text("\n".join(report) + "\n")
    print(f"{len(report)} external links listed (not fetched)")
    for line in broken:
        print(f"BROKEN {line}")
    print(f"{len(broken)} broken internal links")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
