// CloudWatch alarm ARNs, AWS partitions and console links. The alarm's `Region` field is a
// display name that AWS has renamed over the years ("EU - Ireland", "EU (Ireland)"), so the
// region code always comes from the ARN (or from an EventBridge event's `region`), never from it.

export interface AlarmArn {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly alarmName: string;
}

// `arn:<partition>:cloudwatch:<region>:<12-digit account>:alarm:<name>`; the name may hold
// colons, spaces and any Unicode, so it is everything after `alarm:`.
const ALARM_ARN = /^arn:(aws(?:-[a-z]+)*):cloudwatch:([a-z0-9-]+):(\d{12}):alarm:(.+)$/su;

// us-east-1, eu-central-1, us-gov-west-1, cn-north-1, eusc-de-east-1, us-isob-east-1 ...
const REGION_CODE = /^[a-z]{2,5}(?:-[a-z]+)+-\d{1,2}$/u;

export function isRegionCode(value: string): boolean {
  return REGION_CODE.test(value);
}

/** The parts of a CloudWatch alarm ARN, or undefined when `arn` is not one (or names no real region). */
export function parseAlarmArn(arn: string): AlarmArn | undefined {
  const match = ALARM_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, region, account, alarmName] = match;
  if (!partition || !region || !account || !alarmName || !isRegionCode(region)) return undefined;
  return { partition, region, account, alarmName };
}

/** The partition a region code belongs to (used when an ARN has to be rebuilt from parts). */
export function partitionOfRegion(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eusc-')) return 'aws-eusc';
  return 'aws';
}

export function alarmArnOf(region: string, account: string, alarmName: string): string {
  return `arn:${partitionOfRegion(region)}:cloudwatch:${region}:${account}:alarm:${alarmName}`;
}

// Console hosts per partition. Partitions whose console is not on the public internet
// (ISO, sovereign) get no link rather than a guessed one.
const CONSOLE_BASE: Readonly<Record<string, (region: string) => string>> = {
  aws: (region) => `https://${region}.console.aws.amazon.com`,
  'aws-cn': () => 'https://console.amazonaws.cn',
  'aws-us-gov': () => 'https://console.amazonaws-us-gov.com',
};

// encodeURIComponent throws on a lone UTF-16 surrogate, which a JSON string can carry (`"\ud800"`);
// replace such halves with U+FFFD as String.prototype.toWellFormed (ES2024) would.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/** The CloudWatch console page of one alarm, or undefined when the region is unknown or has no public console. */
export function consoleAlarmUrl(region: string | undefined, alarmName: string): string | undefined {
  if (region === undefined || !isRegionCode(region)) return undefined;
  const base = CONSOLE_BASE[partitionOfRegion(region)];
  if (!base) return undefined;
  return `${base(region)}/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(wellFormed(alarmName))}`;
}

