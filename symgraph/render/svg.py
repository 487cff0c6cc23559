"""Running the Graphviz ``dot`` program: ``render`` writes SVG, PNG, PDF or DOT files, and
``mimebundle`` gives Jupyter an SVG (or, without Graphviz, the DOT text and a hint)."""
from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from typing import Any, Optional

from symgraph.errors import SymgraphError
from symgraph.render.dot import to_dot

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
INSTALL_HINT = ("install Graphviz to draw graphs: `apt-get install graphviz` (Debian/Ubuntu), "
                "`brew install graphviz` (macOS) or `conda install -c conda-forge graphviz`; "
                "then check that `dot -V` runs")


class GraphvizError(SymgraphError, RuntimeError):
    """The Graphviz ``dot`` program is missing, failed or took too long."""


def find_dot() -> Optional[str]:
    """The path of the ``dot`` program on PATH, or None."""
    return shutil.which("dot")


def run_dot(dot_text: str, fmt: str, timeout: float = 120.0) -> bytes:
    """``dot_text`` laid out by Graphviz in format ``fmt`` (``"svg"``, ``"png"``, ``"pdf"``)."""
    program = find_dot()
    if program is None:
        raise GraphvizError(f"the Graphviz `dot` program was not found on PATH; {INSTALL_HINT}")
    try:
        done = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise GraphvizError(f"Graphviz `dot` took more than {timeout:g} s; draw fewer nodes "
                            "(a smaller budget=..., or collapse=[scopes])") from None
    message = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        if _complete(done.stdout, fmt):
            # Graphviz 2.43 reports layout trouble ("trouble in init_rank", an edge it could
            # not route) on some graphs with clusters, yet writes the whole drawing; a
            # drawing with a crooked edge beats none, so warn and keep it.
            first = next((ln for ln in message.splitlines() if ln.startswith("Error")), message)
            warnings.warn(f"Graphviz reported layout trouble but drew the graph: {first}",
                          RuntimeWarning, stacklevel=3)
            return done.stdout
        raise GraphvizError(f"Graphviz `dot -T{fmt}` failed: {message}")
    return done.stdout


def _complete(output: bytes, fmt: str) -> bool:
    """True when ``dot`` wrote a whole document despite a non-zero exit status."""
    if fmt == "svg":
        return output.rstrip().endswith(b"</svg>")
    if fmt == "pdf":
        return b"%%EOF" in output[-64:]
    return fmt == "png" and output.startswith(b"\x89PNG") and b"IEND" in output[-16:]


def render(obj: Any, path: str, style: str = "ops", timeout: float = 120.0,
           **options: Any) -> str:
    """Draw ``obj`` (anything ``sg.to_dot`` takes) to ``path``; the suffix (.svg, .png, .pdf,
    .dot) chooses the format. Returns ``path``."""
    suffix = os.path.splitext(str(path))[1].lower()
    if suffix not in FORMATS:
        raise ValueError(f"render: cannot tell the format of {str(path)!r}; use one of "
                         f"{', '.join(sorted(FORMATS))}")
    text = to_dot(obj, style=style, **options)
    if FORMATS[suffix] == "dot":
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return str(path)
    data = run_dot(text, FORMATS[suffix], timeout)
    with open(path, "wb") as fh:
        fh.write(data)
    return str(path)


def mimebundle(obj: Any, timeout: float = 20.0) -> dict:
    """What Jupyter shows for ``obj``: SVG when ``dot`` runs, else the DOT text under a
    one-line hint. Never raises: a drawing must not turn a cell's output into a traceback."""
    try:
        text = to_dot(obj)
    except Exception as exc:  # noqa: BLE001 - display must not fail
        return {"text/plain": f"{obj!r}\n(could not draw it: {exc})"}
    if find_dot() is not None:
        try:
            svg = run_dot(text, "svg", timeout).decode("utf-8")
            return {"image/svg+xml": svg, "text/plain": repr(obj)}
        except Exception as exc:  # noqa: BLE001
            hint = f"# Graphviz could not draw this ({exc}); the DOT source follows"
            return {"text/plain": f"{hint}\n{text}", "text/vnd.graphviz": text}
    hint = f"# no Graphviz `dot` on PATH, so here is the DOT source; {INSTALL_HINT}"
    return {"text/plain": f"{hint}\n{text}", "text/vnd.graphviz": text}
