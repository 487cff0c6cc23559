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


def page_attrs(size: Any = None, dpi: Any = None) -> str:
    """The DOT graph attributes for ``size`` (inches: one number, ``(width, height)`` or
    Graphviz's ``"8,6"``; the drawing is scaled down to fit) and ``dpi`` (resolution of
    PNG output and the scale of SVG/PDF); "" when neither is given."""
    attrs = []
    if size is not None:
        parts = size.split(",") if isinstance(size, str) else (
            [size, size] if isinstance(size, (int, float)) else list(size))
        try:
            inches = [float(p) for p in parts]
        except (TypeError, ValueError):
            inches = []
        if len(inches) != 2 or not all(0 < v < 1e4 for v in inches) or isinstance(size, bool):
            raise ValueError(f"render: size must be inches as a number, (width, height) or "
                             f"'width,height', all positive, got {size!r}")
        attrs.append(f'size="{inches[0]:g},{inches[1]:g}"')
    if dpi is not None:
        if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 1 <= dpi <= 2400:
            raise ValueError(f"render: dpi must be a number from 1 to 2400, got {dpi!r}")
        attrs.append(f'dpi="{dpi:g}"')
    return f"  graph [{', '.join(attrs)}];" if attrs else ""


def _check_folder(path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"render: the folder {os.path.dirname(str(path))!r} of "
                                f"{str(path)!r} does not exist; create it first")
    if os.path.isdir(path):
        raise IsADirectoryError(f"render: {str(path)!r} is a folder; give a file name "
                                f"ending in one of {', '.join(sorted(FORMATS))}")


def render(obj: Any, path: str, style: Optional[str] = None, timeout: float = 120.0,
           size: Any = None, dpi: Any = None, **options: Any) -> str:
    """Draw ``obj`` (anything ``sg.to_dot`` takes) to ``path``; the suffix (.svg, .png,
    .pdf, .dot, or .html for the interactive explorer) chooses the format. ``size``
    (inches) and ``dpi`` set the page; other options as for ``sg.to_dot``. Returns
    ``path``."""
    _check_folder(str(path))
    suffix = os.path.splitext(str(path))[1].lower()
    if suffix not in FORMATS and suffix not in (".html", ".htm"):
        raise ValueError(f"render: cannot tell the format of {str(path)!r}; use one of "
                         f"{', '.join(sorted(FORMATS) + ['.html'])}")
    if suffix in (".html", ".htm"):
        if size is not None or dpi is not None:
            raise ValueError("render: size and dpi apply to Graphviz drawings (.svg .png "
                             ".pdf .dot), not to the .html explorer, which pans and zooms")
        from symgraph.render.html import write_explorer
        return write_explorer(obj, str(path), style=style, **options)
    page = page_attrs(size, dpi)
    text = to_dot(obj, style, **options)
    if page:
        head, _, rest = text.partition("\n")
        text = f"{head}\n{page}\n{rest}"
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
