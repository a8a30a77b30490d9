/** One line of a chart. */
export interface Series {
  label: string;
  points: { x: number; y: number }[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#ca8a04", "#db2777"];

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Powers of ten (and 2x, 5x between them) inside [min, max], for log-axis ticks. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let p = Math.floor(Math.log10(min)); p <= Math.ceil(Math.log10(max)); p++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** p;
      if (v >= min && v <= max) ticks.push(v);
    }
  }
  return ticks;
}

const short = (v: number) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v));

/**
 * A dependency-free SVG line chart with logarithmic axes (rates and latencies
 * both span decades), one colored line with dots per series and a legend.
 */
export function lineChart(series: Series[], options: ChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 420;
  const m = { left: 70, right: 200, top: 40, bottom: 50 };
  const points = series.flatMap((s) => s.points).filter((p) => p.x > 0 && p.y > 0);
  const xMin = Math.min(...points.map((p) => p.x)) / 1.2;
  const xMax = Math.max(...points.map((p) => p.x)) * 1.2;
  const yMin = Math.max(0.1, Math.min(...points.map((p) => p.y)) / 1.5);
  const yMax = Math.max(...points.map((p) => p.y)) * 1.5;
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const sx = (x: number) => m.left + ((Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * plotW;
  const sy = (y: number) => m.top + plotH - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2 - m.right / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(options.title)}</text>`);
  for (const t of logTicks(xMin, xMax)) {
    out.push(`<line x1="${sx(t)}" y1="${m.top}" x2="${sx(t)}" y2="${m.top + plotH}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${sx(t)}" y="${m.top + plotH + 16}" text-anchor="middle">${short(t)}</text>`);
  }
  for (const t of logTicks(yMin, yMax)) {
    out.push(`<line x1="${m.left}" y1="${sy(t)}" x2="${m.left + plotW}" y2="${sy(t)}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${m.left - 6}" y="${sy(t) + 4}" text-anchor="end">${short(t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#9ca3af"/>`);
  out.push(`<text x="${m.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escape(options.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(options.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.filter((p) => p.x > 0 && p.y > 0).sort((a, b) => a.x - b.x);
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ")}"/>`);
    for (const p of pts) out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = m.top + 10 + i * 18;
    out.push(`<rect x="${width - m.right + 14}" y="${ly - 9}" width="12" height="12" fill="${color}"/>`);
    out.push(`<text x="${width - m.right + 32}" y="${ly + 1}">${escape(s.label)}</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
