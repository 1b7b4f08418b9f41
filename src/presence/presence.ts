// How many readers are connected, per topic, across every process: what the
// newsroom console shows beside its list. Each process knows its own
// sessions (the hub); with Redis each one reports them into the store with an
// expiry, and a read sums the reports of the processes still alive.

export interface ReaderCounts {
  /** Live connections following each topic (a reader of several topics counts in each). */
  topics: Record<string, number>;
  /** Connections following every topic (the front page, the console). */
  everyTopic: number;
  /** Every live connection: topic pages, the front page and story pages. */
  total: number;
  /** Processes whose counts are in the sum. */
  processes: number;
}

export interface LocalCounts {
  topics: Record<string, number>;
  everyTopic: number;
  total: number;
}

export interface Presence {
  start(): void;
  /** The counts of every process that reported within the expiry. */
  read(): Promise<ReaderCounts>;
  /** Stops reporting and takes this process's counts out at once. */
  stop(): Promise<void>;
}

/** One process: its own sessions are every reader there is. */
export class LocalPresence implements Presence {
  constructor(private readonly local: () => LocalCounts) {}

  start(): void {}

  async read(): Promise<ReaderCounts> {
    return { ...this.local(), processes: 1 };
  }

  async stop(): Promise<void> {}
}

/** Adds reports together; topics are ordered by readers, most first. */
export function sumCounts(reports: readonly LocalCounts[]): ReaderCounts {
  const topics = new Map<string, number>();
  let everyTopic = 0;
  let total = 0;
  for (const report of reports) {
    for (const [topic, count] of Object.entries(report.topics)) topics.set(topic, (topics.get(topic) ?? 0) + count);
    everyTopic += report.everyTopic;
    total += report.total;
  }
  const ordered = [...topics].filter(([, count]) => count > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return { topics: Object.fromEntries(ordered), everyTopic, total, processes: reports.length };
}
