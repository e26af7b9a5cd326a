/** One measured figure against its baseline, as bench/results.json stores it. */
export interface Metric {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** What the value is compared with: a reference measured in the same run, or the budget the goal sets. */
  readonly baseline: number;
  /** value / baseline. */
  readonly ratio: number;
  /** The goal in words, e.g. "≤ 1.3 x minimum". */
  readonly goal: string;
  readonly pass: boolean;
}

export interface MetricInput {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number;
  readonly goal: string;
  /** Whether the value meets the goal, given the value and its ratio to the baseline. */
  readonly passes: (value: number, ratio: number) => boolean;
}

export function metric(input: MetricInput): Metric {
  const ratio = input.baseline === 0 ? (input.value === 0 ? 1 : Infinity) : input.value / input.baseline;
  return {
    name: input.name,
    value: round(input.value),
    unit: input.unit,
    baseline: round(input.baseline),
    ratio: round(ratio),
    goal: input.goal,
    pass: input.passes(input.value, ratio),
  };
}

/** A value whose goal is a ratio to a baseline measured alongside it: at most `max` times the baseline. */
export function atMost(name: string, value: number, unit: string, baseline: number, max: number, baselineName: string): Metric {
  return metric({ name, value, unit, baseline, goal: `≤ ${max} x ${baselineName}`, passes: (_, ratio) => ratio <= max });
}

/** A value against an absolute budget (the baseline is the budget). */
export function withinBudget(name: string, value: number, unit: string, budget: number): Metric {
  return metric({ name, value, unit, baseline: budget, goal: `≤ ${budget} ${unit}`, passes: v => v <= budget });
}

function round(n: number): number {
  return Number.isFinite(n) ? Math.round(n * 1000) / 1000 : n;
}

/** The table `npx projen bench` prints (and the README shows). */
export function formatTable(metrics: readonly Metric[]): string {
  const header = ['name', 'value', 'unit', 'baseline', 'ratio', 'goal', 'pass'];
  const rows = metrics.map(m => [m.name, String(m.value), m.unit, String(m.baseline), m.ratio.toFixed(2), m.goal, m.pass ? 'yes' : 'NO']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map(w => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
