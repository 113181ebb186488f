"""Headless Chromium, run offline: print a page to PDF, take a screenshot, dump the DOM after scripts ran.

Every call uses a fresh profile directory and flags that keep the browser off
the network (no background networking, no component updates, every host name
resolving to nothing), so a report that tried to load anything from outside
would show it as missing rather than fetch it.

Examples
--------
>>> FLAGS[:3]
('--headless', '--no-sandbox', '--disable-gpu')
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from scorecard.errors import ReportError

__all__ = ["FLAGS", "find_chromium", "run", "print_pdf", "screenshot", "dump_dom"]

#: Flags of every run (plus a fresh --user-data-dir).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable: ``$SCORECARD_CHROMIUM``, else the first on ``PATH``; None if none."""
    configured = os.environ.get("SCORECARD_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else shutil.which(configured)
    return next((found for found in map(shutil.which, _NAMES) if found), None)


def run(args: list[str], *, chromium: str | None = None, timeout: float = 120.0,
        net_log: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
    """Run headless Chromium with :data:`FLAGS`, a throwaway profile and ``args``.

    Parameters
    ----------
    args : list of str
        Extra flags and the URL/file to open.
    chromium : str, optional
        Executable; default :func:`find_chromium`.
    timeout : float
        Seconds before the run is stopped.
    net_log : path, optional
        Write Chromium's network log (JSON) here, to check what was requested.
    """
    exe = chromium or find_chromium()
    if exe is None:
        raise ReportError("No Chromium found for headless rendering. Install it (Debian: apt-get install chromium) "
                          "or set SCORECARD_CHROMIUM to its path.")
    with tempfile.TemporaryDirectory(prefix="scorecard-chromium-") as profile:
        extra = [f"--log-net-log={net_log}", "--net-log-capture-mode=Default"] if net_log else []
        command = [exe, *FLAGS, f"--user-data-dir={profile}", *extra, *args]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as err:
            raise ReportError(f"Chromium did not finish within {timeout:.0f} s: {' '.join(command)}") from err
    if done.returncode != 0:
        raise ReportError(f"Chromium failed (exit {done.returncode}) on {args[-1]}: {done.stderr.strip()[-600:]}")
    return done


def _url(html: str | os.PathLike) -> str:
    return Path(html).resolve().as_uri()


def print_pdf(html: str | os.PathLike, pdf: str | os.PathLike, **options) -> Path:
    """Print an HTML file to ``pdf`` (not atomic by itself; :func:`scorecard.report.write_pdf` is)."""
    run([f"--print-to-pdf={Path(pdf).resolve()}", "--no-pdf-header-footer", "--virtual-time-budget=5000",
         _url(html)], **options)
    if not Path(pdf).exists() or Path(pdf).stat().st_size == 0:
        raise ReportError(f"Chromium wrote no PDF for {html}.")
    return Path(pdf)


def screenshot(html: str | os.PathLike, png: str | os.PathLike, *, width: int = 1280, height: int = 2400,
               **options) -> Path:
    """Screenshot of the page's first ``width`` x ``height`` CSS pixels."""
    run([f"--screenshot={Path(png).resolve()}", f"--window-size={width},{height}", "--hide-scrollbars",
         "--virtual-time-budget=5000", _url(html)], **options)
    return Path(png)


def dump_dom(html: str | os.PathLike, **options) -> str:
    """The DOM after load (and scripts) as HTML text."""
    return run(["--dump-dom", "--virtual-time-budget=5000", _url(html)], **options).stdout
