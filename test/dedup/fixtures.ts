// Shared by the dedup store tests: incidents, fresh fingerprints, a settable clock.
import type { DedupDecision } from '../../shared/dedup/index.ts';
import type { Incident } from '../../shared/incident.ts';

export const T0 = Date.parse('2026-11-25T10:00:00.000Z');
export const at = (minutes: number): Date => new Date(T0 + minutes * 60_000);
export const iso = (minutes: number): string => at(minutes).toISOString();

let counter = 0;
/** A fingerprint no other test uses (the dynalite table is shared within a file). */
export function freshFingerprint(): string {
  counter += 1;
  return `cloudwatch:${String(counter).padStart(8, '0')}${Math.random().toString(16).slice(2, 10).padEnd(8, '0')}0000000000000000`;
}

/** A realistic incident: nested maps, unicode, a metric beyond 2^53, optional fields present. */
export function firingAt(fingerprint: string, startMinute: number): Incident {
  return {
    schemaVersion: 1,
    fingerprint,
    status: 'firing',
    severity: 'critical',
    title: 'Disk full on db-1',
    summary: 'Disk /var is 97% full',
    source: { kind: 'cloudwatch', cloud: 'aws', account: '111122223333', region: 'eu-west-1', rule: 'disk-full' },
    resource: { id: 'i-0abc', name: 'db-1' },
    startsAt: iso(startMinute),
    labels: { dimension_InstanceId: 'i-0abc', ünïcode: 'ok ✓' },
    links: [{ title: 'Console', url: 'https://console.aws.amazon.com/cloudwatch/' }],
    metric: { name: 'bytes_used', value: 2 ** 60, threshold: 0.95, unit: 'Bytes' },
  };
}

export function resolvedAt(fingerprint: string, startMinute: number, endMinute: number): Incident {
  return { ...firingAt(fingerprint, startMinute), status: 'resolved', endsAt: iso(endMinute) };
}

export const label = (decision: DedupDecision): string => (decision.action === 'suppressed' ? `suppressed:${decision.reason}` : decision.action);

/** A clock tests move by hand (the stores use it for delivery markers and list()). */
export class ManualClock {
  #now: number;
  constructor(start: Date) {
    this.#now = start.getTime();
  }
  readonly now = (): Date => new Date(this.#now);
  advanceSeconds(seconds: number): void {
    this.#now += seconds * 1000;
  }
}
