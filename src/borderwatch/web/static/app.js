// Borderwatch map page. Everything derived from articles (titles, sentences, place and actor names,
// URLs) reaches the page through textContent / createTextNode only, never as markup; links are
// made only for http(s) URLs. The page talks to its own server only (see the CSP), and loads
// images from the tile server of `[web] tile_url` when one is configured.
"use strict";

(function () {
  const COLORS = {
    AGREE: "#2e86c1", CONSULT: "#5dade2", SUPPORT: "#48c9b0", CONCEDE: "#76d7c4", COOPERATE: "#27ae60",
    AID: "#82e0aa", RETREAT: "#a9cce3", REQUEST: "#f7dc6f", ACCUSE: "#f0b27a", REJECT: "#eb984e",
    THREATEN: "#e67e22", PROTEST: "#af7ac5", SANCTION: "#8e44ad", MOBILIZE: "#d35400", COERCE: "#cb4335",
    ASSAULT: "#922b21", FIGHT: "#c0392b", INVESTIGATE: "#7f8c8d",
  };
  const RING_TYPES = new Set(["MOBILIZE", "FIGHT", "ASSAULT"]);
  const PAGE = 100;

  const $ = (id) => document.getElementById(id);
  const state = {
    meta: { event_types: Object.keys(COLORS), thresholds: {} },
    offset: 0,
    places: [],
    layers: new Map(), // event id -> [Leaflet layers]
    alerted: new Set(),
    selected: null,
    fitted: false,
  };
  let map = null;
  let eventLayer = null;
  let ringLayer = null;

  // --- DOM helpers: text only -------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function safeUrl(value) {
    if (typeof value !== "string" || !/^https?:\/\//i.test(value)) return null;
    try {
      const url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_err) {
      return null;
    }
  }

  function escapeHtml(value) {
    // Leaflet renders attributions as markup: the configured credit goes in as escaped text.
    return String(value).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
  }

  function idClass(id) {
    return "bw-ev-" + String(id).replace(/[^A-Za-z0-9_-]/g, "");
  }

  function badge(type) {
    const node = el("span", "badge", type);
    node.style.background = COLORS[type] || "#555";
    return node;
  }

  function status(text) {
    $("status").textContent = text;
  }

  async function getJSON(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(path.split("?")[0] + ": HTTP " + response.status);
    return response.json();
  }

  // --- filters kept in the URL ------------------------------------------------------------

  function readFilters() {
    const q = new URLSearchParams(location.search);
    return {
      type: q.getAll("type").filter(Boolean),
      country: q.get("country") || "",
      border: q.get("border") || "",
      claimant: q.get("claimant") || "",
      stance: q.get("stance") || "",
      since: q.get("since") || "",
      until: q.get("until") || "",
      historical: q.get("historical") === "1",
      rings: q.get("rings") === "1",
      timeline: q.get("timeline") || "",
      event: q.get("event") || "",
    };
  }

  const URL_KEYS = ["country", "border", "claimant", "stance", "since", "until", "timeline", "event"];

  function writeFilters(f) {
    const q = new URLSearchParams();
    f.type.forEach((t) => q.append("type", t));
    for (const key of URL_KEYS) if (f[key]) q.set(key, f[key]);
    if (f.historical) q.set("historical", "1");
    if (f.rings) q.set("rings", "1");
    const search = q.toString();
    history.replaceState(null, "", search ? "?" + search : location.pathname);
  }

  function apiQuery(f) {
    const q = new URLSearchParams();
    f.type.forEach((t) => q.append("type", t));
    for (const key of ["country", "border", "claimant", "stance"]) if (f[key]) q.set(key, f[key]);
    if (f.since) q.set("since", f.since);
    if (f.until) q.set("until", f.until);
    q.set("historical", f.historical ? "true" : "false");
    return q;
  }

  function formToFilters() {
    const f = readFilters();
    const type = $("f-type").value;
    f.type = type ? [type] : [];
    f.country = $("f-country").value.trim().toUpperCase();
    f.border = $("f-border").value.trim().toUpperCase();
    f.claimant = $("f-claimant").value.trim();
    if (/^[A-Za-z]{3}$/.test(f.claimant)) f.claimant = f.claimant.toUpperCase();
    f.stance = $("f-stance").value;
    f.since = $("f-since").value;
    f.until = $("f-until").value;
    f.historical = $("f-historical").checked;
    f.rings = $("f-rings").checked;
    return f;
  }

  function filtersToForm(f) {
    $("f-type").value = f.type[0] || "";
    $("f-country").value = f.country;
    $("f-border").value = f.border;
    $("f-claimant").value = f.claimant;
    $("f-stance").value = ["asserted", "alleged", "denied"].includes(f.stance) ? f.stance : "";
    $("f-since").value = f.since;
    $("f-until").value = f.until;
    $("f-historical").checked = f.historical;
    $("f-rings").checked = f.rings;
  }

  // --- map --------------------------------------------------------------------------------

  function initMap() {
    if (typeof L === "undefined") {
      $("map").appendChild(el("p", "muted", "Leaflet is not installed (run `npm ci`): no map."));
      return;
    }
    map = L.map("map", { worldCopyJump: true, minZoom: 2 }).setView([50, 30], 5);
    map.attributionControl.addAttribution("Natural Earth, GeoNames");
    eventLayer = L.featureGroup().addTo(map);
    ringLayer = L.layerGroup();
  }

  function tooltipFor(props) {
    return () => {
      const box = el("div");
      box.appendChild(el("strong", null, props.type));
      box.appendChild(document.createTextNode(" " + (props.date || "undated")));
      box.appendChild(el("div", null, props.name || "unnamed place"));
      if (props.radius_km) box.appendChild(el("div", "muted", "± " + Math.round(props.radius_km) + " km"));
      return box;
    };
  }

  function styleFor(props, selected) {
    const alerted = state.alerted.has(props.event);
    return {
      color: selected ? "#000" : alerted ? "#7b241c" : COLORS[props.type] || "#555",
      weight: selected ? 4 : alerted ? 3 : 1.5,
      fillColor: COLORS[props.type] || "#555",
      fillOpacity: props.area ? 0.25 : 0.3,
      className: "bw-event bw-type-" + props.type + " " + idClass(props.event) + (alerted ? " bw-alerted" : ""),
    };
  }

  function drawPlaces(collection) {
    state.places = collection.features;
    if (!map) return;
    eventLayer.clearLayers();
    state.layers.clear();
    for (const feature of collection.features) {
      const props = feature.properties;
      const layers = [];
      if (props.area) {
        layers.push(L.geoJSON(feature, { style: () => styleFor(props, false) }));
      } else {
        const centre = [props.lat, props.lon];
        layers.push(L.circle(centre, Object.assign({ radius: Math.max(props.radius_km || 1, 1) * 1000 },
          styleFor(props, false))));
        layers.push(L.circleMarker(centre, Object.assign({}, styleFor(props, false), { radius: 4, fillOpacity: 0.9 })));
      }
      for (const layer of layers) {
        layer.bindTooltip(tooltipFor(props), { sticky: true });
        layer.on("click", () => openEvent(props.event));
        eventLayer.addLayer(layer);
      }
      const known = state.layers.get(props.event) || [];
      state.layers.set(props.event, known.concat(layers.map((layer) => [layer, props])));
    }
    drawRings();
    if (!state.fitted && collection.features.length) {
      map.fitBounds(eventLayer.getBounds(), { maxZoom: 7, padding: [20, 20] });
      state.fitted = true;
    }
  }

  function restyle() {
    for (const [id, entries] of state.layers) {
      for (const [layer, props] of entries) {
        const style = styleFor(props, id === state.selected);
        if (layer.setStyle) layer.setStyle({ color: style.color, weight: style.weight });
      }
    }
  }

  function drawRings() {
    if (!map) return;
    ringLayer.clearLayers();
    if (!$("f-rings").checked) {
      map.removeLayer(ringLayer);
      return;
    }
    for (const feature of state.places) {
      const props = feature.properties;
      if (!RING_TYPES.has(props.type) || props.historical) continue;
      for (const [name, km] of Object.entries(state.meta.thresholds)) {
        const ring = L.circle([props.lat, props.lon], {
          radius: km * 1000, color: "#555", weight: 1, dashArray: "4 4", fill: false, interactive: true,
          className: "bw-ring",
        });
        ring.bindTooltip(() => el("span", null, name + ": " + km + " km"), { sticky: true });
        ringLayer.addLayer(ring);
      }
    }
    ringLayer.addTo(map);
  }

  async function drawBackground() {
    if (!map) return;
    try {
      const borders = await getJSON("/api/borders");
      L.geoJSON(borders, {
        // over an online basemap the land fill would hide the tiles: outlines only
        style: { color: "#6b6b6b", weight: 1, fillColor: "#f4f1ea", fillOpacity: state.meta.tiles ? 0 : 1,
          className: "bw-border" },
        interactive: false,
      }).addTo(map).bringToBack();
    } catch (err) {
      status("borders: " + err.message);
    }
    try {
      const sites = await getJSON("/api/sites");
      const icon = L.divIcon({ className: "site-icon", html: false, iconSize: [12, 12] });
      for (const feature of sites.features) {
        const props = feature.properties;
        const [lon, lat] = feature.geometry.coordinates;
        L.marker([lat, lon], { icon, keyboard: false, title: "" })
          .bindTooltip(() => {
            const box = el("div");
            box.appendChild(el("strong", "site-name", props.name));
            box.appendChild(el("div", "muted", props.kind + (props.country ? " · " + props.country : "")));
            return box;
          })
          .addTo(map);
      }
    } catch (err) {
      status("sites: " + err.message);
    }
  }

  // --- lists ------------------------------------------------------------------------------

  function eventItem(e) {
    const li = el("li", "event");
    li.dataset.id = e.id;
    li.appendChild(badge(e.type));
    li.appendChild(el("span", null, (e.date && e.date.start) || "undated"));
    const who = (e.actors.map((a) => a.code).join(",") || "?") + " → " +
      (e.recipients.map((a) => a.code).join(",") || "-");
    li.appendChild(el("div", null, who + (e.place && e.place.name ? " · " + e.place.name : "")));
    li.appendChild(el("div", "muted title", e.title || "(untitled)"));
    if (e.historical) li.appendChild(el("span", "muted flag-historical", "historical"));
    li.addEventListener("click", () => openEvent(e.id));
    if (e.id === state.selected) li.classList.add("selected");
    return li;
  }

  async function loadEvents(f, append) {
    const q = apiQuery(f);
    if (!append) state.offset = 0;
    q.set("limit", String(PAGE));
    q.set("offset", String(state.offset));
    const page = await getJSON("/api/events?" + q);
    const list = $("events");
    if (!append) clear(list);
    page.events.forEach((e) => list.appendChild(eventItem(e)));
    state.offset = page.next_offset || state.offset + page.events.length;
    $("more").hidden = page.next_offset === null;
    $("event-count").textContent = "(" + list.children.length + (page.next_offset === null ? "" : "+") + ")";
    if (!append) {
      const places = await getJSON("/api/places?" + apiQuery(f));
      drawPlaces(places);
    }
  }

  async function loadAlerts() {
    const data = await getJSON("/api/alerts");
    const list = $("alerts");
    clear(list);
    state.alerted = new Set(data.alerts.flatMap((a) => a.event_ids));
    if (!data.alerts.length) list.appendChild(el("li", "muted", "No alerts."));
    for (const alert of data.alerts) {
      const li = el("li", "alert sev-" + alert.severity);
      li.appendChild(el("strong", null, alert.severity.toUpperCase() + " "));
      li.appendChild(el("span", null, alert.as_of + (alert.border ? " · " + alert.border : "") + " · " + alert.rule));
      li.appendChild(el("div", null, alert.explanation));
      if (alert.event_ids.length) li.addEventListener("click", () => openEvent(alert.event_ids[0]));
      list.appendChild(li);
    }
    restyle();
  }

  // --- timeline (inline SVG built with DOM APIs) ------------------------------------------

  const SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  async function loadTimeline(f) {
    const select = $("t-border");
    const data = await getJSON("/api/indicators");
    clear(select);
    const borders = data.borders.slice().sort((a, b) => b.events - a.events);
    const pairs = $("border-pairs");
    clear(pairs);
    for (const b of borders) {
      const option = el("option");
      option.value = b.border;
      pairs.appendChild(option);
    }
    if (!borders.length) {
      select.hidden = true;
      $("timeline").appendChild(el("p", "muted", "No current events along a border yet."));
      return;
    }
    for (const b of borders) {
      const option = el("option", null, b.border + " (" + b.events + ")");
      option.value = b.border;
      select.appendChild(option);
    }
    // the timeline follows the border filter unless a border was picked for it
    const wanted = f.timeline || pairKey(f.border);
    select.value = borders.some((b) => b.border === wanted) ? wanted : borders[0].border;
    await drawTimeline(select.value);
  }

  function pairKey(border) {
    return border ? border.toUpperCase().split("-").sort().join("-") : "";
  }

  async function drawTimeline(border) {
    const box = $("timeline");
    clear(box);
    const data = await getJSON("/api/indicators?border=" + encodeURIComponent(border));
    const days = data.days;
    if (!days.length) return;
    const width = 400, height = 120, pad = 18;
    const max = Math.max(1, ...days.map((d) => Math.max(d.total, d.mean30)));
    const step = (width - 2 * pad) / days.length;
    const y = (v) => height - pad - (v / max) * (height - 2 * pad);
    const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img" });
    const title = svg("title");
    title.textContent = data.border + ": events per day and the " + data.baseline_days + "-day mean";
    chart.appendChild(title);
    days.forEach((d, i) => {
      if (!d.total) return;
      const bar = svg("rect", { class: "bar", x: pad + i * step, y: y(d.total), width: Math.max(step - 1, 1),
        height: height - pad - y(d.total) });
      const tip = svg("title");
      tip.textContent = d.day + ": " + Object.entries(d.counts).map(([k, v]) => k + " " + v).join(", ");
      bar.appendChild(tip);
      chart.appendChild(bar);
    });
    const points = days.map((d, i) => (pad + (i + 0.5) * step).toFixed(1) + "," + y(d.mean30).toFixed(1));
    chart.appendChild(svg("polyline", { class: "mean", points: points.join(" ") }));
    const first = svg("text", { x: pad, y: height - 4 });
    first.textContent = days[0].day;
    const last = svg("text", { x: width - pad, y: height - 4, "text-anchor": "end" });
    last.textContent = days[days.length - 1].day;
    const top = svg("text", { x: 2, y: pad });
    top.textContent = String(max);
    chart.append(first, last, top);
    box.appendChild(chart);
  }

  // --- the event panel --------------------------------------------------------------------

  function fact(dl, name, value) {
    if (value === null || value === undefined || value === "") return;
    dl.appendChild(el("dt", null, name));
    dl.appendChild(el("dd", null, value));
  }

  function highlighted(text, spans) {
    // Evidence spans (offsets into the clean text) become <mark> elements; the rest stays text.
    const box = document.createDocumentFragment();
    const sorted = spans.slice().sort((a, b) => a.start - b.start);
    let pos = 0;
    for (const span of sorted) {
      const start = Math.max(span.start, pos);
      const end = Math.min(span.end, text.length);
      if (end <= start) continue;
      box.appendChild(document.createTextNode(text.slice(pos, start)));
      box.appendChild(el("mark", "evidence", text.slice(start, end)));
      pos = end;
    }
    box.appendChild(document.createTextNode(text.slice(pos)));
    return box;
  }

  async function openEvent(id) {
    state.selected = id;
    const f = readFilters();
    f.event = id;
    writeFilters(f);
    for (const li of document.querySelectorAll("#events li")) li.classList.toggle("selected", li.dataset.id === id);
    restyle();
    let e, doc;
    try {
      e = await getJSON("/api/events/" + encodeURIComponent(id));
      doc = await getJSON("/api/documents/" + encodeURIComponent(e.doc));
    } catch (err) {
      status("event: " + err.message);
      return;
    }
    if (state.selected !== id) return;
    const panel = $("panel");
    $("panel-title").textContent = e.title || "(untitled)";
    const facts = $("panel-facts");
    clear(facts);
    fact(facts, "type", e.type + (e.mode ? " (" + e.mode + ")" : ""));
    fact(facts, "date", (e.date.start || "?") + (e.date.end && e.date.end !== e.date.start ? " – " + e.date.end : "") +
      " (" + e.date.granularity + ")");
    fact(facts, "who", (e.actors.map((a) => a.code).join(", ") || "?") + " → " +
      (e.recipients.map((a) => a.code).join(", ") || "-"));
    const claimant = e.claim.claimant ? " by " + e.claim.claimant.code : "";
    fact(facts, "claim", e.claim.stance + claimant);
    if (e.place) {
      fact(facts, "place", (e.place.name || "?") + (e.place.country ? ", " + e.place.country : "") +
        (e.place.radius_km ? " (± " + Math.round(e.place.radius_km) + " km)" : ""));
    }
    if (e.proximity) {
      if (e.proximity.border_km !== null && e.proximity.border_km !== undefined) {
        fact(facts, "border", e.proximity.border_km + " km to " + (e.proximity.border_with || "?"));
      }
      const sites = (e.proximity.sites || []).map((s) => s.name + " " + s.km + " km").join("; ");
      fact(facts, "sites", sites);
    }
    const flags = ["historical", "future", "hypothetical", "negated"].filter((k) => e[k]).join(", ");
    fact(facts, "flags", flags);
    // The words that set the flags ("historical: In 2022"), as text, never as markup.
    fact(facts, "status words", (e.status_cues || []).join("; "));
    fact(facts, "confidence", e.confidence);
    if (e.cluster) fact(facts, "cluster", e.cluster.status + ", " + e.cluster.independent_outlets + " outlet(s)");
    const sources = $("panel-sources");
    clear(sources);
    for (const url of doc.urls) {
      const li = el("li");
      const href = safeUrl(url);
      if (href) {
        const a = el("a", null, url);
        a.href = href;
        a.rel = "noopener noreferrer";
        a.target = "_blank";
        li.appendChild(a);
      } else {
        li.appendChild(el("span", "muted", url + " (not a web link)"));
      }
      sources.appendChild(li);
    }
    if (!doc.urls.length) sources.appendChild(el("li", "muted", "no URL recorded"));
    const text = $("panel-text");
    clear(text);
    text.appendChild(highlighted(doc.clean_text, e.evidence));
    panel.hidden = false;
    const mark = text.querySelector("mark");
    if (mark) text.scrollTop = Math.max(0, mark.offsetTop - text.offsetTop - 40);
    panel.scrollIntoView({ block: "nearest" });
    const entries = state.layers.get(id);
    if (map && entries && entries.length) {
      const props = entries[0][1];
      map.panTo([props.lat, props.lon]);
    }
  }

  // --- start ------------------------------------------------------------------------------

  async function refresh() {
    const f = formToFilters();
    f.event = "";
    const select = $("t-border");
    const key = pairKey(f.border);
    if (key && [...select.options].some((o) => o.value === key) && select.value !== key) {
      f.timeline = ""; // a new border filter takes the timeline along
      select.value = key;
      drawTimeline(key).catch((err) => status("timeline: " + err.message));
    }
    writeFilters(f);
    status("loading…");
    try {
      await loadEvents(f, false);
      status("");
    } catch (err) {
      status(err.message);
    }
  }

  function addTiles(tiles) {
    if (!map || !tiles || !safeUrl(tiles.url)) return;
    // The page sends no Referer anywhere; tile servers such as OpenStreetMap's refuse requests
    // without one, so tiles (and only tiles) send the dashboard's origin, never a full URL.
    L.tileLayer(tiles.url, {
      maxZoom: 19,
      attribution: escapeHtml(tiles.attribution || ""),
      className: "bw-tiles",
      referrerPolicy: "strict-origin",
    }).addTo(map);
  }

  async function start() {
    initMap();
    try {
      state.meta = await getJSON("/api/meta");
    } catch (err) {
      status("meta: " + err.message);
    }
    addTiles(state.meta.tiles);
    const select = $("f-type");
    for (const type of state.meta.event_types) {
      const option = el("option", null, type);
      option.value = type;
      select.appendChild(option);
    }
    const f = readFilters();
    filtersToForm(f);
    $("filters").addEventListener("submit", (ev) => {
      ev.preventDefault();
      refresh();
    });
    $("f-reset").addEventListener("click", () => {
      filtersToForm({ type: [], country: "", border: "", claimant: "", stance: "", since: "", until: "",
        historical: false, rings: false });
      refresh();
    });
    $("f-rings").addEventListener("change", () => {
      writeFilters(Object.assign(readFilters(), { rings: $("f-rings").checked }));
      drawRings();
    });
    $("more").addEventListener("click", () => loadEvents(readFilters(), true).catch((err) => status(err.message)));
    $("panel-close").addEventListener("click", () => {
      $("panel").hidden = true;
      state.selected = null;
      writeFilters(Object.assign(readFilters(), { event: "" }));
      restyle();
    });
    $("t-border").addEventListener("change", () => {
      writeFilters(Object.assign(readFilters(), { timeline: $("t-border").value }));
      drawTimeline($("t-border").value).catch((err) => status(err.message));
    });
    const background = drawBackground();
    status("loading…");
    try {
      await loadAlerts();
      await loadEvents(f, false);
      status("");
    } catch (err) {
      status(err.message);
    }
    await loadTimeline(f).catch((err) => status("timeline: " + err.message));
    await background;
    if (f.event) await openEvent(f.event);
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", start);
})();
