"""``python -m symgraph`` / ``symgraph``: the command line (``demo``, ``render``)."""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="symgraph", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="train XOR, print the truth table, write graph SVGs")
    demo.add_argument("--out", default="out", help="folder for the SVG files")
    from symgraph.render import cli as render_cli
    render_cli.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "render":
        return render_cli.run(args)
    if args.command in (None, "demo"):
        from symgraph.demo import run_demo
        return run_demo(getattr(args, "out", "out"))
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
