import type { NextFunction, Request, Response } from "express";
import { validation } from "./auth";
import { httpErrorBody } from "./errors";
import type { OpenApiValidator, ValidationIssue } from "./openapi-validator";
import { currentRecord, markInvalid } from "./recorder";

/**
 * Runs the OpenAPI validator on every API request and records the verdict at once, so a
 * request is marked invalid even when it is answered early (401, 429, injected fault).
 * Answering is left to the later steps, in HighLevel's order: unknown route, Version header,
 * authentication, then parameters and body.
 */
export function validateRequest(validator: OpenApiValidator) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const contentLength = Number(req.headers["content-length"] ?? 0);
    const result = validator.validate({
      method: req.method,
      path: req.path,
      headers: req.headers,
      query: req.query,
      body: req.body as unknown,
      hasBody: contentLength > 0 || req.headers["transfer-encoding"] !== undefined,
    });
    res.locals.validation = result;
    const record = currentRecord(res);
    if (record && result.operation) record.operationId = result.operation.operationId;
    if (result.issues.length > 0) {
      markInvalid(
        res,
        result.issues.map((i) => i.message),
      );
    }
    next();
  };
}

/** No operation of the OpenAPI files has this method and path: NestJS-style 404. */
export function rejectUnknownRoute(req: Request, res: Response, next: NextFunction): void {
  if (validation(res).operation) return next();
  markInvalid(res, [`no operation in the OpenAPI files matches ${req.method} ${req.path}`]);
  res.status(404).json({ statusCode: 404, message: `Cannot ${req.method} ${req.path}`, error: "Not Found" });
}

function headerIssue(issue: ValidationIssue): string {
  // Wording for a missing Version header is UNCONFIRMED; the 400 status is what apps see.
  if (issue.name?.toLowerCase() === "version" && / is required$/.test(issue.message)) {
    return "Version header was not found";
  }
  return issue.message;
}

export function rejectBadHeaders(_req: Request, res: Response, next: NextFunction): void {
  const issue = validation(res).issues.find((i) => i.in === "header");
  if (!issue) return next();
  res.status(400).json(httpErrorBody(400, headerIssue(issue)));
}

/** Parameters, content type and body (already recorded as invalid by validateRequest). */
export function rejectBadRequest(_req: Request, res: Response, next: NextFunction): void {
  const issues = validation(res).issues.filter((i) => i.in !== "header" && i.in !== "security");
  if (issues.length === 0) return next();
  // Already recorded as invalid by validateRequest: answer only.
  res.status(422).json(
    httpErrorBody(
      422,
      issues.map((i) => i.message),
    ),
  );
}

/** The success status the OpenAPI file declares for the matched operation (201 for some edits and deletes). */
export function successStatus(res: Response): number {
  const responses = (validation(res).operation?.op.responses ?? {}) as Record<string, unknown>;
  return Number(Object.keys(responses).find((s) => /^2\d\d$/.test(s)) ?? 200);
}
