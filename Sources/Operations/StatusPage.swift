/// The status page at `/`: one static document (HTML, CSS, JavaScript, SVG charts) that reads
/// the JSON API of the same origin and fetches nothing else, so it works with no internet.
/// A `?token=` in its address is sent on as a bearer token with every API request.
enum StatusPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>cis status</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.ok { color: #116329; } .bad { color: #a40e26; } .muted { color: #6e6e73; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
.card { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: .6rem .8rem; }
svg { width: 100%; height: 170px; }
svg .axis { stroke: #bbb; stroke-width: 1; } svg text { font-size: 10px; fill: #6e6e73; }
svg .count { stroke: #0a66c2; fill: none; stroke-width: 1.5; } svg .count-point { fill: #0a66c2; }
svg .latency { stroke: #c25e0a; fill: none; stroke-width: 1.5; stroke-dasharray: 4 2; } svg .latency-point { fill: #c25e0a; }
.reason { max-width: 40rem; }
code { font-size: 12px; }
</style>
</head>
<body>
<h1>cis status</h1>
<div id="readiness" class="muted">Loading…</div>
<div class="grid">
  <div class="card"><h2>Routes, last hour</h2><table id="routes"><thead><tr><th>Route</th><th>Messages</th></tr></thead><tbody></tbody></table></div>
  <div class="card"><h2>Failure reasons, last hour</h2><table id="reasons"><thead><tr><th>Reason</th><th>Messages</th></tr></thead><tbody></tbody></table></div>
</div>
<div class="grid">
  <div class="card"><h2>Intake: messages per minute and latency (end of DATA to reply)</h2><svg id="intake-chart" role="img" aria-label="intake chart"></svg></div>
  <div class="card"><h2>Consumer: messages per minute and latency (receipt to published)</h2><svg id="consumer-chart" role="img" aria-label="consumer chart"></svg></div>
</div>
<h2>Last messages</h2>
<table id="messages"><thead><tr><th>Time</th><th>Client</th><th>Envelope sender</th><th>Size</th><th>TLS</th><th>Route</th><th>UID</th><th>Summary</th><th>Status</th><th>Failure reason</th><th>Message</th></tr></thead><tbody></tbody></table>
<h2>Dead-letter queue</h2>
<div id="dead-letter-note" class="muted"></div>
<table id="dead-letters"><thead><tr><th>Dead-lettered</th><th>Queue message</th><th>Receives</th><th>Reason</th><th>Message</th></tr></thead><tbody></tbody></table>
<h2>Older messages</h2>
<form id="lookup"><label>Message id <input id="lookup-id" size="34" pattern="[A-Za-z0-9_-]{1,64}" required></label> <button>Look up in the store</button></form>
<pre id="lookup-result" class="muted"></pre>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token");
const headers = token ? { "Authorization": "Bearer " + token } : {};
function withToken(path) { return token ? path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token) : path; }
async function getJSON(path) {
  const response = await fetch(path, { headers, cache: "no-store" });
  if (!response.ok) throw new Error(path + " answered " + response.status);
  return response.json();
}
function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}
function fill(tableId, rows, render) {
  const body = document.querySelector("#" + tableId + " tbody");
  body.replaceChildren();
  for (const item of rows) { const tr = document.createElement("tr"); render(tr, item); body.appendChild(tr); }
}
function size(bytes) {
  if (bytes == null) return "";
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1048576) return (bytes / 1024).toFixed(1) + " KiB";
  return (bytes / 1048576).toFixed(1) + " MiB";
}
function time(iso) { return iso ? new Date(iso).toLocaleTimeString() : ""; }
function downloadCell(tr, id, stored) {
  const td = cell(tr, "");
  if (!stored) return;
  const a = document.createElement("a");
  a.href = withToken("/api/messages/" + encodeURIComponent(id) + "/raw");
  a.textContent = "download";
  a.setAttribute("download", id + ".eml");
  td.appendChild(a);
}
const NS = "http://www.w3.org/2000/svg";
function svgElement(name, attributes) {
  const element = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  return element;
}
function chart(svgId, series, countKey, latencyKey) {
  const svg = document.getElementById(svgId);
  const width = 600, height = 170, left = 34, right = 40, top = 8, bottom = 20;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const counts = series.map(p => p[countKey]);
  const latencies = series.map(p => p[latencyKey]);
  const maxCount = Math.max(1, ...counts);
  const maxLatency = Math.max(1, ...latencies.filter(v => v != null));
  const x = i => left + (width - left - right) * i / Math.max(1, series.length - 1);
  const yCount = v => top + (height - top - bottom) * (1 - v / maxCount);
  const yLatency = v => top + (height - top - bottom) * (1 - v / maxLatency);
  svg.appendChild(svgElement("line", { class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }));
  svg.appendChild(svgElement("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }));
  const label = (text, attributes) => { const t = svgElement("text", attributes); t.textContent = text; svg.appendChild(t); };
  label(maxCount + "/min", { x: 2, y: top + 8 });
  label(maxLatency.toFixed(0) + " ms", { x: width - right + 2, y: top + 8 });
  label("−60 min", { x: left, y: height - 6 });
  label("now", { x: width - right - 16, y: height - 6 });
  svg.appendChild(svgElement("polyline", { class: "count", points: counts.map((v, i) => `${x(i)},${yCount(v)}`).join(" ") }));
  counts.forEach((v, i) => { if (v > 0) svg.appendChild(svgElement("circle", { class: "count-point", cx: x(i), cy: yCount(v), r: 3 })); });
  const latencyPoints = latencies.map((v, i) => v == null ? null : `${x(i)},${yLatency(v)}`).filter(p => p);
  if (latencyPoints.length) svg.appendChild(svgElement("polyline", { class: "latency", points: latencyPoints.join(" ") }));
  latencies.forEach((v, i) => { if (v != null) svg.appendChild(svgElement("circle", { class: "latency-point", cx: x(i), cy: yLatency(v), r: 2.5 })); });
}
async function refreshReadiness() {
  const element = document.getElementById("readiness");
  try {
    const report = await getJSON("/api/readiness");
    element.className = report.failing.length ? "bad" : "ok";
    element.textContent = report.failing.length
      ? "Not ready: " + report.checks.filter(c => !c.ok).map(c => c.name + " (" + c.detail + ")").join("; ")
      : "Ready: " + report.checks.map(c => c.name).join(", ") + " pass.";
  } catch (error) { element.className = "bad"; element.textContent = "Readiness unknown: " + error.message; }
}
async function refreshActivity() {
  const activity = await getJSON("/api/activity");
  const routes = Object.entries(activity.routeCounts).sort((a, b) => b[1] - a[1]);
  fill("routes", routes, (tr, [route, count]) => { cell(tr, route); cell(tr, count, "num"); });
  const reasons = Object.entries(activity.failureReasonCounts).sort((a, b) => b[1] - a[1]);
  fill("reasons", reasons, (tr, [reason, count]) => { cell(tr, reason, "reason"); cell(tr, count, "num"); });
  chart("intake-chart", activity.series, "intakeMessages", "intakeLatencyMilliseconds");
  chart("consumer-chart", activity.series, "consumerMessages", "consumerLatencyMilliseconds");
  fill("messages", activity.messages, (tr, m) => {
    tr.dataset.messageId = m.messageId;
    cell(tr, time(m.time)); cell(tr, m.client); cell(tr, m.sender); cell(tr, size(m.size), "num");
    cell(tr, m.tls == null ? "" : (m.tls ? "yes" : "no")); cell(tr, m.routes.join(", "), "route");
    cell(tr, m.uid); cell(tr, m.summary); cell(tr, m.status, "status"); cell(tr, m.failureReason, "reason");
    downloadCell(tr, m.messageId, m.stored);
  });
}
async function refreshDeadLetters() {
  const list = await getJSON("/api/dead-letters");
  document.getElementById("dead-letter-note").textContent = list.note || "";
  fill("dead-letters", list.deadLetters, (tr, d) => {
    cell(tr, d.deadLetteredAt ? new Date(d.deadLetteredAt).toLocaleString() : ""); cell(tr, d.queueMessageId);
    cell(tr, d.receiveCount, "num"); cell(tr, d.reason, "reason");
    downloadCell(tr, d.messageId, !!d.messageId);
  });
}
async function refresh() {
  await refreshReadiness();
  try { await refreshActivity(); await refreshDeadLetters(); }
  catch (error) { document.getElementById("readiness").textContent += " — " + error.message; }
}
document.getElementById("lookup").addEventListener("submit", async event => {
  event.preventDefault();
  const id = document.getElementById("lookup-id").value;
  const output = document.getElementById("lookup-result");
  try { output.textContent = JSON.stringify(await getJSON("/api/messages/" + encodeURIComponent(id)), null, 2); }
  catch (error) { output.textContent = error.message; }
});
refresh();
setInterval(refresh, 5000);
</script>
</body>
</html>
"""#
}
