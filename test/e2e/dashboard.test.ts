import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { getJson, startHookbuffer, type TestHookbuffer, waitFor } from "../helpers/hookbuffer.js";
import { header, type Recorder, startRecorder } from "../helpers/recorder.js";

const CHROMIUM = "/usr/bin/chromium";
// Locally a missing browser skips (with the reason in the test name); CI installs it and must run.
const skip = !existsSync(CHROMIUM) && !process.env.CI;
const title = skip
  ? `dashboard in a real browser (SKIPPED: ${CHROMIUM} missing; apt-get install -y chromium)`
  : "dashboard in a real browser";
const TOKEN = "dashboard-e2e-token";
// The README's screenshot is refreshed on request (UPDATE_SCREENSHOT=1); ordinary runs write to test-results/.
const SCREENSHOT = resolve(
  import.meta.dirname,
  process.env.UPDATE_SCREENSHOT ? "../../docs/dashboard.png" : "../../test-results/dashboard.png",
);

let hb: TestHookbuffer;
let up: Recorder;
let browser: Browser;
let page: Page;
let failing = false;

const post = (url: string, body: object) =>
  fetch(url, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const cardValue = (key: string) => page.getAttribute(`[data-testid="card-${key}"]`, "data-value");

describe.skipIf(skip)(title, () => {
  beforeAll(async () => {
    up = await startRecorder();
    up.reply(() => ({ status: failing ? 500 : 200 }));
    hb = await startHookbuffer({
      yaml: `admin: {token: ${TOKEN}}
routes:
  - name: line
    path: /callback
    upstream: ${up.url}
    delivery: {retry: {schedule: [0s]}, breaker: {failures: 0}}
  - name: github
    path: /github
    upstream: http://127.0.0.1:1
    delivery: {retry: {schedule: [0s]}, breaker: {failures: 2, cooldown: 1h}}
`,
    });
    for (let i = 0; i < 4; i++)
      await post(`${hb.ingestUrl}/callback`, { events: [{ type: "message", n: i }] });
    await waitFor(() => up.requests.length === 4, 5_000, "four deliveries");
    failing = true;
    for (let i = 0; i < 3; i++)
      await post(`${hb.ingestUrl}/callback`, { events: [{ type: "follow", n: i }] });
    // The github route's breaker opens after two failures; an event sent after that stays pending.
    for (let i = 0; i < 2; i++) await post(`${hb.ingestUrl}/github/push`, { ref: "refs/heads/main", n: i });
    await waitFor(
      async () =>
        (await getJson(`${hb.adminUrl}/stats`, TOKEN)).routes.find((r) => r.name === "github")?.state ===
        "open",
      10_000,
      "the github breaker to open",
    );
    await post(`${hb.ingestUrl}/github/push`, { ref: "refs/heads/main", n: 2 });
    await waitFor(
      async () => {
        const s = await getJson(`${hb.adminUrl}/stats`, TOKEN);
        return s.totals.dead === 5 && s.queue.delivering === 0;
      },
      10_000,
      "failures to settle",
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(10_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await hb?.stop();
    await up?.close();
  });

  test("the page loads without auth, shows only a login form and holds no data", async () => {
    const res = await page.goto(`${hb.adminUrl}/ui`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toContain("script-src 'nonce-");
    await page.waitForSelector("#login:not([hidden])");
    expect(await page.isHidden("#app")).toBe(true);
    expect(await page.locator("#cards > *").count()).toBe(0);
    const html = await res?.text();
    expect(html).not.toContain("github/push");

    await page.fill("#token", "wrong-token");
    await page.click("#login button[type=submit]");
    await page.waitForSelector("#login-error:has-text('wrong token')");
    expect(await page.isHidden("#app")).toBe(true);
  });

  test("after login the numbers match /stats, routes show their breaker state, and the token stays out of URLs", async () => {
    await page.fill("#token", TOKEN);
    await page.click("#login button[type=submit]");
    await page.waitForSelector("#app:not([hidden]) [data-testid=card-received]");
    const stats = await getJson(`${hb.adminUrl}/stats`, TOKEN);
    for (const key of ["received", "delivered", "failed_attempts", "dead"] as const) {
      expect(Number(await cardValue(key)), key).toBe(stats.totals[key]);
    }
    expect(Number(await cardValue("pending"))).toBe(stats.queue.pending);
    expect(Number(await cardValue("queue_dead"))).toBe(stats.queue.dead);
    expect(await page.textContent('[data-testid="card-received"] .value')).toBe(
      String(stats.totals.received),
    );

    const errorRows = await page.locator("[data-testid=error-row]").allTextContents();
    expect(errorRows).toHaveLength(stats.errors.length);
    for (const [i, e] of stats.errors.entries())
      expect(errorRows[i]).toBe(`${e.reason}${e.detail}${e.count}`);
    expect(await page.locator("svg.chart rect[data-reason=error_status_code]").count()).toBeGreaterThan(0);

    expect(await page.textContent("[data-testid=route-github] [data-testid=route-state]")).toBe("open");
    expect(await page.textContent("[data-testid=route-github]")).toContain(
      "25001 WEBHOOK_DISABLED_FAILED_OTHER",
    );
    expect(await page.textContent("[data-testid=route-line] [data-testid=route-state]")).toBe("active");

    expect(page.url()).toBe(`${hb.adminUrl}/ui`);
    expect(await page.evaluate("sessionStorage.getItem('hookbuffer.token')")).toBe(TOKEN);
  });

  test("redeliver on a dead event delivers it, and pause/resume changes the route", async () => {
    failing = false;
    await page.selectOption("#f-route", "line");
    await page.selectOption("#f-status", "dead");
    // The list re-renders when the filtered fetch returns: wait for that render, not for the old rows.
    await waitFor(
      async () => {
        const all = await page.locator("[data-testid=event-row]").count();
        const wanted = await page
          .locator("[data-testid=event-row][data-status=dead][data-route=line]")
          .count();
        return all > 0 && all === wanted;
      },
      10_000,
      "the list filtered to line's dead events",
    );
    expect(await page.locator("[data-testid=event-row]:not([data-status=dead])").count()).toBe(0);
    const row = page.locator("[data-testid=event-row][data-status=dead]").first();
    const id = (await row.getAttribute("data-id")) as string;
    await row.locator("[data-testid=redeliver]").click();

    await page.selectOption("#f-status", "delivered");
    await page.waitForSelector(`[data-testid=event-row][data-id="${id}"][data-status=delivered]`);
    expect(
      up.requests.some(
        (r) => header(r, "x-hookbuffer-event-id") === id && header(r, "x-hookbuffer-attempt") === "2",
      ),
    ).toBe(true);

    await page.click("[data-testid=route-line] button:has-text('Pause')");
    await page.waitForSelector("[data-testid=route-line] [data-testid=route-state]:has-text('paused')");
    await page.click("[data-testid=route-line] button:has-text('Resume')");
    await page.waitForSelector("[data-testid=route-line] [data-testid=route-state]:has-text('active')");
  });

  test("redeliver all dead queues the rest, and the page is captured for the docs", async () => {
    page.once("dialog", (d) => void d.accept());
    await page.click("#redeliver-dead"); // route filter is still "line"
    await page.waitForSelector("#toast:has-text('2 dead events queued')");
    await waitFor(
      async () => (await getJson(`${hb.adminUrl}/stats?route=line`, TOKEN)).queue.dead === 0,
      5_000,
      "line dead events delivered",
    );

    await page.selectOption("#f-route", "");
    await page.selectOption("#f-status", "");
    await page.waitForSelector("[data-testid=event-row][data-status=pending]"); // github's held event
    await page.waitForSelector("#toast:not(.show)", { state: "attached" });
    await page.waitForTimeout(300); // the toast fades out
    mkdirSync(resolve(SCREENSHOT, ".."), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });

  test("the search box finds events by body pointer; the detail shows masked headers, the body and each answer; redeliver and discard work there", async () => {
    failing = true;
    up.reply(() => ({ status: failing ? 500 : 200, body: failing ? "bot says no" : "ok" }));
    const send = (userId: string) =>
      fetch(`${hb.ingestUrl}/callback`, {
        method: "POST",
        body: JSON.stringify({ events: [{ type: "message", source: { userId } }] }),
        headers: { "content-type": "application/json", "X-Line-Signature": "very-secret-signature" },
      });
    await send("U-search-1");
    await send("U-search-2");
    await waitFor(
      async () => (await getJson(`${hb.adminUrl}/stats?route=line`, TOKEN)).queue.dead === 2,
      10_000,
      "both searched events dead",
    );
    await page.selectOption("#f-route", "");
    await page.selectOption("#f-status", "");
    await page.fill("#f-search", "json=/events/0/source/userId:U-search-1");
    await page.click("#search button[type=submit]");
    await waitFor(
      async () => (await page.locator("[data-testid=event-row]").count()) === 1,
      10_000,
      "the list narrowed to one event",
    );
    expect(await page.textContent("[data-testid=explain]")).toMatch(/Search scanned \d+ rows/);
    const row = page.locator("[data-testid=event-row]").first();
    const id = (await row.getAttribute("data-id")) as string;

    await row.locator("[data-testid=open-event]").click();
    await page.waitForSelector(`[data-testid=detail-id]:has-text("${id}")`);
    const headers = await page.textContent("[data-testid=detail-headers]");
    expect(headers).toContain("X-Line-Signature[redacted]");
    expect(await page.content()).not.toContain("very-secret-signature");
    expect(await page.getAttribute("[data-testid=detail-body]", "data-encoding")).toBe("json");
    expect(await page.textContent("[data-testid=detail-body]")).toContain('"userId": "U-search-1"');
    expect(await page.textContent("[data-testid=attempt-status]")).toBe("500 (11 B)");
    expect(await page.textContent("[data-testid=attempt-body]")).toBe("bot says no");

    failing = false;
    await page.click("[data-testid=detail-redeliver]");
    await waitFor(
      async () => {
        await page.locator(`[data-testid=event-row][data-id="${id}"] [data-testid=open-event]`).click();
        return (await page.textContent("[data-testid=detail-status]")) === "delivered";
      },
      10_000,
      "the redelivered event delivered, as the detail shows",
    );
    expect(await page.locator("[data-testid=attempt-row]").count()).toBe(2);
    expect(await page.textContent("[data-testid=detail-history]")).toContain("redeliver");

    page.once("dialog", (d) => void d.accept());
    await page.click("[data-testid=detail-discard]");
    await page.waitForSelector("[data-testid=detail]", { state: "hidden" });
    await waitFor(
      async () => (await page.locator(`[data-testid=event-row][data-id="${id}"]`).count()) === 0,
      10_000,
      "the discarded event gone from the list",
    );
    expect(
      (await fetch(`${hb.adminUrl}/events/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(404);
  });
});
