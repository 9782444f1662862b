/** One row of the table bench/run-all.ts prints: Hala's figure, its peers', the target and whether it is met. */
export interface BenchRow {
  figure: string;
  hala: string;
  peers: Record<string, string>;
  target: string;
  met: boolean | null;
}

/** Prints the last stdout line every benchmark ends with, the one bench/run-all.ts collects. */
export function printBenchLine(bench: string, rows: BenchRow[], sizes: string, machine: string): void {
  console.log(JSON.stringify({ bench, rows, sizes, machine }));
}
