// Prometheus metrics of one process. Counters are bumped per event, per
// request or per connection, never per delivery, so metrics stay off the hot
// path. Process and Node.js metrics carry their conventional names.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = {
    registry,
    connections: new Gauge({ name: 'newswire_ws_connections', help: 'Open WebSocket connections', registers: [registry] }),
    subscriptions: new Gauge({
      name: 'newswire_ws_subscriptions',
      help: 'Topic subscriptions held by open connections ("all" counts once)',
      registers: [registry],
    }),
    events: new Counter({
      name: 'newswire_events_total',
      help: 'Events fanned out by this process',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'newswire_deliveries_total',
      help: 'Event frames offered to connections',
      registers: [registry],
    }),
    slowConsumerCloses: new Counter({
      name: 'newswire_slow_consumer_closes_total',
      help: 'Connections closed because their send buffer went over the bound',
      registers: [registry],
    }),
    heartbeatCloses: new Counter({
      name: 'newswire_heartbeat_closes_total',
      help: 'WebSocket connections cut because they did not answer a heartbeat ping in time',
      registers: [registry],
    }),
    replayedEvents: new Counter({
      name: 'newswire_replayed_events_total',
      help: 'Events sent to resuming clients from the log',
      registers: [registry],
    }),
    resets: new Counter({
      name: 'newswire_resets_total',
      help: 'Reset frames sent (stale cursor, other epoch, log replaced)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    publishes: new Counter({
      name: 'newswire_api_writes_total',
      help: 'Newsroom API writes by outcome',
      labelNames: ['action', 'outcome'] as const,
      registers: [registry],
    }),
    publishLatency: new Histogram({
      name: 'newswire_publish_duration_seconds',
      help: 'Time from receiving a write to the log holding it',
      labelNames: ['action'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    backfilledEvents: new Counter({
      name: 'newswire_bus_backfilled_events_total',
      help: 'Events the bus read from the log to fill a gap',
      registers: [registry],
    }),
    gaps: new Counter({
      name: 'newswire_bus_gaps_total',
      help: 'Gaps detected between the bus and the log',
      registers: [registry],
    }),
    busResubscribes: new Counter({
      name: 'newswire_bus_resubscribes_total',
      help: 'Times the Redis subscriber connection came back and the gap was read from the log',
      registers: [registry],
    }),
    busLag: new Histogram({
      name: 'newswire_bus_lag_seconds',
      help: 'Time from the log accepting an event to this process fanning it out',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'newswire_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'newswire_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route pattern',
      labelNames: ['route'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    rejectedWrites: new Counter({
      name: 'newswire_api_rejected_writes_total',
      help: 'Newsroom API writes refused before the store, by action and reason',
      labelNames: ['action', 'reason'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'newswire_auth_failures_total',
      help: 'Requests with a missing or wrong publisher token, and refusals of addresses that kept failing',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    refusedConnections: new Counter({
      name: 'newswire_refused_total',
      help: 'Connections, upgrades and requests refused by a per-address limit or the process ceiling',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    ceilings: new Gauge({
      name: 'newswire_connection_ceiling',
      help: 'Most connections this process accepts (from its open-files limit): all sockets, and WebSockets',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    viewBuilds: new Counter({
      name: 'newswire_view_reads_total',
      help: 'Store reads of item lists for pages, resets, lists and feeds (cache misses)',
      labelNames: ['detail'] as const,
      registers: [registry],
    }),
    cacheBytes: new Gauge({
      name: 'newswire_cache_bytes',
      help: 'Bytes held by the bounded caches (views, feeds, recent events)',
      labelNames: ['cache'] as const,
      registers: [registry],
    }),
    outbound: {
      planned: new Counter({
        name: 'newswire_outbound_planned_total',
        help: 'Outbound deliveries planned from the log (push notifications, WebSub posts)',
        labelNames: ['channel'] as const,
        registers: [registry],
      }),
      settled: new Counter({
        name: 'newswire_outbound_settled_total',
        help: 'Outbound delivery attempts by what became of them: sent, retry, dropped, gone (recipient removed)',
        labelNames: ['channel', 'outcome'] as const,
        registers: [registry],
      }),
      latency: new Histogram({
        name: 'newswire_outbound_send_duration_seconds',
        help: 'Time to send one outbound delivery and hear back',
        labelNames: ['channel'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
      backlog: new Gauge({
        name: 'newswire_outbound_backlog',
        help: 'Outbound deliveries planned and not yet settled (the queue), per channel',
        labelNames: ['channel'] as const,
        registers: [registry],
      }),
      subscriptions: new Gauge({
        name: 'newswire_outbound_subscriptions',
        help: 'Subscriptions per channel (push, WebSub)',
        labelNames: ['channel'] as const,
        registers: [registry],
      }),
    },
    feedRenders: new Counter({
      name: 'newswire_feed_renders_total',
      help: 'Feed renders (cache misses)',
      labelNames: ['format'] as const,
      registers: [registry],
    }),
    // The event-stream twin of `connections`, registered last: /metrics lists metrics in that order.
    sseStreams: new Gauge({ name: 'newswire_sse_streams', help: 'Open event streams (GET /sse)', registers: [registry] }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
