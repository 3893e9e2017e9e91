#!/usr/bin/env python3
"""Render the PR comment of the bundled scenarios to PNGs, as a reviewer sees it.

    python scripts/render_comment.py                 # every scenario, into docs/img/
    python scripts/render_comment.py incident --out /tmp/shots

For each scenario this writes NAME-comment.png (the whole comment, 880 px wide,
its impact graph opened) and NAME-graph.png (the mermaid block alone, drawn at
880 px the way GitHub fits it into the comment column). The Markdown is
planguard's own (`planguard review ... --format markdown`), turned into HTML
by cmarkgfm, GitHub's Markdown parser, with raw HTML let through as GitHub
does before its sanitizer; the mermaid blocks are drawn by the real mermaid
CLI in headless Chromium; the page is shot by Chromium with GitHub-like CSS.

Prerequisites (the script says which one is missing):
- cmarkgfm, in the Python that runs this script (`pip install cmarkgfm`; the
  test extras have it);
- Chromium: `apt-get install chromium` (Debian), or --chromium PATH, or the
  CHROMIUM environment variable;
- the mermaid CLI, installed without its own browser download, anywhere:
      mkdir -p /tmp/mmdc && cd /tmp/mmdc
      PUPPETEER_SKIP_DOWNLOAD=1 npm install @mermaid-js/mermaid-cli
  then --mmdc /tmp/mmdc/node_modules/.bin/mmdc (or MMDC=..., or mmdc on PATH).
  It is pointed at the same Chromium through a puppeteer config this script
  writes ({"executablePath": CHROMIUM, "args": ["--no-sandbox"]}).

The README's screenshots come from this script: re-run it after changing the
comment or the picture, look at the PNGs, and commit them.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTH = 880  # px: the conversation column of a pull request

# name -> the arguments of `planguard review` (paths from the repository root)
SCENARIOS = {
    "incident": ["fixtures/scenarios/incident-env-recreated.json"],
    "sg-swap": ["fixtures/scenarios/sg-swap-cascade.json"],
    "cfn-pair": [
        "--before",
        "fixtures/cloudformation/pairs/orders-before.yaml",
        "--after",
        "fixtures/cloudformation/pairs/orders-after.yaml",
    ],
}

# Close to github.com's light theme for a comment (Primer's markdown-body).
CSS = """
body { margin: 0; background: #ffffff; width: %(width)dpx; }
.comment { margin: 8px; border: 1px solid #d0d7de; border-radius: 6px; }
.header { background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 16px;
  font: 14px -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
  color: #59636e; border-radius: 6px 6px 0 0; }
.header b { color: #1f2328; }
.bot { border: 1px solid #d0d7de; border-radius: 2em; padding: 0 6px; font-size: 12px; }
.markdown-body { padding: 16px; color: #1f2328; line-height: 1.5; word-wrap: break-word;
  font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif,
  "Apple Color Emoji", "Noto Color Emoji"; }
.markdown-body h3 { font-size: 1.25em; font-weight: 600; margin: 0 0 16px; }
.markdown-body p, .markdown-body ul, .markdown-body table, .markdown-body pre,
.markdown-body details, .markdown-body blockquote { margin: 0 0 16px; }
.markdown-body ul { padding-left: 2em; }
.markdown-body code, .markdown-body pre {
  font: 85%% ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, monospace; }
.markdown-body code { background: rgba(175,184,193,0.2); border-radius: 6px;
  padding: .2em .4em; }
.markdown-body pre { background: #f6f8fa; border-radius: 6px; padding: 16px; overflow: auto; }
.markdown-body pre code { background: none; padding: 0; }
.markdown-body table { border-collapse: collapse; display: block; width: max-content;
  max-width: 100%%; overflow: auto; }
.markdown-body th, .markdown-body td { border: 1px solid #d0d7de; padding: 6px 13px; }
.markdown-body th { font-weight: 600; }
.markdown-body tr:nth-child(2n) { background: #f6f8fa; }
.markdown-body summary { cursor: pointer; }
.markdown-body blockquote { color: #59636e; border-left: .25em solid #d0d7de;
  padding: 0 1em; }
.markdown-body img { max-width: 100%%; }
.markdown-body sub { font-size: 75%%; }
"""


class Missing(Exception):
    """A prerequisite is not installed; the message says how to get it."""


def find_chromium(given: str | None) -> str:
    for candidate in (given, os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and shutil.which(candidate):
            return str(shutil.which(candidate))
    raise Missing("Chromium not found: apt-get install chromium (or --chromium PATH)")


def find_mmdc(given: str | None) -> str:
    for candidate in (given, os.environ.get("MMDC"), "mmdc"):
        if candidate and shutil.which(candidate):
            return str(shutil.which(candidate))
    raise Missing(
        "the mermaid CLI (mmdc) not found: PUPPETEER_SKIP_DOWNLOAD=1 npm install "
        "@mermaid-js/mermaid-cli in a scratch directory, then --mmdc DIR/node_modules/.bin/mmdc"
    )


def markdown_to_html(text: str) -> str:
    try:
        import cmarkgfm
        from cmarkgfm.cmark import Options
    except ImportError:
        raise Missing("cmarkgfm not installed: pip install cmarkgfm") from None
    # UNSAFE lets raw HTML through, as GitHub's renderer does before its sanitizer.
    return str(cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE))


def comment(args: list[str]) -> str:
    """planguard's Markdown comment for one scenario (blocked is the expected verdict)."""
    cmd = [sys.executable, "-m", "planguard", "review", *args, "--format", "markdown"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"render_comment: {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def draw_mermaid(mmdc: str, puppeteer: Path, source: str, svg: Path) -> None:
    """The mermaid CLI's SVG of one block (its own PNGs clip small pictures badly)."""
    mmd = svg.with_suffix(".mmd")
    mmd.write_text(source, encoding="utf-8")
    cmd = [mmdc, "-p", str(puppeteer), "-i", str(mmd), "-o", str(svg), "-b", "white", "-q"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not svg.is_file():
        raise SystemExit(f"render_comment: mmdc failed on {svg.name}: {done.stderr.strip()}")


def svg_img(svg: Path) -> str:
    """An <img> of the picture at its natural width, scaled down to fit the
    column (as GitHub shows a mermaid block), never up."""
    natural = re.search(r"max-width: ([\d.]+)px", svg.read_text(encoding="utf-8"))
    width = f"width:{float(natural.group(1)):.0f}px;" if natural else ""
    return f'<img src="{html.escape(svg.as_uri())}" style="{width}max-width:100%" alt="">'


def picture_page(svg: Path) -> str:
    """One picture alone at comment width."""
    return (
        '<!doctype html><html><head><meta charset="utf-8"></head>'
        f'<body style="margin:0;width:{WIDTH}px;background:#fff">'
        f'<div style="padding:8px">{svg_img(svg)}</div></body></html>'
    )


def page(body: str) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"><style>'
        + CSS % {"width": WIDTH}
        + '</style></head><body><div class="comment"><div class="header">'
        + '<b>github-actions</b> <span class="bot">bot</span> commented</div>'
        + f'<div class="markdown-body">{body}</div></div></body></html>'
    )


def chromium_run(chromium: str, *args: str) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    flags += ["--force-device-scale-factor=1", "--default-background-color=ffffffff"]
    return subprocess.run(
        [chromium, *flags, *args], capture_output=True, text=True, check=False, timeout=120
    )


def shoot(chromium: str, html_file: Path, png: Path) -> None:
    """The whole page as one PNG: measure its height first, then shoot at that size."""
    url = html_file.as_uri()
    probe = html_file.with_suffix(".probe.html")
    probe.write_text(
        html_file.read_text(encoding="utf-8").replace(
            "</body>",
            "<script>addEventListener('load', () => { document.title = 'H=' + "
            "Math.ceil(document.body.getBoundingClientRect().bottom); });</script></body>",
        ),
        encoding="utf-8",
    )
    done = chromium_run(
        chromium,
        f"--window-size={WIDTH},100",
        "--virtual-time-budget=5000",
        "--dump-dom",
        probe.as_uri(),
    )
    found = re.search(r"<title>H=(\d+)</title>", done.stdout)
    if not found:
        raise SystemExit(f"render_comment: Chromium could not lay out {html_file.name}")
    height = int(found.group(1))
    done = chromium_run(
        chromium,
        f"--window-size={WIDTH},{height}",
        "--virtual-time-budget=5000",
        f"--screenshot={png}",
        url,
    )
    if not png.is_file():
        raise SystemExit(f"render_comment: Chromium wrote no screenshot: {done.stderr.strip()}")


def render(name: str, args: list[str], out: Path, tools: tuple[str, str], work: Path) -> None:
    chromium, mmdc = tools
    text = comment(args)
    puppeteer = work / "puppeteer.json"
    puppeteer.write_text(json.dumps({"executablePath": chromium, "args": ["--no-sandbox"]}))
    blocks = re.findall(r"^```mermaid\n(.*?)^```$", text, re.S | re.M)
    svgs = []
    for n, source in enumerate(blocks):
        stem = f"{name}-graph" if n == 0 else f"{name}-graph-{n + 1}"
        svg = work / f"{stem}.svg"
        draw_mermaid(mmdc, puppeteer, source, svg)
        one = work / f"{stem}.html"
        one.write_text(picture_page(svg), encoding="utf-8")
        shoot(chromium, one, out / f"{stem}.png")
        svgs.append(svg)
    body = markdown_to_html(text)
    # GitHub draws each mermaid block in place of its code: so does the page.
    pres = re.findall(r'<pre lang="mermaid"><code>.*?</code></pre>', body, re.S)
    for pre, svg in zip(pres, svgs, strict=True):
        body = body.replace(pre, svg_img(svg), 1)
    # The picture is what is being looked at: its <details> opened.
    body = body.replace("<details><summary>Impact graph", "<details open><summary>Impact graph")
    html_file = work / f"{name}.html"
    html_file.write_text(page(body), encoding="utf-8")
    shoot(chromium, html_file, out / f"{name}-comment.png")
    shots = [f"{svg.stem}.png" for svg in svgs] + [f"{name}-comment.png"]
    print(f"{name}: {', '.join(shots)} in {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=", ".join(SCENARIOS))
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"))
    parser.add_argument("--chromium")
    parser.add_argument("--mmdc")
    opts = parser.parse_args(argv)
    unknown = [name for name in opts.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; one of {', '.join(SCENARIOS)}")
    try:
        tools = (find_chromium(opts.chromium), find_mmdc(opts.mmdc))
        markdown_to_html("")
    except Missing as exc:
        print(f"render_comment: missing prerequisite: {exc}", file=sys.stderr)
        return 2
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="planguard-render-") as tmp:
        for name in opts.scenarios or list(SCENARIOS):
            render(name, SCENARIOS[name], out, tools, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
