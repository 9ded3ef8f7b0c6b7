"""Show user data as text inside Streamlit's Markdown.

Streamlit renders Markdown (and some HTML) in ``st.markdown``, ``st.caption``,
``st.warning``/``st.info``/``st.error``/``st.success``, ``st.title``/``st.subheader``,
widget labels and ``help=``. File names, dataset names, column headers, segment
names, cell values and engine messages that quote them come from customers'
files: shown there raw, ``![x](http://host/px.png)`` makes the browser fetch a URL,
``[a](http://...)`` becomes a link and ``**x**`` changes the text.

``plain(text)`` backslash-escapes every Markdown special character (and ``<``/``>``,
so no HTML tag can form), and turns line breaks into spaces, so the text *reads
the same* but renders literally. Use it on every piece of user-derived text put
into a Markdown string::

    st.warning(f"Dataset {plain(name)} has no e-mail column.")

Text that is not Markdown needs no escaping: ``st.text``, ``st.code``, dataframe
cells, select-box *options* (shown as plain text), plotly titles and axes.
"""

from __future__ import annotations

import re

# Characters that act anywhere in a line: emphasis, code, links and images, HTML, strikethrough, LaTeX
# (``$``), tables, entities (``&amp;``), autolinks (``http://``, ``a@b.c``) and Streamlit's ``:red[...]``.
_INLINE = set("\\`*_{}[]()<>~$!|&:@")
# Characters that act only where a block starts (headings, lists, quotes): escaped at the start of the text.
_BLOCK_START = re.compile(r"^(\s*)([#+\-=]|\d+\.)")
_WWW = re.compile(r"(www)\.", re.IGNORECASE)


def plain(text: object) -> str:
    """Return ``text`` escaped so Streamlit's Markdown shows it literally.

    Every character Markdown (or Streamlit's flavour of it) acts on within a line gets a backslash
    before it: ``\\ ` * _ { } [ ] ( ) < > ~ $ ! | & : @`` (so no image, link, autolink, HTML tag,
    entity, emphasis, code, formula or colour can form). ``#``, ``+``, ``-``, ``=`` and ``1.``
    start a heading or a list only at the beginning of a line: they are escaped there. CR, LF and
    tab become single spaces, so the text is one line and cannot start a block of its own in the
    middle of a message. ``www.`` gets its dot escaped (no autolink). ``None`` becomes ``""``;
    other objects are shown through ``str()``. The escaped text renders exactly as the original.

    >>> print(plain("![px](http://h/p.png) <b>"))
    \\!\\[px\\]\\(http\\://h/p.png\\) \\<b\\>
    >>> print(plain("# 1. a-b"))
    \\# 1. a-b
    """
    if text is None:
        return ""
    s = str(text).replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace("\t", " ")
    s = "".join("\\" + ch if ch in _INLINE else ch for ch in s)
    s = _WWW.sub(r"\1\\.", s)
    match = _BLOCK_START.match(s)
    if match:
        marker = match.group(2)
        escaped = marker[:-1] + "\\." if marker.endswith(".") else "\\" + marker
        s = match.group(1) + escaped + s[match.end():]
    return s
