// ./parser.ts for the AWS bundles (functions/package.ts swaps it in): zod's runtime parser, the
// schema itself. Same answers as the compiled parser (which falls back to this one on a
// failure), without the compiler's code in the bundle or the compilation on a cold start.
import type * as z from 'zod';

export function parserFor<Payload>(schema: z.ZodType<Payload>): z.ZodType<Payload> {
  return schema;
}
