// Small SVG charts written from the results, no dependencies.

export interface Bar {
  label: string;
  value: number;
  /** Highlight our server's bars. */
  ours?: boolean;
}

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function barChart(title: string, unit: string, bars: Bar[]): string {
  const width = 640;
  const row = 28;
  const left = 170;
  const top = 40;
  const height = top + bars.length * row + 20;
  const max = Math.max(...bars.map((b) => b.value), 1e-9);
  const scale = (width - left - 90) / max;
  const rows = bars
    .map((bar, i) => {
      const y = top + i * row;
      const w = Math.max(1, bar.value * scale);
      return [
        `<text x="${left - 8}" y="${y + 18}" text-anchor="end">${esc(bar.label)}</text>`,
        `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${row - 8}" fill="${bar.ours ? '#c0392b' : '#7f8c8d'}"/>`,
        `<text x="${(left + w + 6).toFixed(1)}" y="${y + 18}">${bar.value} ${esc(unit)}</text>`,
      ].join('');
    })
    .join('\n  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">
  <text x="10" y="22" font-weight="bold">${esc(title)}</text>
  ${rows}
</svg>
`;
}

export interface Series {
  label: string;
  points: { x: number; y: number }[];
  ours?: boolean;
}

/** Lines on a log-scale y axis (latency spans milliseconds to seconds). */
export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const width = 640;
  const height = 360;
  const pad = { left: 70, right: 150, top: 40, bottom: 50 };
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => Math.max(p.y, 1)));
  const xMax = Math.max(...xs, 1);
  const yMin = 1;
  const yMax = Math.max(...ys, 10);
  // Square-root x: the low rates, where most targets give out, get room.
  const px = (x: number) => pad.left + Math.sqrt(x / xMax) * (width - pad.left - pad.right);
  const py = (y: number) =>
    height - pad.bottom - (Math.log10(Math.max(y, yMin)) / Math.log10(yMax)) * (height - pad.top - pad.bottom);
  const colours = ['#c0392b', '#2c3e50', '#27ae60', '#8e44ad', '#d35400', '#16a085'];
  const ticks = [1, 10, 100, 1000, 10000].filter((t) => t <= yMax * 1.01);
  const limit = yMax >= 1000 ? `<line x1="${pad.left}" x2="${width - pad.right}" y1="${py(1000)}" y2="${py(1000)}" stroke="#c0392b" stroke-dasharray="4 4"/><text x="${width - pad.right - 4}" y="${py(1000) - 4}" text-anchor="end" fill="#c0392b">1 s</text>` : '';
  const grid = limit + ticks
    .map((t) => `<line x1="${pad.left}" x2="${width - pad.right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/><text x="${pad.left - 6}" y="${py(t) + 4}" text-anchor="end">${t}</text>`)
    .join('');
  const xTicks = [...new Set(xs)]
    .sort((a, b) => a - b)
    .map((x) => `<text x="${px(x)}" y="${height - pad.bottom + 18}" text-anchor="middle">${x}</text>`)
    .join('');
  const lines = series
    .map((s, i) => {
      const colour = colours[i % colours.length];
      const path = s.points.map((p, j) => `${j ? 'L' : 'M'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
      const dots = s.points.map((p) => `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${colour}"/>`).join('');
      const legend = `<text x="${width - pad.right + 12}" y="${pad.top + 16 + i * 18}" fill="${colour}">${esc(s.label)}</text>`;
      return `<path d="${path}" fill="none" stroke="${colour}" stroke-width="${s.ours ? 3 : 2}"/>${dots}${legend}`;
    })
    .join('\n  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
  <text x="10" y="22" font-weight="bold">${esc(title)}</text>
  ${grid}${xTicks}
  <text x="${(pad.left + width - pad.right) / 2}" y="${height - 12}" text-anchor="middle">${esc(xLabel)}</text>
  <text x="16" y="${height / 2}" transform="rotate(-90 16 ${height / 2})" text-anchor="middle">${esc(yLabel)}</text>
  ${lines}
</svg>
`;
}
