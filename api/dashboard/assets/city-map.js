/**
 * A simple city map: the sensors where the sensor registry places them, as SVG points
 * (equirectangular projection over the sensors' own bounding box, which at city scale is as
 * good as any), coloured from green (normal) to red by anomaly score, with each district's name
 * at the centre of its sensors. Points are DOM nodes with a <title>, so hovering names them.
 */
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 1000;
const HEIGHT = 360;
const MARGIN = 24;

export class CityMap {
  constructor(element) {
    this.element = element;
    element.classList.add("city-map");
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
    this.svg.setAttribute("role", "img");
    element.appendChild(this.svg);
  }

  show(points) {
    this.svg.replaceChildren();
    if (points.length === 0) {
      this.element.dataset.points = "0";
      return;
    }
    const lats = points.map((p) => p.lat);
    const lons = points.map((p) => p.lon);
    const [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
    // longitude degrees shrink with latitude: keep the map's proportions true
    const lonScale = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
    const spanX = Math.max(1e-6, (maxLon - minLon) * lonScale);
    const spanY = Math.max(1e-6, maxLat - minLat);
    const scale = Math.min((WIDTH - 2 * MARGIN) / spanX, (HEIGHT - 2 * MARGIN) / spanY);
    const x = (lon) => MARGIN + (lon - minLon) * lonScale * scale;
    const y = (lat) => HEIGHT - MARGIN - (lat - minLat) * scale;
    const districts = new Map();
    for (const p of points) {
      const circle = document.createElementNS(SVG, "circle");
      circle.setAttribute("cx", x(p.lon).toFixed(1));
      circle.setAttribute("cy", y(p.lat).toFixed(1));
      circle.setAttribute("r", "6");
      circle.setAttribute("fill", colourOf(p.anomaly));
      const title = document.createElementNS(SVG, "title");
      title.textContent = `${p.id} (${p.type}, ${p.district}): anomaly ${p.anomaly.toFixed(2)}, quality ${p.quality.toFixed(2)}`;
      circle.appendChild(title);
      this.svg.appendChild(circle);
      const d = districts.get(p.district) ?? { x: 0, y: 0, n: 0 };
      d.x += x(p.lon);
      d.y += y(p.lat);
      d.n++;
      districts.set(p.district, d);
    }
    for (const [name, d] of districts) {
      const label = document.createElementNS(SVG, "text");
      label.setAttribute("x", (d.x / d.n).toFixed(1));
      label.setAttribute("y", (d.y / d.n - 10).toFixed(1));
      label.setAttribute("text-anchor", "middle");
      label.textContent = name;
      this.svg.appendChild(label);
    }
    this.element.dataset.points = String(points.length);
  }
}

/** 0 green, 0.5 amber, 1 red */
function colourOf(score) {
  const s = Math.min(1, Math.max(0, score));
  const hue = 120 * (1 - s);
  return `hsl(${hue.toFixed(0)} 70% 50%)`;
}
