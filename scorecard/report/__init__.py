"""The one-page city report (HTML, PDF) and the index page linking the cities' reports.

Examples
--------
>>> from scorecard import report
>>> sorted(report.__all__)
['render_html', 'write_html', 'write_index', 'write_pdf']
"""

from __future__ import annotations

from scorecard.report.html import render_html, write_html, write_index, write_pdf

__all__ = ["render_html", "write_html", "write_pdf", "write_index"]
