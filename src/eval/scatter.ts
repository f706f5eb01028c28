// A scatter plot of 2-D points as SVG: points as small translucent dots, optional reference points (a
// mixture's centres) as rings, square axes with the data's padded bounds (or a given window). Browser-safe.

export interface ScatterOptions {
  title?: string;
  /** drawn as rings, e.g. the modes of a mixture (K, 2) */
  centres?: ArrayLike<number>;
  /** window [x0, x1, y0, y1] (default the bounding square of points and centres, padded 10%) */
  extent?: [number, number, number, number];
  /** side in pixels (default 400) */
  size?: number;
  /** reference points drawn too (grey), e.g. real data */
  reference?: ArrayLike<number>;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function bounds(sets: ArrayLike<number>[]): [number, number, number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const s of sets) for (let i = 0; i < s.length; i++) if (Number.isFinite(s[i])) (lo = Math.min(lo, s[i])), (hi = Math.max(hi, s[i]));
  if (!(hi >= lo)) return [-1, 1, -1, 1];
  const pad = Math.max(hi - lo, 1e-6) * 0.1;
  return [lo - pad, hi + pad, lo - pad, hi + pad];
}

/** SVG text of points (N, 2) row-major; non-finite points are skipped */
export function scatterSVG(points: ArrayLike<number>, o: ScatterOptions = {}): string {
  const S = o.size ?? 400, m = 30, e = o.extent ?? bounds([points, o.centres ?? [], o.reference ?? []]);
  const X = (x: number): number => m + ((x - e[0]) / (e[1] - e[0])) * (S - 2 * m), Y = (y: number): number => S - m - ((y - e[2]) / (e[3] - e[2])) * (S - 2 * m);
  const dots = (p: ArrayLike<number>, fill: string, r: number): string[] => {
    const out: string[] = [];
    for (let i = 0; i + 1 < p.length; i += 2) if (Number.isFinite(p[i]) && Number.isFinite(p[i + 1])) out.push(`<circle cx="${X(p[i]).toFixed(1)}" cy="${Y(p[i + 1]).toFixed(1)}" r="${r}" fill="${fill}"/>`);
    return out;
  };
  const rings: string[] = [];
  const c = o.centres ?? [];
  for (let i = 0; i + 1 < c.length; i += 2) rings.push(`<circle cx="${X(c[i]).toFixed(1)}" cy="${Y(c[i + 1]).toFixed(1)}" r="6" fill="none" stroke="#d62728" stroke-width="1.5"/>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${S}" height="${S}" viewBox="0 0 ${S} ${S}" font-family="sans-serif" font-size="12">`,
    `<rect width="${S}" height="${S}" fill="white"/>`,
    `<rect x="${m}" y="${m}" width="${S - 2 * m}" height="${S - 2 * m}" fill="none" stroke="#888"/>`,
    o.title ? `<text x="${S / 2}" y="18" text-anchor="middle">${esc(o.title)}</text>` : '',
    `<text x="${m}" y="${S - 10}">${e[0].toFixed(2)}</text><text x="${S - m}" y="${S - 10}" text-anchor="end">${e[1].toFixed(2)}</text>`,
    ...dots(o.reference ?? [], 'rgba(150,150,150,0.35)', 1.5),
    ...dots(points, 'rgba(31,119,180,0.5)', 1.8),
    ...rings,
    '</svg>',
  ].join('\n') + '\n';
}
