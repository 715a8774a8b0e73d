// Every incident of every source fixture, as each notice, renders into a request the incident
// tool's documented schema accepts (the same zod schemas the local stand-ins enforce).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DELIVERY_EVENTS } from '../../shared/channels/channel.ts';
import { opsgenieChannel } from '../../shared/channels/opsgenie.ts';
import { pagerDutyChannel } from '../../shared/channels/pagerduty.ts';
import { splunkOnCallChannel } from '../../shared/channels/splunk-oncall.ts';
import { SOURCE_KINDS, type Incident } from '../../shared/incident.ts';
import { normalizeBytes } from '../../shared/normalize.ts';
import { opsgenieCreateSchema, pagerDutyEventSchema, splunkOnCallAlertSchema } from '../helpers/incident-tools.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const receivedAt = new Date('2026-11-25T02:00:00.000Z');
const cases: [string, Incident][] = SOURCE_KINDS.flatMap((kind) =>
  readdirSync(join(FIXTURES, kind))
    .filter((file) => file.endsWith('.json') && !file.startsWith('rejected-'))
    .flatMap((file) =>
      normalizeBytes(readFileSync(join(FIXTURES, kind, file)), { receivedAt, source: kind }).incidents.map((incident, index): [string, Incident] => [`${kind}/${file}#${String(index)}`, incident]),
    ),
);

describe.each(cases)('%s', (_name, incident) => {
  it.each(DELIVERY_EVENTS)('%s', (event) => {
    const pagerDuty = pagerDutyEventSchema.safeParse({ routing_key: 'k'.repeat(32), ...pagerDutyChannel.render(event, incident) });
    expect(pagerDuty.error?.issues ?? []).toEqual([]);
    expect(pagerDuty.data?.dedup_key).toBe(incident.fingerprint);

    const splunk = splunkOnCallAlertSchema.safeParse(splunkOnCallChannel.render(event, incident));
    expect(splunk.error?.issues ?? []).toEqual([]);
    expect(splunk.data?.entity_id).toBe(incident.fingerprint);

    const opsgenie = opsgenieChannel.render(event, incident);
    if (opsgenie.action === 'create') {
      const create = opsgenieCreateSchema.safeParse(opsgenie.body);
      expect(create.error?.issues ?? []).toEqual([]);
      expect(create.data?.alias).toBe(incident.fingerprint);
    } else {
      expect(opsgenie.alias).toBe(incident.fingerprint);
      expect(opsgenie.body.note.length).toBeLessThanOrEqual(25_000);
    }
  });
});
