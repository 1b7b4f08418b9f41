// axe-core in the page under test. Evaluated through the DevTools protocol,
// so the pages' strict Content-Security-Policy stays in force.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url)), 'utf8');

/** Impacts that fail the build: a reader who depends on assistive technology is blocked or badly hindered. */
const BLOCKING = new Set(['serious', 'critical']);

export interface Finding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
  summary: string;
}

/**
 * Runs axe on the page as it is now; returns the serious and critical
 * violations. `rules` limits the run to those rules (all of them by default).
 */
export async function axeFindings(page: Page, rules?: string[]): Promise<Finding[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (only) => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: any[] }> } }).axe;
    const result = await axe.run(document, {
      resultTypes: ['violations'],
      ...(only ? { runOnly: { type: 'rule', values: only } } : {}),
    });
    return result.violations.map((violation) => ({
      id: violation.id as string,
      impact: (violation.impact ?? 'unknown') as string,
      help: violation.help as string,
      nodes: (violation.nodes as any[]).slice(0, 5).map((node) => ({
        target: (node.target as unknown[]).map(String).join(' '),
        summary: String(node.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 300),
      })),
    }));
  }, rules ?? null);
  return violations
    .filter((violation) => BLOCKING.has(violation.impact))
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target),
      summary: violation.nodes.map((node) => node.summary).join(' | '),
    }));
}

/** One line per finding, for a failure message. */
export function describeFindings(where: string, findings: Finding[]): string[] {
  return findings.map((finding) => `${where}: ${finding.id} (${finding.impact}) ${finding.help}\n    targets: ${finding.targets.join(', ')}\n    ${finding.summary}`);
}
