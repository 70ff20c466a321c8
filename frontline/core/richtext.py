"""Rich text in, safe HTML out: one sanitiser for every surface (pages, portal, email, PDF).

nh3 (Ammonia) keeps a small allowlist of formatting tags; scripts, event handlers,
styles, iframes, forms, ``javascript:`` links and everything else are dropped.
"""

from __future__ import annotations

import html as html_lib

import nh3

ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "h3", "h4", "hr", "i", "li",
    "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
MAX_LENGTH = 100_000


def sanitize(html: str | None) -> str:
    """Return HTML that is safe to render as-is (links get rel="noopener noreferrer nofollow")."""
    if not html:
        return ""
    return nh3.clean(
        html[:MAX_LENGTH],
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def to_text(html: str | None) -> str:
    """Plain text (for emails and search): no tags at all."""
    if not html:
        return ""
    return html_lib.unescape(nh3.clean(html[:MAX_LENGTH], tags=set())).strip()
