import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * Helpers for the storefront journey tests (test/e2e/*journey*.e2e-spec.ts): axe-core run in the
 * page, screenshots at desktop and phone width, and log-in through the form.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

/** `npm run screenshots` sets SCREENSHOTS_DIR=docs/screenshots; otherwise .local/screenshots. */
export function screenshotDir(): string {
  const dir = process.env.SCREENSHOTS_DIR || '.local/screenshots';
  const abs = isAbsolute(dir) ? dir : join(ROOT, dir);
  mkdirSync(abs, { recursive: true });
  return abs;
}

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/**
 * A palette PNG (about a third of the size, so the committed screenshots stay small), with the
 * sharp that Next.js installs; the screenshot as taken when sharp is not there.
 */
async function smaller(png: Buffer): Promise<Buffer> {
  try {
    const { default: sharp } = await import('sharp');
    return await sharp(png)
      .png({ palette: true, quality: 80, compressionLevel: 9, effort: 7 })
      .toBuffer();
  } catch {
    return png;
  }
}

/** The page at desktop width and at 390 px (`<name>-desktop.png`, `<name>-phone.png`). */
export async function screenshots(page: Page, name: string): Promise<void> {
  const dir = screenshotDir();
  const size = page.viewportSize() ?? DESKTOP;
  for (const [suffix, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(viewport);
    // from the top: a sticky header would otherwise be drawn where the page was scrolled to
    await page.evaluate('window.scrollTo(0, 0)');
    const png = await page.screenshot({ fullPage: true });
    writeFileSync(join(dir, `${name}-${suffix}.png`), await smaller(png));
  }
  await page.setViewportSize(size);
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * Runs axe-core (WCAG 2.1 A/AA rules) in the page; returns the serious and critical violations
 * as readable lines (an empty list when there are none).
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  // A string, not a function: the test project is compiled without the DOM library.
  const violations = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations)`,
  )) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} — ${v.nodes
          .slice(0, 3)
          .map((n) => JSON.stringify(n.target))
          .join(', ')}`,
    );
}

/**
 * At phone width, the elements that stick out to the right of the viewport (outside any
 * sideways-scrolling box): empty when the page fits 390 px.
 */
export async function phoneOverflow(page: Page): Promise<string[]> {
  const size = page.viewportSize() ?? DESKTOP;
  await page.setViewportSize(PHONE);
  // A string, not a function: the test project is compiled without the DOM library.
  const offenders = (await page.evaluate(`(() => {
    const w = window.innerWidth;
    if (document.documentElement.scrollWidth <= w + 1) return [];
    const scrolls = (el) => {
      for (let p = el.parentElement; p; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return true;
      }
      return false;
    };
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > w + 1 && r.width > 0 && !scrolls(el)) {
        out.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') + ' right=' + Math.round(r.right));
      }
      if (out.length >= 5) break;
    }
    return out.length ? out : ['(document wider than the viewport)'];
  })()`)) as string[];
  await page.setViewportSize(size);
  return offenders;
}

/** The page has no horizontal scrollbar at phone width (content fits 390 px). */
export async function fitsPhoneWidth(page: Page): Promise<boolean> {
  return (await phoneOverflow(page)).length === 0;
}

export async function newJourneyContext(
  browser: Browser,
  locale: 'en-US' | 'zh-CN' = 'en-US',
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale, viewport: DESKTOP, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  return { context, page };
}

/** After a client-side navigation: the route's loading state has given way to the page. */
export async function ready(page: Page): Promise<void> {
  await page.getByTestId('loading').waitFor({ state: 'detached' });
  await page.locator('main h1').first().waitFor();
}

/** Logs in through /login?next=… with the given field labels (English by default). */
export async function logIn(
  page: Page,
  base: string,
  who: { email: string; password: string },
  next: string,
  labels = { email: 'Email', password: 'Password', submit: 'Log in' },
): Promise<void> {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel(labels.email).fill(who.email);
  await page.getByLabel(labels.password).fill(who.password);
  await page.getByRole('button', { name: labels.submit }).click();
  await page.waitForURL(`${base}${next}`);
  await ready(page);
}
