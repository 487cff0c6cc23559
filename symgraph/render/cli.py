"""symgraph render MODULE_OR_FILE:NAME -o out.svg: draw a graph defined in user code.

NAME is looked up in the module (pkg.mod) or Python file (path/to/file.py). It may be a
node, a list of nodes, a Graph, a compiled Function, a finished drawing, or a function
taking no arguments that returns one of those. The output's suffix chooses the format:
.svg .png .pdf .dot through Graphviz, or .html for the interactive explorer.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import os
import sys
from typing import Any, Optional, Sequence

from symgraph.errors import SymgraphError
from symgraph.graph import Graph, Node
from symgraph.render.build import RANKDIRS, STYLES
from symgraph.render.figure import Drawing
from symgraph.render.svg import GraphvizError, render
from symgraph.render.views import gradient_view, optimization_view
from symgraph.runtime.function import Function

DRAWABLE = (Node, Graph, Function, Drawing, list, tuple)


class CliError(Exception):
    """A mistake in the command line: reported as one line, exit status 2."""


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Declare the ``render`` subcommand on ``sub`` (an argparse sub-parser set)."""
    p = sub.add_parser("render", help="draw a graph from a module or file (SVG, PNG, PDF, "
                       "DOT or an HTML explorer)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", metavar="MODULE_OR_FILE:NAME")
    p.add_argument("-o", "--output", required=True,
                   help="file to write (.svg .png .pdf .dot .html)")
    p.add_argument("--style", choices=STYLES, default=None, help="drawing style (default ops)")
    p.add_argument("--rankdir", choices=RANKDIRS, default=None)
    p.add_argument("--view", choices=("graph", "gradient", "optimization"), default="graph",
                   help="the graph itself, it with its gradient nodes (a loss node), or a "
                   "compiled function before and after optimisation")
    p.add_argument("--budget", type=int, default=None, help="boxes before scopes collapse")
    p.add_argument("--size", default=None, help="largest size in inches, e.g. 8,6")
    p.add_argument("--dpi", type=float, default=None, help="resolution of PNG output")
    p.add_argument("--no-legend", action="store_true")
    return p


def _load_module(spec: str) -> Any:
    if spec.endswith(".py") or os.sep in spec or os.path.exists(spec):
        path = os.path.abspath(spec)
        if os.path.isdir(path):
            raise CliError(f"{spec!r} is a folder; name a Python file (path/model.py:NAME) "
                           "or a module (pkg.mod:NAME)")
        if not os.path.exists(path):
            raise CliError(f"no such file {spec!r}")
        name = "_symgraph_render_" + os.path.splitext(os.path.basename(path))[0]
        loader = importlib.util.spec_from_file_location(name, path)
        if loader is None or loader.loader is None:
            raise CliError(f"cannot load {spec!r} as Python source")
        module = importlib.util.module_from_spec(loader)
        # The file's own folder comes first, as when it is run as a script.
        sys.path.insert(0, os.path.dirname(path))
        try:
            loader.loader.exec_module(module)
        finally:
            sys.path.remove(os.path.dirname(path))
        return module
    try:
        return importlib.import_module(spec)
    except ImportError as exc:
        raise CliError(f"cannot import module {spec!r}: {exc}") from None


def _needs_arguments(fn: Any) -> list[str]:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.default is p.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def load_target(target: str) -> Any:
    """The object ``MODULE_OR_FILE:NAME`` names (called first when it is a builder)."""
    spec, sep, name = target.rpartition(":")
    if not sep or not spec or not name:
        raise CliError(f"expected MODULE_OR_FILE:NAME, got {target!r}")
    module = _load_module(spec)
    if not hasattr(module, name):
        raise CliError(f"{spec!r} has no name {name!r}")
    obj = getattr(module, name)
    # A builder is a plain function (or method); a callable object such as an nn model
    # is not a graph and is reported below.
    if inspect.isfunction(obj) or inspect.ismethod(obj):
        missing = _needs_arguments(obj)
        if missing:
            raise CliError(f"{name} needs arguments ({', '.join(missing)}); name a node, a "
                           "graph, a function or a builder that takes no arguments")
        obj = obj()
    if not isinstance(obj, DRAWABLE) or (isinstance(obj, (list, tuple)) and not (
            obj and all(isinstance(o, Node) for o in obj))):
        raise CliError(f"{target} is a {type(obj).__name__}, not a graph: name a node, a list "
                       "of nodes, a Graph, a compiled sg.function or a drawing (for a model, "
                       "a function that calls it on sg.var inputs)")
    return obj


def _view(obj: Any, args: argparse.Namespace, options: dict) -> Any:
    """The object to draw: ``obj`` itself or the view ``--view`` asks for."""
    if args.view == "optimization":
        if not isinstance(obj, Function):
            raise CliError("--view optimization needs a compiled sg.function, got "
                           f"{type(obj).__name__}")
        return optimization_view(obj, style=options.pop("style", "ops"), **options), {}
    if args.view == "gradient":
        if not isinstance(obj, Node):
            raise CliError(f"--view gradient needs a loss node, got {type(obj).__name__}")
        return gradient_view(obj, style=options.pop("style", "ops"), **options), {}
    return obj, options


def _say(exc: Exception) -> None:
    text = str(exc).removeprefix("render: ").replace("\n", " ")
    print(f"symgraph render: {text}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Carry out ``symgraph render``; returns the exit status (2: a mistake in the command,
    1: Graphviz failed)."""
    options: dict[str, Any] = {}
    for key in ("style", "rankdir", "budget"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if args.no_legend:
        options["legend"] = False
    try:
        obj, options = _view(load_target(args.target), args, options)
        path = render(obj, args.output, size=args.size, dpi=args.dpi, **options)
    except GraphvizError as exc:
        _say(exc)
        return 1
    except (CliError, SymgraphError, TypeError, ValueError, OSError) as exc:
        _say(exc)
        return 2
    print(path)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the subcommand on its own (``python -m symgraph.render.cli ...``)."""
    parser = argparse.ArgumentParser(prog="symgraph")
    add_parser(parser.add_subparsers(dest="command"))
    return run(parser.parse_args(["render", *(argv if argv is not None else sys.argv[1:])]))
