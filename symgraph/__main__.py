"""symgraph: a symbol-to-symbol graph compiler.

  symgraph demo [--out out]                      train XOR and draw its graphs
  symgraph render MODULE_OR_FILE:NAME -o out.svg draw a graph (svg png pdf dot html)

Run symgraph COMMAND --help for a command's options.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    from symgraph import __version__
    parser = argparse.ArgumentParser(prog="symgraph", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"symgraph {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="train XOR, print the truth table, write graph SVGs")
    demo.add_argument("--out", default="out", help="folder for the SVG files")
    from symgraph.render import cli as render_cli
    render_cli.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "render":
        return render_cli.run(args)
    if args.command == "demo":
        from symgraph.demo import run_demo
        return run_demo(args.out)
    # No command: say what there is to run, rather than start a job unasked.
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
