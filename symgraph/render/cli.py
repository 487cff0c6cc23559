"""``symgraph render MODULE_OR_FILE:NAME -o out.svg``: draw a graph defined in user code.

``NAME`` is looked up in the module (``pkg.mod``) or Python file (``path/to/file.py``); it may
be a node, a list of nodes, a Graph, a compiled Function, a finished drawing, or a function
taking no arguments that returns one of those.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from typing import Any, Optional, Sequence

from symgraph.graph import Graph, Node
from symgraph.render.build import RANKDIRS, STYLES
from symgraph.render.figure import Drawing
from symgraph.render.svg import GraphvizError, render
from symgraph.render.views import optimization_view
from symgraph.runtime.function import Function


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Declare the ``render`` subcommand on ``sub`` (an argparse sub-parser set)."""
    p = sub.add_parser("render", help="draw a graph from a module or file to SVG/PNG/PDF/DOT",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", metavar="MODULE_OR_FILE:NAME")
    p.add_argument("-o", "--output", required=True, help="file to write (.svg .png .pdf .dot)")
    p.add_argument("--style", choices=STYLES, default="ops")
    p.add_argument("--rankdir", choices=RANKDIRS, default=None)
    p.add_argument("--view", choices=("graph", "optimization"), default="graph",
                   help="for a compiled function: its graph, or before/after optimisation")
    p.add_argument("--budget", type=int, default=400, help="boxes before scopes collapse")
    p.add_argument("--no-legend", action="store_true")
    return p


def _load_module(spec: str) -> Any:
    if spec.endswith(".py") or os.sep in spec or os.path.exists(spec):
        path = os.path.abspath(spec)
        if not os.path.exists(path):
            raise SystemExit(f"symgraph render: no such file {spec!r}")
        name = "_symgraph_render_" + os.path.splitext(os.path.basename(path))[0]
        loader = importlib.util.spec_from_file_location(name, path)
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
        raise SystemExit(f"symgraph render: cannot import module {spec!r}: {exc}") from None


def load_target(target: str) -> Any:
    """The object ``MODULE_OR_FILE:NAME`` names (called first when it is a builder)."""
    spec, sep, name = target.rpartition(":")
    if not sep or not spec or not name:
        raise SystemExit(f"symgraph render: expected MODULE_OR_FILE:NAME, got {target!r}")
    module = _load_module(spec)
    if not hasattr(module, name):
        raise SystemExit(f"symgraph render: {spec!r} has no name {name!r}")
    obj = getattr(module, name)
    drawable = (Node, Graph, Function, Drawing, list, tuple)
    if callable(obj) and not isinstance(obj, drawable):
        obj = obj()
    return obj


def run(args: argparse.Namespace) -> int:
    """Carry out ``symgraph render``; returns the exit status."""
    obj = load_target(args.target)
    options = {"budget": args.budget, "legend": not args.no_legend}
    if args.rankdir:
        options["rankdir"] = args.rankdir
    try:
        if args.view == "optimization":
            if not isinstance(obj, Function):
                raise SystemExit("symgraph render: --view optimization needs a compiled "
                                 f"sg.function, got {type(obj).__name__}")
            obj = optimization_view(obj, style=args.style if args.style in ("ops", "expr")
                                    else "ops", **options)
        if isinstance(obj, Drawing):
            path = render(obj, args.output)
        else:
            path = render(obj, args.output, style=args.style, **options)
    except (GraphvizError, TypeError, ValueError) as exc:
        print(f"symgraph render: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the subcommand on its own (``python -m symgraph.render.cli ...``)."""
    parser = argparse.ArgumentParser(prog="symgraph")
    add_parser(parser.add_subparsers(dest="command"))
    return run(parser.parse_args(["render", *(argv if argv is not None else sys.argv[1:])]))
