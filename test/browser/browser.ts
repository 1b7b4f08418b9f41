// A real Chromium for the browser tests (Debian's, driven by playwright-core),
// pages that record every script error, CSP violation and dialog, and
// screenshots into test-artifacts/.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ARTIFACTS = join(ROOT, 'test-artifacts');
const DOCS = join(ROOT, 'docs/screenshots');

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Uncaught errors, console errors (CSP violations land here) and failed requests. */
  problems: string[];
  /** alert/confirm/prompt dialogs that opened: none ever should. */
  dialogs: string[];
  close(): Promise<void>;
}

export interface ViewOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  isMobile?: boolean;
  reducedMotion?: 'reduce' | 'no-preference';
}

export interface OpenOptions extends ViewOptions {
  /** Console errors that are expected in this test (matched as substrings). */
  allow?: string[];
}

/** A context as a reader's device: a desktop or a phone (with touch), light or dark, British English, UTC. */
export function newViewContext(browser: Browser, options: ViewOptions = {}): Promise<BrowserContext> {
  return browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
    isMobile: options.isMobile ?? false,
    hasTouch: options.isMobile ?? false,
    ...(options.reducedMotion ? { reducedMotion: options.reducedMotion } : {}),
    deviceScaleFactor: 1,
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
}

export async function openPage(browser: Browser, url: string, options: OpenOptions = {}): Promise<WatchedPage> {
  const context = await newViewContext(browser, options);
  const page = await context.newPage();
  const problems: string[] = [];
  const dialogs: string[] = [];
  const allowed = (text: string) => (options.allow ?? []).some((part) => text.includes(part));
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !allowed(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss().catch(() => {});
  });
  await page.goto(url);
  return {
    page,
    context,
    problems,
    dialogs,
    close: () => context.close(),
  };
}

/** Waits until the page's connection indicator says `state`. */
export async function waitForState(page: Page, state: string, timeout = 10_000): Promise<void> {
  await page.locator(`#connection[data-state="${state}"]`).waitFor({ timeout });
}

/** Waits for a live connection on a page that has one (a refused or missing page has none). */
export async function waitForLiveIfConnected(page: Page, timeout?: number): Promise<void> {
  if (await page.locator('#connection').count()) await page.locator('#connection[data-state="live"]').waitFor({ timeout });
}

/**
 * Saves a screenshot in test-artifacts/. The ones marked `docs` also replace
 * the committed copies in docs/screenshots/ when UPDATE_SCREENSHOTS=1, so an
 * ordinary test run leaves the tree untouched.
 */
export async function screenshot(page: Page, name: string, options: { docs?: boolean; fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? false, animations: 'disabled' });
  if (options.docs && process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(file, join(DOCS, `${name}.png`));
  }
  return file;
}
