// The incidents page at `/`: server-rendered HTML, a small stylesheet and a small script (no
// framework, no build step). Open incidents first, each with its state (acknowledged,
// silenced, held), its timeline and buttons to acknowledge and to silence; then the silences.
// Everything an alert carries is escaped; the Content-Security-Policy allows only this
// server's own script and style, so even a missed escape could not run code.
import type { HistoryEntry } from '../../shared/local/history.ts';
import type { IncidentRecord } from '../../shared/dedup/record.ts';
import type { SilenceView } from '../../shared/local/silences.ts';
import { SEVERITIES } from '../../shared/incident.ts';

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

export interface PageIncident {
  readonly record: IncidentRecord;
  readonly history: readonly HistoryEntry[];
}

function age(fromIso: string, nowMs: number): string {
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(fromIso)) / 1000));
  if (seconds < 120) return `${String(seconds)}s`;
  if (seconds < 7_200) return `${String(Math.round(seconds / 60))}m`;
  if (seconds < 172_800) return `${String(Math.round(seconds / 3_600))}h`;
  return `${String(Math.round(seconds / 86_400))}d`;
}

function describeEntry(entry: HistoryEntry): string {
  switch (entry.kind) {
    case 'received':
      return `received ${entry.status} on ${entry.path}`;
    case 'decision': {
      const timer = entry.trigger === 'timer' ? ' (scheduled)' : '';
      if (entry.action === 'suppressed') return `not told: ${entry.reason ?? ''}${entry.held ? ` by ${entry.held.kind} ${entry.held.id}` : ''}${timer}`;
      return `${entry.action}${timer} → ${entry.channels && entry.channels.length > 0 ? entry.channels.join(', ') : 'no route matched'}`;
    }
    case 'delivery':
      return `${entry.channel} ${entry.event}: ${entry.outcome} (attempt ${String(entry.attempt)})${entry.reason ? `: ${entry.reason}` : ''}`;
    case 'ack':
      return entry.acknowledged ? `acknowledged by ${entry.by ?? '?'}` : 'acknowledgement taken back';
  }
}

function stateBadges(record: IncidentRecord): string {
  const badges: string[] = [`<span class="badge ${record.status}">${record.status}</span>`];
  if (record.acknowledged) badges.push(`<span class="badge ack">acknowledged by ${escapeHtml(record.acknowledged.by)}</span>`);
  if (record.held) {
    const what = record.held.kind === 'silence' ? 'silenced' : `maintenance ${escapeHtml(record.held.id)}`;
    badges.push(`<span class="badge held" title="${escapeHtml(`${record.held.kind} ${record.held.id}`)}">${what}${record.held.until ? ` until ${escapeHtml(record.held.until)}` : ''}</span>`);
  }
  if (record.untold === true) badges.push('<span class="badge untold">not told yet</span>');
  if (record.flapping) badges.push('<span class="badge flapping">flapping</span>');
  return badges.join(' ');
}

function incidentRow({ record, history }: PageIncident, nowMs: number): string {
  const { incident } = record;
  const fingerprint = escapeHtml(record.fingerprint);
  const resource = incident.resource?.name ?? incident.resource?.id ?? '';
  const firing = record.status === 'firing';
  const actions = firing
    ? record.acknowledged
      ? `<button type="button" data-action="unack" data-fingerprint="${fingerprint}">Unacknowledge</button>`
      : `<button type="button" data-action="ack" data-fingerprint="${fingerprint}">Acknowledge</button>`
    : '';
  const timeline = history.map((entry) => `<li><time>${escapeHtml(entry.at)}</time> ${escapeHtml(describeEntry(entry))}</li>`).join('');
  return `<tr class="incident ${record.status}" id="incident-${fingerprint}" data-fingerprint="${fingerprint}">
<td><span class="severity ${incident.severity}">${incident.severity}</span></td>
<td class="title"><strong>${escapeHtml(incident.title)}</strong>${incident.summary ? `<div class="summary">${escapeHtml(incident.summary)}</div>` : ''}
<details><summary>timeline (${String(history.length)})</summary><ol class="timeline">${timeline}</ol><div class="fingerprint">${fingerprint}</div></details></td>
<td>${escapeHtml(incident.source.kind)}</td>
<td>${escapeHtml(resource)}</td>
<td title="${escapeHtml(record.episodeStartedAt)}">${age(record.episodeStartedAt, nowMs)}</td>
<td class="state">${stateBadges(record)}</td>
<td class="actions">${actions}<button type="button" data-action="silence" data-matcher="${escapeHtml(`fingerprint=${record.fingerprint}`)}">Silence…</button></td>
</tr>`;
}

function silenceRow(silence: SilenceView): string {
  const id = escapeHtml(silence.id);
  return `<tr class="silence ${silence.state}" data-silence="${id}">
<td>${escapeHtml(silence.state)}</td><td><code>${silence.matchers.map(escapeHtml).join('</code> <code>')}</code></td>
<td>${escapeHtml(silence.startsAt)} – ${escapeHtml(silence.endsAt)}</td><td>${escapeHtml(silence.createdBy)}: ${escapeHtml(silence.comment)}</td>
<td>${silence.state === 'expired' ? '' : `<button type="button" data-action="expire" data-silence="${id}">Expire</button>`}</td>
</tr>`;
}

const SEVERITY_RANK = new Map<string, number>(SEVERITIES.map((severity, index) => [severity, index]));

/** Open incidents first (most severe, then oldest), then the rest (most recently seen first). */
export function orderForPage(incidents: readonly PageIncident[]): PageIncident[] {
  const open = incidents.filter((item) => item.record.status === 'firing');
  const closed = incidents.filter((item) => item.record.status !== 'firing');
  open.sort(
    (a, b) =>
      (SEVERITY_RANK.get(a.record.incident.severity) ?? 9) - (SEVERITY_RANK.get(b.record.incident.severity) ?? 9) ||
      Date.parse(a.record.episodeStartedAt) - Date.parse(b.record.episodeStartedAt),
  );
  return [...open, ...closed];
}

export function renderPage(incidents: readonly PageIncident[], silences: readonly SilenceView[], nowMs: number): string {
  const ordered = orderForPage(incidents);
  const firing = ordered.filter((item) => item.record.status === 'firing').length;
  const rows = ordered.map((item) => incidentRow(item, nowMs)).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tocsin — ${String(firing)} firing</title><link rel="stylesheet" href="/page.css"></head>
<body>
<header><h1>Tocsin</h1><p>${String(firing)} firing · ${String(ordered.length - firing)} resolved · ${String(silences.filter((silence) => silence.state !== 'expired').length)} silence(s)</p>
<label>Your name <input id="who" autocomplete="name" placeholder="who acknowledges and silences"></label></header>
<p id="message" role="status" hidden></p>
<main>
<section><h2>Incidents</h2>
${ordered.length === 0 ? '<p class="empty">No incidents.</p>' : `<table id="incidents"><thead><tr><th>severity</th><th>incident</th><th>source</th><th>resource</th><th>age</th><th>state</th><th></th></tr></thead><tbody>
${rows}
</tbody></table>`}
</section>
<section id="new-silence" hidden><h2>New silence</h2>
<form id="silence-form">
<label>Matchers, one per line (name=value, name!=value, name=~regex, name!~regex)<textarea name="matchers" rows="3" required></textarea></label>
<label>For <input name="duration" value="2h" required></label>
<label>Why <input name="comment" required></label>
<button type="submit">Create silence</button> <button type="button" data-action="cancel">Cancel</button>
</form></section>
<section><h2>Silences</h2>
${silences.length === 0 ? '<p class="empty">No silences.</p>' : `<table id="silences"><thead><tr><th>state</th><th>matchers</th><th>when</th><th>who and why</th><th></th></tr></thead><tbody>${silences.map(silenceRow).join('\n')}</tbody></table>`}
<button type="button" data-action="silence" data-matcher="">New silence…</button>
</section>
</main>
<script src="/page.js"></script>
</body></html>
`;
}

/** The sign-in form shown instead of the page when a token is set and the browser has no session. */
export function renderSignIn(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tocsin — sign in</title><link rel="stylesheet" href="/page.css"></head>
<body><header><h1>Tocsin</h1></header><main><form method="get" action="/" class="sign-in">
<label>Ingest token <input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></main></body></html>
`;
}

export const PAGE_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;background:#1b1f24;color:#fff}
header h1{font-size:1.3em;margin:0}header p{margin:0;opacity:.85}header label{margin-left:auto}
main{padding:0 1.2em 2em}h2{font-size:1.1em;margin:1.2em 0 .5em}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.45em .6em;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{font-weight:600;color:#57606a;font-size:.85em;text-transform:uppercase}
tr.resolved{opacity:.6}.summary{color:#57606a;white-space:pre-wrap}.fingerprint{color:#8c959f;font-size:.8em}
.severity{font-weight:600;padding:.1em .45em;border-radius:3px;color:#fff}.critical{background:#b42318}.error{background:#d9480f}.warning{background:#b7791f}.info{background:#2f6feb}
.badge{display:inline-block;padding:.05em .45em;border-radius:3px;background:#eaeef2;margin:0 .2em .2em 0}.badge.firing{background:#ffe1de}.badge.resolved{background:#dafbe1}
.badge.ack{background:#ddf4ff}.badge.held{background:#fff8c5}.badge.untold{background:#fbefff}
button{font:inherit;padding:.25em .7em;margin:0 .3em .3em 0;border:1px solid #d0d7de;border-radius:4px;background:#f6f8fa;cursor:pointer}
form label{display:block;margin:.4em 0}textarea,input{font:inherit;width:min(40em,100%)}header input{width:14em}
#message{margin:.8em 1.2em;padding:.5em .8em;background:#fff8c5;border:1px solid #d4a72c}ol.timeline{margin:.3em 0;padding-left:1.4em;color:#424a53}
`;

/** The page's script: buttons call the same JSON API the CLI uses, then reload. */
export const PAGE_JS = `'use strict';
(() => {
  const who = document.getElementById('who');
  const message = document.getElementById('message');
  const section = document.getElementById('new-silence');
  const form = document.getElementById('silence-form');
  who.value = localStorage.getItem('tocsin.who') || '';
  who.addEventListener('change', () => localStorage.setItem('tocsin.who', who.value.trim()));
  const show = (text) => { message.textContent = text; message.hidden = false; };
  const name = () => { const value = who.value.trim(); if (!value) { show('Enter your name first (top right).'); who.focus(); } return value; };
  const call = async (path, body) => {
    const response = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.ok) { location.reload(); return; }
    let text = String(response.status);
    try { text += ': ' + ((await response.json()).message || ''); } catch { /* not JSON */ }
    show(text);
  };
  document.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    const { action, fingerprint, silence, matcher } = button.dataset;
    if (action === 'ack') { const by = name(); if (by) void call('/v1/incidents/' + encodeURIComponent(fingerprint) + '/ack', { by }); }
    else if (action === 'unack') void call('/v1/incidents/' + encodeURIComponent(fingerprint) + '/unack');
    else if (action === 'expire') void call('/v1/silences/' + encodeURIComponent(silence) + '/expire');
    else if (action === 'silence') { form.elements.matchers.value = matcher || ''; section.hidden = false; form.elements.comment.focus(); }
    else if (action === 'cancel') section.hidden = true;
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const createdBy = name();
    if (!createdBy) return;
    const matchers = form.elements.matchers.value.split('\\n').map((line) => line.trim()).filter(Boolean);
    void call('/v1/silences', { matchers, duration: form.elements.duration.value.trim(), comment: form.elements.comment.value, createdBy });
  });
})();
`;
