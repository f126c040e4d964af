import { randomBytes } from "node:crypto";
import type { Hono as HonoApp } from "hono";
import { Hono } from "hono";
import { renderError } from "../../http/errors.js";
import { DashboardPage } from "./page.js";

/**
 * Serves the dashboard at /ui in front of the admin app. The page is public (it holds no data and
 * must load to show the login form); every other path goes on to `admin`, bearer auth included.
 */
export function createDashboardApp(deps: { admin: HonoApp }): Hono {
  const app = new Hono();
  app.get("/ui", function dashboard(c) {
    // A fresh nonce per response: only our own inline script and style may run (CSP Level 3).
    const nonce = randomBytes(16).toString("base64");
    c.header(
      "Content-Security-Policy",
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
    c.header("Cache-Control", "no-store");
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    return c.html(`<!doctype html>${(<DashboardPage nonce={nonce} />).toString()}`);
  });
  app.get("/ui/", (c) => c.redirect("/ui", 308));
  app.all("*", (c) => deps.admin.fetch(c.req.raw, c.env));
  app.onError(renderError);
  return app;
}
