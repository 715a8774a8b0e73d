// Typed access to a synthesized CloudFormation template for the infra tests: the assertions
// library hands out `any`, so everything is parsed here into the few shapes the tests read.
import { readFileSync } from 'node:fs';
import { App, CfnElement, type Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { z } from 'zod';

const resourceSchema = z.looseObject({
  Type: z.string(),
  Properties: z.record(z.string(), z.unknown()).default({}),
});
export type Resource = z.infer<typeof resourceSchema>;

const stringOrList = z.union([z.string(), z.array(z.string())]).transform((v) => (typeof v === 'string' ? [v] : v));

export const statementSchema = z.looseObject({
  Effect: z.enum(['Allow', 'Deny']),
  Action: stringOrList,
  Resource: z.unknown(),
  Principal: z.unknown().optional(),
  Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  Sid: z.string().optional(),
});
export type Statement = z.infer<typeof statementSchema>;

const policySchema = z.looseObject({
  PolicyDocument: z.looseObject({ Statement: z.array(statementSchema) }),
  Roles: z.array(z.unknown()).optional(),
  Users: z.array(z.unknown()).optional(),
});

/** The `cdk.json` context, so tests build the stack `npm run synth` builds. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = z
    .looseObject({ context: z.record(z.string(), z.unknown()) })
    .parse(JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')));
  return cdkJson.context;
}

/** An app with the project's context; `bundle: false` skips esbuild for tests that read no code. */
export function testApp(options: { bundle: boolean }): App {
  return new App({
    context: { ...cdkJsonContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
}

export function resources(template: Template, type: string): Map<string, Resource> {
  const found = z.record(z.string(), resourceSchema).parse(template.findResources(type));
  return new Map(Object.entries(found));
}

export function resource(template: Template, logicalId: string): Resource {
  const all = z.record(z.string(), resourceSchema).parse((template.toJSON() as { Resources: unknown }).Resources);
  const found = all[logicalId];
  if (!found) throw new Error(`no resource ${logicalId}`);
  return found;
}

export function logicalId(stack: Stack, construct: IConstruct): string {
  const element = construct instanceof CfnElement ? construct : construct.node.defaultChild;
  if (!(element instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation element`);
  return stack.getLogicalId(element);
}

/** Logical ids a value refers to through Ref or Fn::GetAtt, at any depth. */
export function referencedIds(value: unknown): Set<string> {
  const ids = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, child] of Object.entries(node)) {
      if (key === 'Ref' && typeof child === 'string' && !child.startsWith('AWS::')) ids.add(child);
      else if (key === 'Fn::GetAtt' && Array.isArray(child) && typeof child[0] === 'string') ids.add(child[0]);
      else walk(child);
    }
  };
  walk(value);
  return ids;
}

export function allPolicyStatements(template: Template): { policyId: string; statement: Statement }[] {
  const out: { policyId: string; statement: Statement }[] = [];
  for (const [policyId, policy] of resources(template, 'AWS::IAM::Policy')) {
    for (const statement of policySchema.parse(policy.Properties).PolicyDocument.Statement) {
      out.push({ policyId, statement });
    }
  }
  return out;
}

/** Every statement of the AWS::IAM::Policy resources attached to one role or user. */
export function statementsOf(template: Template, principalLogicalId: string): Statement[] {
  const statements: Statement[] = [];
  for (const policy of resources(template, 'AWS::IAM::Policy').values()) {
    const parsed = policySchema.parse(policy.Properties);
    const attached = [...(parsed.Roles ?? []), ...(parsed.Users ?? [])];
    if (attached.some((ref) => referencedIds(ref).has(principalLogicalId))) {
      statements.push(...parsed.PolicyDocument.Statement);
    }
  }
  return statements;
}

export function actionsOf(statements: readonly Statement[]): string[] {
  return [...new Set(statements.flatMap((statement) => statement.Action))].sort();
}

export function stringProperty(props: Record<string, unknown>, key: string): string {
  const value = props[key];
  if (typeof value !== 'string') throw new Error(`property ${key} is not a string: ${JSON.stringify(value)}`);
  return value;
}
