// What the dedup decision is told about an incident besides the incident itself: what holds it
// now (a silence in force, an open maintenance window) and when it auto-resolves. One function
// for the local pipeline and the cloud dispatch, so both decide alike.
import type { TocsinConfig } from '../config/schema.ts';
import type { DecideContext } from '../dedup/decide.ts';
import type { Incident } from '../incident.ts';
import type { Router } from '../routing/index.ts';
import { holdFor, type CompiledSilence } from '../silences/silence.ts';

export interface ContextSources {
  readonly config: TocsinConfig;
  readonly router: Router;
  /** Silences in force at `nowMs` (none in the cloud: silences are kept by the local server). */
  readonly silences?: readonly CompiledSilence[] | undefined;
}

export function decideContextFor(incident: Incident, nowMs: number, { config, router, silences = [] }: ContextSources): DecideContext {
  // The first matching route that sets autoResolveAfter wins over the default.
  const autoResolveAfterMs = router.route(incident).autoResolveAfterMs ?? config.autoResolveAfterMs ?? 0;
  return { hold: holdFor(incident, nowMs, silences, config.maintenance ?? []), autoResolveAfterMs };
}
