import type { FC } from "hono/jsx";
import { CLIENT_APP } from "./client-app.js";
import { CLIENT_RENDER } from "./client-render.js";
import { STYLES } from "./styles.js";

const WINDOWS: Array<[string, number]> = [
  ["Last hour", 3_600_000],
  ["Last 6 hours", 21_600_000],
  ["Last 24 hours", 86_400_000],
  ["Last 7 days", 604_800_000],
];
const STATUSES = ["pending", "delivering", "delivered", "dead", "filtered"];
const REASONS = ["could_not_connect", "request_timeout", "error_status_code", "unclassified"];

/**
 * The dashboard shell. It carries no data at all (it is served without auth so the login form can
 * load); the inline script fills it from the authenticated JSON API.
 */
export const DashboardPage: FC<{ nonce: string }> = ({ nonce }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <title>hookbuffer</title>
      <style nonce={nonce} dangerouslySetInnerHTML={{ __html: STYLES }} />
    </head>
    <body>
      <header>
        <h1>
          hook<span>buffer</span>
        </h1>
        <span id="status" />
        <span class="spacer" />
        <select id="window" aria-label="Time window">
          {WINDOWS.map(([label, ms]) => (
            <option value={String(ms)}>{label}</option>
          ))}
        </select>
        <button id="logout" type="button">
          Sign out
        </button>
      </header>
      <form id="login" hidden>
        <h2>Sign in</h2>
        <p>Enter the admin token (admin.token). It is kept in this tab's session storage only.</p>
        <input
          id="token"
          type="password"
          autocomplete="current-password"
          placeholder="Admin token"
          aria-label="Admin token"
        />
        <button class="primary" type="submit">
          Sign in
        </button>
        <div id="login-error" class="error" />
      </form>
      <main id="app" hidden>
        <section>
          <h2>Overview</h2>
          <div id="cards" class="cards" />
        </section>
        <div class="grid2">
          <section>
            <h2>Failed attempts by reason</h2>
            <div id="chart" />
          </section>
          <section>
            <h2>Errors by reason and detail</h2>
            <div id="errors" />
          </section>
        </div>
        <section>
          <h2>Routes</h2>
          <div id="routes" />
        </section>
        <section>
          <h2>
            Events
            <span class="filters">
              <select id="f-status" aria-label="Status">
                <option value="">all statuses</option>
                {STATUSES.map((s) => (
                  <option value={s}>{s}</option>
                ))}
              </select>
              <select id="f-route" aria-label="Route">
                <option value="">all routes</option>
              </select>
              <select id="f-reason" aria-label="Reason">
                <option value="">all reasons</option>
                {REASONS.map((r) => (
                  <option value={r}>{r}</option>
                ))}
              </select>
            </span>
            <span class="spacer" />
            <button id="redeliver-dead" class="danger" type="button">
              Redeliver dead matching
            </button>
          </h2>
          <form id="search" class="search">
            <input
              id="f-search"
              type="search"
              aria-label="Search"
              placeholder="json=/events/0/source/userId:U123  header=x-github-event:push  path=/line/*  last_status=503"
            />
            <button type="submit">Search</button>
          </form>
          <div id="events" />
          <div class="pager">
            <span id="explain" class="muted" data-testid="explain" />
            <span class="spacer" />
            <button id="events-first" type="button">
              First page
            </button>
            <button id="events-more" type="button" hidden>
              Next page
            </button>
          </div>
        </section>
        <section id="detail" data-testid="detail" hidden />
      </main>
      <div id="toast" role="status" />
      <script
        nonce={nonce}
        dangerouslySetInnerHTML={{ __html: `"use strict";${CLIENT_RENDER}${CLIENT_APP}` }}
      />
    </body>
  </html>
);
