import type { z } from "zod";
import { CONTROL_CHARS, LONE_SURROGATE } from "./util/ids";
import { AppError, type FieldError } from "./errors";

/** A bad bulk request can have thousands of problems; the first ones are enough to act on. */
const MAX_REPORTED = 1000;

/**
 * Parses `value` or throws `invalid_request` naming every bad field. `where` names the part of
 * the request ("body", "query", "path"); `pathOf` renames a field's path, e.g. a CSV row index
 * to its line number.
 */
export function parseInput<T>(
  schema: z.ZodType<T>,
  value: unknown,
  where: string,
  pathOf: (path: PropertyKey[]) => string = (path) => path.map(String).join("."),
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidInput(result.error.issues, where, pathOf);
}

/** One zod issue as a sentence for the caller: unknown keys are named, not just counted. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  return issue.code === "unrecognized_keys"
    ? `unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`
    : issue.message;
}

/** The `invalid_request` error for zod issues: each one named by its field, the first 20 in the detail. */
export function invalidInput(
  issues: z.core.$ZodIssue[],
  where: string,
  pathOf: (path: PropertyKey[]) => string = (path) => path.map(String).join("."),
): AppError {
  const errors: FieldError[] = issues.slice(0, MAX_REPORTED).map((issue) => ({
    path: issue.path.length ? pathOf(issue.path) : where,
    message: describeIssue(issue),
  }));
  const paths = [...new Set(errors.map((e) => e.path))];
  const more = issues.length - errors.length;
  const listed =
    paths.length > 20 ? `${paths.slice(0, 20).join(", ")} and ${paths.length - 20} more` : paths.join(", ");
  return new AppError(
    "invalid_request",
    `The request ${where} is invalid: ${listed}.${more > 0 ? ` (${more} further problems not listed.)` : ""}`,
    { errors },
  );
}

/**
 * Text a person typed, fit to store and to send: no control characters (PostgreSQL text cannot
 * hold NUL) and no half characters (PostgreSQL's JSON refuses a lone surrogate). For titles and names.
 */
export const plainText = (schema: z.ZodString): z.ZodString =>
  schema
    .refine((v) => !CONTROL_CHARS.test(v), "must not contain control characters")
    .refine((v) => !LONE_SURROGATE.test(v), "must be text: it holds half a character (a lone surrogate)");
