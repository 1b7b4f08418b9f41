// Reading a server's Prometheus /metrics in the tests.

/** The /metrics text of a server. */
export async function metricsText(server: { url: string }): Promise<string> {
  return (await fetch(`${server.url}/metrics`)).text();
}

/**
 * The value of one series, named with its labels as /metrics prints them
 * (`newswire_outbound_backlog{channel="push"}`), from a /metrics text or
 * fetched from a server; `missing` when the series is not there.
 */
export async function metric(textOrServer: string | { url: string }, name: string, missing = 0): Promise<number> {
  const text = typeof textOrServer === 'string' ? textOrServer : await metricsText(textOrServer);
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : missing;
}
