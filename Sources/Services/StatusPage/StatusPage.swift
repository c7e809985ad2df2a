import EnvironmentAPI
import Foundation
import Monitoring

/// `mlgw-deploy ui STACK`: one page of the environment, served by the host's control listener
/// (loopback, apart from the serving listeners): the resources and how they connect, every
/// process's health, each variant's traffic (requests per second, errors, latency), rollouts,
/// the bus's recent events, feature groups' sizes and each monitor's latest drift per feature
/// with its histograms. The page polls `/_ui/state` once a second; it needs no network (no CDN:
/// the page is this string) and shows the environment's clock, moved or not.
enum StatusPage {
    struct State: Encodable {
        var stack: String
        var environment: String
        var snapshot: EnvironmentSnapshot
        /// The bus's latest events, newest last, as JSON text.
        var events: [String]
        /// Each monitor's latest run's drift results.
        var drift: [String: [DriftResult]]
    }

    static func state(directory: String, snapshot: EnvironmentSnapshot, events: [String]) -> Data {
        let parts = directory.split(separator: "/")
        var drift: [String: [DriftResult]] = [:]
        for m in snapshot.monitors {
            guard let folder = m.lastRun?.folder, let data = FileManager.default.contents(atPath: folder + "/drift.json"),
                  let results = try? JSONDecoder().decode([DriftResult].self, from: data) else { continue }
            drift[m.configuration.name] = results
        }
        let state = State(stack: parts.dropLast().last.map(String.init) ?? "", environment: parts.last.map(String.init) ?? "",
                          snapshot: snapshot, events: events, drift: drift)
        return (try? JSONEncoder().encode(state)) ?? Data("{}".utf8)
    }

    static let html = #"""
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>mlgw-deploy</title>
    <style>
    body{font:13px system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
    header{background:#263238;color:#fff;padding:10px 18px}header b{font-size:15px}
    main{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:12px;padding:12px}
    section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:10px 12px}
    h2{font-size:14px;margin:0 0 8px}table{border-collapse:collapse;width:100%}td,th{padding:3px 6px;border-bottom:1px solid #eee;text-align:left}
    .ok{color:#1b5e20}.bad{color:#b00020;font-weight:600}.muted{color:#777}code{font-size:12px}
    </style></head><body>
    <header><b>mlgw-deploy</b> <span id="title"></span> <span id="clock" class="muted"></span> <span id="updated" class="muted"></span></header>
    <main>
    <section><h2>Resources</h2><svg id="graph" width="100%" height="10" preserveAspectRatio="xMinYMin meet"></svg></section>
    <section><h2>Traffic per variant</h2><table id="variants"><thead><tr><th>endpoint / variant</th><th>weight</th><th>req/s</th><th>requests</th><th>errors</th><th>p50 ms</th><th>p99 ms</th><th>rollout</th></tr></thead><tbody></tbody></table></section>
    <section><h2>Processes</h2><table id="processes"><thead><tr><th>process</th><th>pid</th><th>state</th><th>restarts</th></tr></thead><tbody></tbody></table></section>
    <section><h2>Monitors</h2><div id="monitors" class="muted">none</div></section>
    <section><h2>Feature groups</h2><table id="features"><thead><tr><th>group</th><th>online records</th><th>offline rows</th></tr></thead><tbody></tbody></table></section>
    <section><h2>Scaling activities</h2><div id="scaling" class="muted">No scaling policies in this environment.</div></section>
    <section><h2>Recent events</h2><table id="events"><thead><tr><th>time</th><th>source</th><th>detail-type</th></tr></thead><tbody></tbody></table></section>
    </main>
    <script>
    "use strict";
    const esc = s => String(s).replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"}[c]));
    const fmt = x => x == null ? "-" : (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));
    const iso = t => t == null ? "-" : new Date(t * 1000).toISOString().replace(".000", "");
    let previous = null;
    function rows(id, list) { document.querySelector("#" + id + " tbody").innerHTML = list.join(""); }
    function graph(s) {
      const cols = {models: [], endpoints: [], functions: [], stages: [], rules: [], monitors: []};
      s.models.forEach(m => cols.models.push(m.name));
      s.endpoints.forEach(e => cols.endpoints.push(e.name));
      s.functions.forEach(f => cols.functions.push(f.name));
      s.stages.forEach(st => cols.stages.push(st.name));
      s.eventRules.forEach(r => cols.rules.push(r.configuration.name));
      s.monitors.forEach(m => cols.monitors.push(m.configuration.name));
      const order = ["stages", "rules", "monitors", "functions", "endpoints", "models"], pos = {};
      const w = 150, h = 22;
      let height = 20, svg = "";
      order.forEach((c, i) => {
        svg += `<text x="${i * w + 4}" y="12" font-size="11" fill="#777">${c}</text>`;
        cols[c].forEach((n, j) => { pos[c + ":" + n] = [i * w + 4, 30 + j * h]; height = Math.max(height, 40 + j * h); });
      });
      const edges = [];
      s.endpoints.forEach(e => e.variants.forEach(v => edges.push(["endpoints:" + e.name, "models:" + v.model])));
      s.stages.forEach(st => (st.routes || []).forEach(r => { const t = r.integration || {};
        if (t.endpoint) edges.push(["stages:" + st.name, "endpoints:" + t.endpoint.name]);
        if (t.function) edges.push(["stages:" + st.name, "functions:" + t.function.name]); }));
      s.eventRules.forEach(r => r.configuration.targets.forEach(t => {
        if (t.kind === "function") edges.push(["rules:" + r.configuration.name, "functions:" + t.target]);
        if (t.kind === "endpoint") edges.push(["rules:" + r.configuration.name, "endpoints:" + t.target]); }));
      s.monitors.forEach(m => edges.push(["monitors:" + m.configuration.name, "endpoints:" + m.configuration.endpoint]));
      edges.forEach(([a, b]) => { if (pos[a] && pos[b]) svg += `<line x1="${pos[a][0] + 120}" y1="${pos[a][1] - 4}" x2="${pos[b][0]}" y2="${pos[b][1] - 4}" stroke="#b0bec5"/>`; });
      Object.entries(pos).forEach(([k, [x, y]]) => svg += `<text x="${x}" y="${y}" font-size="12" data-node="${esc(k)}">${esc(k.split(":")[1])}</text>`);
      const g = document.getElementById("graph");
      g.setAttribute("viewBox", `0 0 ${order.length * w} ${height}`); g.setAttribute("height", height * 0.5); g.innerHTML = svg;
    }
    function bars(d) {
      const n = Math.max(d.bins.length, 1), W = 380, H = 60, top = Math.max(...d.baselineShares, ...d.windowShares, 1e-9), slot = W / n;
      let s = `<svg width="${W}" height="${H}">`;
      d.bins.forEach((b, i) => {
        const hb = d.baselineShares[i] / top * H, hw = d.windowShares[i] / top * H;
        s += `<rect x="${i * slot}" y="${H - hb}" width="${slot / 2 - 1}" height="${hb}" fill="#90a4ae"/><rect x="${i * slot + slot / 2}" y="${H - hw}" width="${slot / 2 - 1}" height="${hw}" fill="#ef6c00"/>`;
      });
      return s + "</svg>";
    }
    function render(st) {
      const s = st.snapshot, now = Date.now() / 1000;
      document.getElementById("title").textContent = `stack ${st.stack}, environment ${st.environment}`;
      document.getElementById("clock").textContent = s.clock ? `clock ${iso(s.clock.now)}${s.clock.ahead > 0 ? " (" + Math.round(s.clock.ahead) + " s ahead)" : ""}` : "";
      document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
      graph(s);
      const v = [], p = [];
      s.endpoints.forEach(e => e.variants.forEach(x => {
        const m = x.metrics || {}, key = e.name + "/" + x.name, before = previous && previous.counts[key];
        const rate = before ? (m.invocations - before.n) / Math.max(now - before.t, 0.001) : null;
        v.push(`<tr data-variant="${esc(key)}" data-invocations="${m.invocations || 0}"><td>${esc(key)}</td><td>${fmt(x.weight)}</td><td>${fmt(rate)}</td><td class="invocations">${m.invocations || 0}</td>` +
               `<td class="${(m.errors4xx || 0) + (m.errors5xx || 0) > 0 ? "bad" : ""}">${(m.errors4xx || 0) + (m.errors5xx || 0)}</td><td>${fmt(m.p50LatencyMs)}</td><td>${fmt(m.p99LatencyMs)}</td>` +
               `<td>${x.rollout ? esc(x.rollout.state) + " " + fmt(x.rollout.share) + "%" : "-"}</td></tr>`);
        x.instances.forEach(i => p.push(`<tr><td>${esc(key)} ${esc(i.id)}</td><td>${i.pid}</td><td class="${i.state === "healthy" ? "ok" : "bad"}">${esc(i.state)}</td><td>${i.restarts}</td></tr>`));
      }));
      s.functions.forEach(f => (f.workers || []).forEach(w => p.push(`<tr><td>functions.${esc(f.name)} ${esc(w.id)}</td><td>${w.pid}</td><td class="${w.state === "dead" ? "bad" : "ok"}">${esc(w.state)}</td><td>-</td></tr>`)));
      p.push(`<tr><td>environment host</td><td>${s.pid}</td><td class="ok">running</td><td>0</td></tr>`);
      rows("variants", v); rows("processes", p);
      previous = {counts: {}};
      s.endpoints.forEach(e => e.variants.forEach(x => previous.counts[e.name + "/" + x.name] = {n: (x.metrics || {}).invocations || 0, t: now}));
      rows("features", s.featureGroups.map(g => `<tr data-group="${esc(g.configuration.name)}"><td>${esc(g.configuration.name)}</td><td>${g.onlineRecords}</td><td>${g.offlineRows}</td></tr>`));
      rows("events", st.events.slice(-12).reverse().map(t => { try { const e = JSON.parse(t); return `<tr><td>${esc(e.time)}</td><td>${esc(e.source)}</td><td>${esc(e["detail-type"])}</td></tr>`; } catch (_) { return ""; } }));
      const mon = s.monitors.map(m => {
        const r = m.lastRun, drift = st.drift[m.configuration.name] || [];
        let h = `<div data-monitor="${esc(m.configuration.name)}"><b>${esc(m.configuration.name)}</b> on ${esc(m.configuration.endpoint)}: ` +
                (r ? `<span class="${r.status === "Completed" ? "ok" : "bad"}">${esc(r.status)}</span> at ${iso(r.time)}, ${r.rows} rows` : "no run yet") +
                `, next ${iso(m.nextRun)}`;
        if (r && r.metrics) h += "<table>" + Object.entries(r.metrics).map(([k, x]) => `<tr><td>${esc(k)}</td><td>${fmt(x)}</td></tr>`).join("") + "</table>";
        if (drift.length) h += "<table>" + drift.map(d => `<tr data-feature="${esc(d.feature)}"><td>${esc(d.feature)}</td><td>${esc(d.method)}</td><td>${fmt(d.statistic)}</td><td class="${d.drifted ? "bad" : "ok"}">${d.drifted ? "drift" : "ok"}</td><td>${bars(d)}</td></tr>`).join("") + "</table>";
        return h + "</div>";
      });
      document.getElementById("monitors").innerHTML = mon.length ? mon.join("") : "none";
      document.getElementById("monitors").className = mon.length ? "" : "muted";
      const sc = (s.scalingPolicies || []).map(x => {
        const alarms = x.alarms.map(a => `<span class="${a.state === "ALARM" ? "bad" : a.state === "OK" ? "ok" : "muted"}" title="${esc(a.reason)}">${esc(a.name)}: ${esc(a.state)}</span>`).join(", ");
        return `<div data-policy="${esc(x.configuration.name)}" data-desired="${x.desiredCapacity}" data-running="${x.runningCapacity}"><b>${esc(x.configuration.name)}</b> ` +
               `${esc(x.resourceId)}: ${x.runningCapacity} running, ${x.desiredCapacity} desired (${x.minCapacity}..${x.maxCapacity}); next scheduled ${iso(x.nextScheduledAction)}` +
               `<div>${alarms}</div><table>` + x.activities.slice(0, 5).map(a => `<tr class="activity"><td>${iso(a.startTime)}</td><td>${a.fromCapacity} &rarr; ${a.toCapacity}</td>` +
               `<td class="${a.statusCode === "Failed" ? "bad" : "ok"}">${esc(a.statusCode)}</td><td>${esc(a.cause)}</td></tr>`).join("") + "</table></div>";
      });
      document.getElementById("scaling").innerHTML = sc.length ? sc.join("") : "No scaling policies in this environment.";
      document.getElementById("scaling").className = sc.length ? "" : "muted";
    }
    async function poll() {
      try { const r = await fetch("/_ui/state", {cache: "no-store"}); render(await r.json()); document.body.dataset.ready = "1"; }
      catch (e) { document.getElementById("updated").textContent = "environment not answering"; }
      setTimeout(poll, 1000);
    }
    poll();
    </script></body></html>
    """#
}
