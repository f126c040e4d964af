/** The dashboard's stylesheet: plain CSS, no framework, light and dark by the OS setting. */
export const STYLES = `
:root { --bg: #f6f7f9; --panel: #fff; --text: #1d2330; --muted: #667085; --line: #e4e7ec; --accent: #06c755;
  --could_not_connect: #e5484d; --request_timeout: #f59e0b; --error_status_code: #7c5cff; --unclassified: #8b96a8;
  --ok: #12a150; --warn: #d97706; --bad: #dc2626; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
@media (prefers-color-scheme: dark) { :root { --bg: #0f1218; --panel: #171b24; --text: #e6e9ef; --muted: #98a2b3; --line: #2a3040; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font-size: 14px; line-height: 1.45; }
header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: var(--panel); border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; letter-spacing: .2px; }
header h1 span { color: var(--accent); }
header .spacer { flex: 1; }
#status { color: var(--muted); font-size: 12px; }
#status.error { color: var(--bad); }
main { max-width: 1280px; margin: 0 auto; padding: 20px 24px 48px; display: grid; gap: 20px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; }
section h2 { font-size: 15px; margin: 0 0 12px; display: flex; align-items: center; gap: 12px; }
section h2 .spacer { flex: 1; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 12px; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card.bad .value { color: var(--bad); }
.card.warn .value { color: var(--warn); }
.grid2 { display: grid; grid-template-columns: 2fr 1fr; gap: 20px; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 7px 8px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { color: var(--muted); font-weight: 500; font-size: 12px; }
td.num, th.num { text-align: right; }
td.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.empty { color: var(--muted); padding: 12px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 500; background: var(--line); }
.badge.delivered, .badge.active { background: #dcfce7; color: #166534; }
.badge.filtered { background: #e0e7ff; color: #3730a3; }
.badge.dead, .badge.open { background: #fee2e2; color: #991b1b; }
.badge.pending, .badge.delivering, .badge.paused, .badge.throttled { background: #fef3c7; color: #92400e; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
button, select, input { font: inherit; color: inherit; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 5px 10px; }
button { cursor: pointer; }
button:hover { border-color: var(--muted); }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { border-color: var(--bad); color: var(--bad); }
.filters { display: flex; gap: 8px; flex-wrap: wrap; font-weight: 400; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; color: var(--muted); font-size: 12px; margin-top: 8px; }
svg.chart { width: 100%; height: 220px; display: block; }
svg.chart text { fill: var(--muted); font-size: 10px; }
svg.chart line { stroke: var(--line); }
#login { max-width: 380px; margin: 80px auto; display: grid; gap: 12px; }
#login p { margin: 0; color: var(--muted); }
#login .error { color: var(--bad); min-height: 1.2em; }
#toast { position: fixed; bottom: 20px; right: 20px; background: var(--text); color: var(--bg); padding: 8px 14px; border-radius: 8px; opacity: 0; transition: opacity .2s; }
#toast.show { opacity: .95; }
.search { display: flex; gap: 8px; margin-bottom: 8px; }
.search input { flex: 1; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.pager { display: flex; align-items: center; gap: 8px; margin-top: 8px; }
.pager .spacer { flex: 1; }
.muted { color: var(--muted); font-size: 12px; }
#detail h3 { font-size: 13px; margin: 16px 0 6px; }
#detail pre { margin: 4px 0 0; padding: 8px 10px; background: var(--bg); border: 1px solid var(--line); border-radius: 6px;
  max-height: 320px; overflow: auto; white-space: pre-wrap; word-break: break-all; font-size: 12px; }
#detail tr.sub td { border-bottom: 1px solid var(--line); padding-top: 0; }
[hidden] { display: none !important; }
`;
