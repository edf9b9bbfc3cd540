"""Open a `weir report` page in headless Chromium and say what it shows.

Usage: report_check.py REPORT.html SCREENSHOT.png

Opens the page from its file:// URL in Debian's Chromium (never a downloaded
browser) with a fresh profile, waits until the page says it has rendered
(`<body data-rendered="true">`), takes a full-page screenshot, and prints one
JSON object on standard output:

    {"rendered": true,
     "render_errors": [str, ...],        # <body data-render-errors>, split by line
     "console_errors": [str, ...],       # console.error messages and uncaught page errors
     "requests": [url, ...],             # every request that is not file: or data:
     "header": {"title": str, "lake": str, "range": str, "generated": str,
                "totals": {"<key>": str, ...}},
     "panels": {"<panel id>": {
         "title": str,
         "charts": int,                  # Chart.js charts drawn in the panel
         "chart_titles": [str, ...],     # one per chart
         "axes": [[x title, y title], ...],
         "series": [[dataset label, ...], ...],
         "figures": int,                 # chart figures in the panel (each should hold a chart)
         "marks": [int, ...],            # per chart: bars/points Chart.js laid out
                                         # with a value, inside the chart area
         "columns": [str, ...],          # the table's SQL column names, in order
         "table": [[cell text, ...], ...],  # the table's body, as shown
         "empty": str | null,            # the "no rows" message, when shown
         "query": str | null,            # the query file named in the caption
         "sql": str | null}}}            # the SQL in the <details> block

Exits 1 (after printing) when the page did not render or recorded an error.
"""

import json
import pathlib
import sys
import tempfile

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]

# Everything the page shows, read from the DOM and from Chart.js's own state.
READ_PAGE = """() => {
  const text = (node) => (node ? node.textContent.trim() : null);
  const marks = (chart) => {
    const area = chart.chartArea;
    const inside = (x, y) => Number.isFinite(x) && Number.isFinite(y)
      && x >= area.left - 0.5 && x <= area.right + 0.5
      && y >= area.top - 0.5 && y <= area.bottom + 0.5;
    let count = 0;
    chart.data.datasets.forEach((dataset, d) => {
      if (!chart.isDatasetVisible(d)) return;
      const meta = chart.getDatasetMeta(d);
      meta.data.forEach((element, i) => {
        const raw = dataset.data[i];
        const value = raw !== null && typeof raw === "object" ? raw[meta.vScale.axis] : raw;
        if (value === null || value === undefined || Number.isNaN(value)) return;
        if (element.skip) return;
        const { x, y } = element.getProps(["x", "y"], true);
        if (inside(x, y)) count += 1;
      });
    });
    return count;
  };
  const totals = {};
  for (const total of document.querySelectorAll("[data-total]")) {
    totals[total.dataset.total] = text(total.querySelector(".value"));
  }
  const panels = {};
  for (const section of document.querySelectorAll("section[data-panel]")) {
    const charts = Array.from(section.querySelectorAll("canvas"))
      .map((canvas) => Chart.getChart(canvas))
      .filter(Boolean);
    const figures = Array.from(section.querySelectorAll("figure"));
    panels[section.dataset.panel] = {
      title: text(section.querySelector("h3")),
      charts: charts.length,
      chart_titles: charts.map((chart) => text(chart.canvas.closest("figure").querySelector("h4"))),
      axes: charts.map((chart) => {
        const axis = (id) => {
          const scale = chart.scales[id];
          return scale && scale.options.title && scale.options.title.display
            ? String(scale.options.title.text) : null;
        };
        return [axis("x"), axis("y")];
      }),
      series: charts.map((chart) => chart.data.datasets.map((d) => d.label)),
      marks: charts.map(marks),
      figures: figures.length,
      columns: Array.from(section.querySelectorAll("table.data thead th")).map((th) => th.dataset.column),
      table: Array.from(section.querySelectorAll("table.data tbody tr")).map(
        (tr) => Array.from(tr.children).map((td) => td.textContent.trim())),
      empty: text(section.querySelector(".empty")),
      query: text(section.querySelector(".source code.query")),
      sql: text(section.querySelector("details.sql pre")),
    };
  }
  return {
    header: {
      title: text(document.querySelector("h1")),
      lake: text(document.getElementById("lake")),
      range: text(document.getElementById("range")),
      generated: text(document.getElementById("generated")),
      totals,
    },
    panels,
  };
}"""


def main(report: str, screenshot: str) -> int:
    url = pathlib.Path(report).resolve().as_uri()
    console_errors: list[str] = []
    requests: list[str] = []

    def note(url: str) -> bool:
        """Record a request that would leave the page's own file; true if it would."""
        outside = url.split(":", 1)[0] not in ("file", "data")
        if outside and url not in requests:
            requests.append(url)
        return outside
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1360, "height": 900},
        )
        try:
            # Nothing may leave the machine: a request for anything but the
            # page itself is recorded and refused.
            def refuse(route):
                if note(route.request.url):
                    route.abort()
                else:
                    route.continue_()

            context.route("**/*", refuse)
            page = context.new_page()
            page.on(
                "console",
                lambda message: message.type == "error" and console_errors.append(message.text),
            )
            page.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))
            page.on("request", lambda request: note(request.url))
            page.goto(url, wait_until="load")
            try:
                page.wait_for_selector(
                    "body[data-rendered], body[data-render-errors]", state="attached", timeout=20_000
                )
                # An error recorded before the end still lets the page finish.
                page.wait_for_selector("body[data-rendered]", state="attached", timeout=5_000)
            except Exception as error:  # noqa: BLE001 - reported below
                console_errors.append(f"report_check: the page never said it rendered: {error}")
            rendered = page.evaluate("document.body.dataset.rendered === 'true'")
            render_errors = page.evaluate("document.body.dataset.renderErrors || ''")
            shown = page.evaluate(READ_PAGE) if page.evaluate("typeof Chart") != "undefined" else {
                "header": {}, "panels": {}
            }
            page.screenshot(path=screenshot, full_page=True)
        finally:
            context.close()
    answer = {
        "rendered": rendered,
        "render_errors": [line for line in render_errors.split("\n") if line],
        "console_errors": console_errors,
        "requests": requests,
        **shown,
    }
    json.dump(answer, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0 if rendered and not answer["render_errors"] else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
