/**
 * Request validation with zod: the first problem becomes a 400 naming its field.
 */
import type { z } from 'zod';
import { ValidationError } from '../errors.ts';

/** Parses input with a schema or throws ValidationError naming the offending field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, where = 'body'): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : where;
  throw new ValidationError(`${field}: ${issue?.message ?? 'invalid'}`, field);
}
