// /c/{cid}/issues/map: the community's issues with a GPS point, on a tile map (Leaflet) when the
// server names a tile server, else on a plain map drawn in SVG (north up, a scale in metres,
// numbered dots), so the page works with no outside requests at all. The same points are listed
// beneath the map with the same numbers, and a legend says what the colours mean.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { categoryNode } from "../issues.js";
import { start } from "../shell.js";
import { $, cidOfPage, communityPath, fill, pageData } from "../ui.js";

const SVG = "http://www.w3.org/2000/svg";
const cid = cidOfPage();
const { tile_url: tileUrl, tile_attribution: tileAttribution } = pageData();
let leafletMap = null;
let leafletLayer = null;
let drawn = null;
let resizeTimer = 0;

// The grid is drawn to the box's size: draw again when the phone turns.
window.addEventListener("resize", () => {
  window.clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    if (drawn) drawGrid(drawn);
  }, 200);
});

start(async () => {
  const form = $("[data-map-filters]");
  const params = new URLSearchParams(window.location.search);
  for (const name of ["status", "q"]) if (params.get(name)) form.elements[name].value = params.get(name);
  form.elements.overdue.checked = params.get("overdue") === "true";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of ["status", "q"]) if (form.elements[name].value.trim()) next.set(name, form.elements[name].value.trim());
    if (form.elements.overdue.checked) next.set("overdue", "true");
    window.history.replaceState(null, "", `${window.location.pathname}?${next}`);
    load(next);
  });
  await load(params);
});

async function load(params) {
  const query = new URLSearchParams();
  for (const name of ["status", "q", "overdue", "category_id", "grid_id", "sort"]) {
    if (params.get(name)) query.set(name, params.get(name));
  }
  const collection = await api("GET", communityPath(cid, `/issues/map?${query}`), { keep: true });
  const features = collection.features || [];
  $("[data-loading]").hidden = true;
  $("[data-map-page]").hidden = false;
  $("[data-map-count]").textContent = t("map.count", { count: features.length });
  const truncated = $("[data-map-truncated]");
  truncated.hidden = !collection.truncated;
  truncated.textContent = t("map.truncated", { count: collection.limit });
  if (tileUrl && window.L) drawTiles(features);
  else {
    drawn = features;
    drawGrid(features);
  }
  renderList(features);
}

function issueHref(id) {
  return `/c/${encodeURIComponent(cid)}/issues/${encodeURIComponent(id)}`;
}

function renderList(features) {
  const list = $("[data-map-list]");
  list.replaceChildren();
  $("[data-map-empty]").hidden = features.length > 0;
  for (const [i, { properties: p }] of features.entries()) {
    const item = fill("map-item", {
      title: p.title, status: t(`map.status.${p.status}`), category: categoryNode(p.category),
      supports: t("map.supports", { count: p.supports_count }),
    });
    item.querySelector("a").href = issueHref(p.id);
    item.querySelector("[data-dot]").classList.add(`status-${p.status}`);
    item.querySelector("[data-dot]").textContent = String(i + 1); // the number on its dot
    item.querySelector("[data-overdue]").hidden = !p.overdue;
    list.append(item);
  }
}

/** Without tiles: an equirectangular plot of the points' bounds, north up, with a light grid and
 * a scale bar in metres (coordinates mean nothing to a resident). Each dot carries the number
 * of its line in the list below. The drawing is sized to the box in CSS pixels, so dots and
 * labels keep a readable, tappable size, and every label is drawn inside the box. */
function drawGrid(features) {
  const box = $("[data-map]");
  box.replaceChildren();
  const width = Math.round(box.clientWidth) || 1000;
  const height = Math.round(box.clientHeight) || 700;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  box.append(svg);
  if (!features.length) return;
  const lngs = features.map((f) => f.geometry.coordinates[0]);
  const lats = features.map((f) => f.geometry.coordinates[1]);
  let [west, east, south, north] = [Math.min(...lngs), Math.max(...lngs), Math.min(...lats), Math.max(...lats)];
  const pad = 0.0005; // about 50 m, so one point or a row of points still has room
  west -= pad; east += pad; south -= pad; north += pad;
  // Keep metres equal in both directions: a degree of longitude shrinks with the cosine of the latitude.
  const k = Math.cos(((north + south) / 2) * Math.PI / 180);
  const spanX = (east - west) * k;
  const spanY = north - south;
  const margin = 28;
  const scale = Math.min((width - 2 * margin) / spanX, (height - 2 * margin) / spanY); // pixels per degree of latitude
  const x = (lng) => margin + ((lng - west) * k) * scale + ((width - 2 * margin) - spanX * scale) / 2;
  const y = (lat) => margin + (north - lat) * scale + ((height - 2 * margin) - spanY * scale) / 2;
  const step = niceStep(Math.max(east - west, north - south) / 5);
  for (let v = Math.ceil(west / step) * step; v <= east; v += step) gridLine(svg, x(v), 0, x(v), height);
  for (let v = Math.ceil(south / step) * step; v <= north; v += step) gridLine(svg, 0, y(v), width, y(v));
  label(svg, `↑ ${t("map.legend.north")}`, width - 8, 20, "end");
  scaleBar(svg, scale / 111_320, height); // a degree of latitude is about 111.32 km
  // Drawn last to first, so where dots overlap the lower numbers (the top of the list) stay on top.
  [...features.entries()].reverse().forEach(([i, f]) => {
    const [lng, lat] = f.geometry.coordinates;
    const link = document.createElementNS(SVG, "a");
    link.setAttribute("href", issueHref(f.properties.id));
    const [cx, cy] = [x(lng).toFixed(1), y(lat).toFixed(1)];
    const dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("cx", cx);
    dot.setAttribute("cy", cy);
    dot.setAttribute("r", String(10 + Math.min(8, Math.sqrt(f.properties.supports_count))));
    dot.setAttribute("class", `map-point status-${f.properties.status}${f.properties.overdue ? " is-overdue" : ""}`);
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${i + 1}. ${f.properties.title}`;
    dot.append(title);
    const number = document.createElementNS(SVG, "text");
    number.setAttribute("x", cx);
    number.setAttribute("y", cy);
    number.setAttribute("class", "map-point-number");
    number.textContent = String(i + 1);
    const hit = document.createElementNS(SVG, "circle"); // a fingertip-sized target around the dot
    hit.setAttribute("cx", cx);
    hit.setAttribute("cy", cy);
    hit.setAttribute("r", "22");
    hit.setAttribute("class", "map-hit");
    link.append(hit, dot, number);
    svg.append(link);
  });
}

function gridLine(svg, x1, y1, x2, y2) {
  const line = document.createElementNS(SVG, "line");
  for (const [k, v] of Object.entries({ x1, y1, x2, y2 })) line.setAttribute(k, v.toFixed(1));
  line.setAttribute("class", "map-grid-line");
  svg.append(line);
}

function label(svg, text, lx, ly, anchor = "start") {
  const node = document.createElementNS(SVG, "text");
  node.setAttribute("x", lx.toFixed(1));
  node.setAttribute("y", ly.toFixed(1));
  node.setAttribute("text-anchor", anchor);
  node.setAttribute("class", "map-grid-label");
  node.textContent = text;
  svg.append(node);
}

/** A bar of a round number of metres (about a fifth of the width) in the bottom left corner. */
function scaleBar(svg, pixelsPerMetre, height) {
  const metres = niceStep(90 / pixelsPerMetre);
  const length = metres * pixelsPerMetre;
  const [left, bottom] = [10, height - 10];
  const bar = document.createElementNS(SVG, "path");
  bar.setAttribute("d", `M${left} ${bottom - 6}V${bottom}H${(left + length).toFixed(1)}V${bottom - 6}`);
  bar.setAttribute("class", "map-scale");
  svg.append(bar);
  const text = metres >= 1000 ? t("map.legend.km", { n: metres / 1000 }) : t("map.legend.m", { n: metres });
  label(svg, text, left + 2, bottom - 10);
}

function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit < 2 ? 1 : unit < 5 ? 2 : 5) * power;
}

/** With tiles: Leaflet, one circle marker per issue. */
function drawTiles(features) {
  const L = window.L;
  if (!leafletMap) {
    leafletMap = L.map($("[data-map]"), { zoomControl: true });
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: tileAttribution || "" }).addTo(leafletMap);
  }
  if (leafletLayer) leafletLayer.remove();
  leafletLayer = L.featureGroup(features.map((f) => {
    const [lng, lat] = f.geometry.coordinates;
    const marker = L.circleMarker([lat, lng], {
      radius: 8, className: `map-point status-${f.properties.status}${f.properties.overdue ? " is-overdue" : ""}`,
    });
    const link = document.createElement("a");
    link.href = issueHref(f.properties.id);
    link.textContent = f.properties.title;
    link.dataset.userContent = "";
    return marker.bindPopup(link);
  })).addTo(leafletMap);
  if (features.length) leafletMap.fitBounds(leafletLayer.getBounds(), { maxZoom: 18, padding: [24, 24] });
  else leafletMap.setView([35, 105], 4);
}
