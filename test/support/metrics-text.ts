// Reading the Prometheus text format in tests.

/** Every sample of `name` in the Prometheus text format, in order: `name{a="1",b="2"} value`. */
export function samplesOf(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1] as string, l[2] as string]));
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the first sample of `name` with these labels (others may be there too); 0 when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const found = samplesOf(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found?.value ?? 0;
}
