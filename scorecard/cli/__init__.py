"""The ``scorecard`` command line: commands in :mod:`scorecard.cli.main`, run configs in :mod:`scorecard.cli.config`.

Examples
--------
>>> from scorecard.cli import build_parser
>>> build_parser().parse_args(["demo", "--output", "out"]).output
'out'
"""

from __future__ import annotations

from scorecard.cli.main import build_parser, main, run_demo

__all__ = ["main", "build_parser", "run_demo"]
