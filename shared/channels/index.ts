// The registry of notification channels, keyed by the `type` used in the config file.
// Adding a channel: one module in this folder, its tests, and one line here.
import type { RegisteredChannel } from './channel.ts';
import { consoleChannel } from './console.ts';
import { webhookChannel } from './webhook.ts';
import { slackChannel } from './slack.ts';
import { teamsChannel } from './teams.ts';
import { googleChatChannel } from './google-chat.ts';
import { smsChannel } from './sms.ts';
import { emailChannel } from './email.ts';
import { pagerDutyChannel } from './pagerduty.ts';
import { splunkOnCallChannel } from './splunk-oncall.ts';
import { opsgenieChannel } from './opsgenie.ts';

export const channels: readonly RegisteredChannel[] = [
  consoleChannel,
  webhookChannel,
  slackChannel,
  teamsChannel,
  googleChatChannel,
  smsChannel,
  emailChannel,
  pagerDutyChannel,
  splunkOnCallChannel,
  opsgenieChannel,
];

export const CHANNEL_TYPES: readonly string[] = channels.map((channel) => channel.type);

export function channelByType(type: string): RegisteredChannel | undefined {
  return channels.find((channel) => channel.type === type);
}
