// How a source's schema becomes the parser its normalize() runs: zod's ahead-of-time compiled
// parser, the same schema, about twice as fast on valid payloads (bench/normalize.ts). It falls
// back to the runtime parser on a failure, so rejections give exactly the runtime's issues, and
// it leaves a schema it cannot model uncompiled.
// The AWS bundles use ./parser-runtime.ts instead (functions/package.ts): a Lambda container
// parses a few payloads in its life, and there the compiler's code (about 29 KiB loaded by every
// cold start) and the compilation at the first payload cost more than the faster parse saves.
import * as z from 'zod';

export function parserFor<Payload>(schema: z.ZodType<Payload>): z.ZodType<Payload> {
  return z.compile(schema);
}
