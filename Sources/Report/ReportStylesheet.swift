// ReportStylesheet — the report's inline CSS: system fonts only (no downloads), tables with tabular
// figures, charts that scale with the window, generations that wrap. Written without `<` or `&` so
// that it is plain text to an XML parser too.
enum ReportStylesheet {
    static let css = """

        :root { color-scheme: light; --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --soft: #f8fafc; --accent: #0072B2; }
        * { box-sizing: border-box; }
        body { margin: 0; background: #ffffff; color: var(--ink);
               font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
        main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 48px; }
        header { border-bottom: 2px solid var(--ink); padding-bottom: 12px; margin-bottom: 8px; }
        h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
        h2 { font-size: 19px; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
        h3 { font-size: 14px; margin: 0 0 8px; }
        section { margin-top: 32px; }
        .meta, .hint, figcaption { color: var(--muted); }
        .hint { margin: -4px 0 12px; }
        .notice { background: #fff7ed; border-left: 4px solid #ea580c; padding: 6px 10px; margin: 8px 0; }
        .missing { color: var(--muted); font-style: italic; margin: 4px 0; }
        .missing-list { color: var(--muted); margin: 8px 0 0; padding-left: 20px; }
        details.shared-metrics { margin-top: 12px; }
        details.shared-metrics summary { cursor: pointer; color: var(--muted); margin-bottom: 8px; }
        .mono, pre { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
        table { border-collapse: collapse; width: auto; max-width: 100%; }
        th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: baseline; }
        th { font-weight: 600; background: var(--soft); white-space: nowrap; }
        tbody tr:nth-child(even) td { background: #fcfcfd; }
        td.value { white-space: pre-wrap; overflow-wrap: break-word; max-width: 380px; }
        .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        td.best { font-weight: 700; color: #065f46; background: #ecfdf5 !important; }
        td.base, th.base { color: var(--muted); }
        .delta { display: block; font-size: 11px; font-weight: 400; color: var(--muted); }
        .goal { text-align: center; color: var(--muted); }
        .run-id { color: var(--muted); font-weight: 400; }
        .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
        .status-failed, .status-cancelled { color: #b91c1c; }
        .status-running { color: #b45309; }
        figure { margin: 0 0 24px; }
        .chart-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 8px 28px; }
        .goal-text { color: var(--muted); font-weight: 400; }
        svg.chart { display: block; width: 100%; max-width: 1100px; height: auto; font-family: inherit; }
        .chart-grid svg.chart { max-width: 540px; }
        svg.chart text { font-size: 12px; fill: #374151; }
        svg.chart .axis-title { font-size: 12px; fill: var(--muted); }
        svg.chart .grid line { stroke: #eef0f3; stroke-width: 1; }
        svg.chart .axis line { stroke: #9ca3af; stroke-width: 1; }
        svg.chart .reference-label { fill: #4b5563; font-style: italic; }
        svg.chart .point-label { font-weight: 600; fill: #111827; }
        svg.chart .bar-value { font-size: 11px; }
        svg.chart .bar-value.best { font-weight: 700; fill: #065f46; }
        svg.chart .bar-value.missing { fill: var(--muted); font-style: italic; }
        table.saturation { margin-top: 4px; }
        ol.findings { margin: 0; padding-left: 22px; }
        ol.findings li { margin: 0 0 10px; font-size: 15px; }
        ol.findings .question { font-weight: 600; }
        ol.findings .basis { display: block; font-size: 12px; color: var(--muted); }
        ul.provenance { color: var(--muted); margin: 10px 0 0; padding-left: 20px; }
        .ablation { margin-bottom: 18px; }
        tr.base-row td { color: var(--muted); font-style: italic; }
        .winner { margin: 6px 0 0; font-weight: 600; color: #065f46; }
        .smoothing-control { margin: 0 0 12px; display: flex; align-items: center; gap: 10px; }
        .smoothing-control[hidden] { display: none; }
        .smoothing-control input { width: 240px; }
        .smoothing-control output { font-variant-numeric: tabular-nums; min-width: 3em; }
        .generation { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; margin-bottom: 16px; }
        pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
        pre.prompt { background: var(--soft); border-left: 3px solid var(--accent); padding: 6px 10px; margin-bottom: 10px; }
        .generation-grid { display: grid; gap: 10px; }
        .output { border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px; }
        .base-output { background: #f9fafb; }
        .output-head { font-size: 12px; font-weight: 600; color: var(--muted); margin-bottom: 4px; }
        footer { margin-top: 40px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }

        """
}
