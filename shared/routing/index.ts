// Routing: which channels hear about an incident, and at what severity. Routes are tried in
// order; the first match stops the walk unless it says `continue: true` (Alertmanager's rule).
// Matchers look at the incident as the source sent it, so a severity override made by one
// route never changes which later routes match.
import type { Incident, Severity } from '../incident.ts';
import type { RouteConfig, RouteMatch, TocsinConfig } from '../config/index.ts';
import { assignGroup, DEFAULT_GROUP_INTERVAL_MS, DEFAULT_GROUP_WAIT_MS, type GroupAssignment, type RouteGrouping } from '../grouping/group.ts';

export interface RouteResult {
  /** The incident's severity, or the override of the first matching route that sets one. */
  readonly severity: Severity;
  /** Channel names, each once, in the order routes named them. Empty when nothing matched. */
  readonly channels: readonly string[];
  /** The first matching route's autoResolveAfter (ms), if one sets it. */
  readonly autoResolveAfterMs?: number | undefined;
  /**
   * The channels whose notices are grouped into digests, with the group (of the incident as
   * routed). A channel takes the grouping of the first matching route that names it; absent
   * when no such route groups.
   */
  readonly groups?: Readonly<Record<string, GroupAssignment>> | undefined;
}

/** The route's grouping with its defaults, or undefined when it does not group. */
export function groupingOf(route: RouteConfig): RouteGrouping | undefined {
  if (route.groupBy === undefined) return undefined;
  return { by: route.groupBy, waitMs: route.groupWait ?? DEFAULT_GROUP_WAIT_MS, intervalMs: route.groupInterval ?? DEFAULT_GROUP_INTERVAL_MS };
}

export interface Router {
  route(incident: Incident): RouteResult;
}

export function createRouter(config: Pick<TocsinConfig, 'routes'>): Router {
  const routes = config.routes;
  return {
    route(incident) {
      const channels = new Set<string>();
      let severity: Severity | undefined;
      let autoResolveAfterMs: number | undefined;
      const grouped: [channel: string, routeIndex: number, grouping: RouteGrouping][] = [];
      for (const [routeIndex, route] of routes.entries()) {
        if (!matches(route, incident)) continue;
        severity ??= route.severity;
        autoResolveAfterMs ??= route.autoResolveAfter;
        const grouping = groupingOf(route);
        for (const channel of route.channels) {
          if (channels.has(channel)) continue;
          channels.add(channel);
          if (grouping !== undefined) grouped.push([channel, routeIndex, grouping]);
        }
        if (!route.continue) break;
      }
      const routedSeverity = severity ?? incident.severity;
      const result: RouteResult = { severity: routedSeverity, channels: [...channels], ...(autoResolveAfterMs === undefined ? {} : { autoResolveAfterMs }) };
      if (grouped.length === 0) return result;
      const routed = routedSeverity === incident.severity ? incident : { ...incident, severity: routedSeverity };
      const groups: Record<string, GroupAssignment> = {};
      for (const [channel, routeIndex, grouping] of grouped) groups[channel] = assignGroup(routeIndex, grouping, routed);
      return { ...result, groups };
    },
  };
}

/** One-off routing; build a Router once when routing many incidents. */
export function route(incident: Incident, config: Pick<TocsinConfig, 'routes'>): RouteResult {
  return createRouter(config).route(incident);
}

export function matches(route: Pick<RouteConfig, 'match'>, incident: Incident): boolean {
  const match: RouteMatch | undefined = route.match;
  if (!match) return true;
  const { source } = incident;
  if (match.severity && !match.severity.includes(incident.severity)) return false;
  if (match.source && !match.source.includes(source.kind)) return false;
  if (match.cloud && !match.cloud.includes(source.cloud)) return false;
  if (match.account && (source.account === undefined || !match.account.includes(source.account))) return false;
  // As in Alertmanager, a label the incident does not carry has the value "".
  const label = (name: string): string => (Object.hasOwn(incident.labels, name) ? (incident.labels[name] ?? '') : '');
  for (const [name, value] of Object.entries(match.labels ?? {})) {
    if (label(name) !== value) return false;
  }
  for (const [name, pattern] of Object.entries(match.labelsRegex ?? {})) {
    if (!pattern.test(label(name))) return false;
  }
  return true;
}
