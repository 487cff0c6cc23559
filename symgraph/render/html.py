"""The interactive explorer as one self-contained HTML file: ``sg.render(target,
"graph.html")``, ``symgraph render ... -o graph.html`` and ``sg.explore(target)`` (Jupyter).

The page holds the graph's data (``explore.page_data``), its style and ``explorer.js`` (the
project's own code, shipped as package data); its Content-Security-Policy forbids any
network access, so it opens the same offline, from a mail attachment or a CI artefact.
"""
from __future__ import annotations

import functools
import importlib.resources
from typing import Any, Optional

from symgraph.render import escape
from symgraph.render.page import page_data

OPTIONS = ("names", "locations", "views", "title")

CSS = """
html, body { margin: 0; height: 100%; font: 13px Helvetica, Arial, sans-serif; color: #222; }
body { display: grid; grid-template-rows: auto 1fr; grid-template-columns: 1fr 330px; }
#bar { grid-column: 1 / 3; display: flex; gap: 8px; align-items: center; padding: 6px 10px;
       border-bottom: 1px solid #ccc; background: #fafafa; flex-wrap: wrap; }
#title { font-weight: bold; margin-right: 12px; }
#views button, #bar > button { border: 1px solid #999; background: #fff; padding: 3px 9px;
       border-radius: 4px; cursor: pointer; }
#views button.on { background: #333; color: #fff; }
#search { width: 220px; padding: 3px 6px; }
#found, #status { color: #666; }
#canvas { width: 100%; height: 100%; background: #fff; cursor: grab; display: block; }
#panel { border-left: 1px solid #ccc; padding: 10px 14px; overflow: auto; background: #fcfcfc; }
#panel h2 { font-size: 15px; margin: 0 0 8px; word-break: break-all; }
#panel dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 10px; margin: 0; }
#panel dt { color: #666; } #panel dd { margin: 0; word-break: break-all; }
.edge { fill: none; stroke: #777; stroke-width: 1; }
.edge.back { stroke-dasharray: 4 3; stroke: #b08800; }
.box { stroke: #444; stroke-width: 1; }
.box.parameter { stroke-width: 2; } .box.constant { stroke-dasharray: 3 2; }
.box.output { stroke-width: 2.5; } .box.group { stroke: #6a5a9a; stroke-width: 1.5; }
.item { cursor: pointer; } .item text { text-anchor: middle; pointer-events: none; }
.label { font-size: 11px; } .type { font-size: 9px; fill: #555; }
.item.selected .box { stroke: #d40000; stroke-width: 3; }
.frame { fill: #f4f2fa; fill-opacity: 0.45; stroke: #9a8fc0; stroke-dasharray: 5 3; }
.tab { font-size: 11px; fill: #5a4a8a; cursor: pointer; }
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style></head>
<body>
<div id="bar"><span id="title"></span><span id="views"></span>
<input id="search" type="search" placeholder="search name or op" aria-label="search">
<button id="go" type="button">find</button><span id="found"></span>
<button id="fit" type="button">fit</button><span id="status"></span></div>
<svg id="canvas" xmlns="http://www.w3.org/2000/svg"></svg>
<div id="panel"><p>Click a box: a scope opens, a node shows its facts here. Scroll to zoom,
drag to pan; the tab of an open scope closes it.</p></div>
<script type="application/json" id="sg-data">{data}</script>
<script>{script}</script>
</body></html>
"""


@functools.lru_cache(maxsize=1)
def _script() -> str:
    text = importlib.resources.files("symgraph.render").joinpath("explorer.js").read_text(
        encoding="utf-8")
    # The script sits inside <script>: it must not hold the closing tag.
    assert "</script" not in text.lower()
    return text


def explorer_html(obj: Any, **options: Any) -> str:
    """The explorer page for ``obj`` (a node, list of nodes, Graph or compiled function).
    Options: ``names`` ({node: label}), ``locations`` (the user's file:line, default
    True), ``views`` (some of "forward", "gradient", "optimized"), ``title``."""
    unknown = sorted(k for k in options if k not in OPTIONS)
    if unknown:
        raise TypeError(f"the HTML explorer takes the options {', '.join(OPTIONS)}; "
                        f"{', '.join(unknown)} apply to Graphviz drawings only")
    views = options.get("views")
    if views is not None:
        views = (views,) if isinstance(views, str) else tuple(views)
        bad = [v for v in views if v not in ("forward", "gradient", "optimized")]
        if bad:
            raise ValueError(f"explorer views are forward, gradient and optimized, got {bad}")
    data = page_data(obj, names=options.get("names"), locations=options.get("locations", True),
                     views=views, title=options.get("title") or "")
    return PAGE.format(title=escape.html_text(data["title"]), css=CSS,
                       data=escape.json_text(data), script=_script())


def write_explorer(obj: Any, path: str, style: Optional[str] = None, **options: Any) -> str:
    """Write the explorer page for ``obj`` to ``path``; returns ``path``."""
    if style is not None:
        raise ValueError("the HTML explorer has no drawing styles; leave style out (it shows "
                         "the forward, gradient and optimised graphs, scope by scope)")
    text = explorer_html(obj, **options)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


class Explorer:
    """The explorer for Jupyter: shows itself in an isolated frame; ``.save(path)``."""

    def __init__(self, html: str) -> None:
        self.html = html

    def save(self, path: str) -> str:
        """Write the page to ``path`` (an .html file); returns the path."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.html)
        return path

    def _repr_html_(self) -> str:
        return ('<iframe style="width:100%;height:640px;border:1px solid #ccc" '
                f'sandbox="allow-scripts" srcdoc="{escape.html_text(self.html)}"></iframe>')


def explore(obj: Any, **options: Any) -> Explorer:
    """An interactive explorer of ``obj`` for Jupyter (options as for ``explorer_html``):
    pan and zoom, scopes that open on click, search, and the forward, gradient and
    optimised views. ``sg.render(obj, "graph.html")`` writes the same page to a file."""
    return Explorer(explorer_html(obj, **options))
