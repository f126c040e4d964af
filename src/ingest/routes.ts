import type { RouteConfig } from "../config/types.js";

/**
 * Longest-prefix route matching on path segments: `/line` matches `/line` and `/line/x`, not
 * `/linex`. Routes are sorted once, longest prefix first.
 */
export function createRouteMatcher(routes: RouteConfig[]): (path: string) => RouteConfig | null {
  const ordered = [...routes].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
  return function matchRoute(path: string): RouteConfig | null {
    for (const route of ordered) {
      const prefix = route.pathPrefix.endsWith("/") ? route.pathPrefix.slice(0, -1) : route.pathPrefix;
      if (prefix === "" || path === prefix || path.startsWith(`${prefix}/`)) return route;
    }
    return null;
  };
}
