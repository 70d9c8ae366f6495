import type { Response } from "express";
import { addNote, markInvalid } from "./recorder";

/** HighLevel's answer to a missing, unknown or expired access token (docs/highlevel.md, common-schemas.json). */
export const INVALID_TOKEN_BODY = {
  statusCode: 401,
  message: "Invalid token: access token is invalid",
  error: "Unauthorized",
};

export function httpErrorBody(status: number, message: string | string[]): Record<string, unknown> {
  if (status === 422) return { statusCode: 422, message: [message].flat(), error: "Unprocessable Entity" };
  return { statusCode: status, message };
}

/** The request itself is wrong (the app's fault): answer and record it as invalid. */
export function rejectInvalid(res: Response, status: number, body: unknown, reasons: string[]): void {
  markInvalid(res, reasons);
  res.status(status).json(body);
}

/** 422 the way HighLevel's validation answers: `{statusCode, message: [...], error}`. */
export function unprocessable(res: Response, reasons: string[]): void {
  rejectInvalid(res, 422, httpErrorBody(422, reasons), reasons);
}

/** A well-formed request refused because of state (used code, revoked token…): stays valid. */
export function refuse(res: Response, status: number, body: unknown, note: string): void {
  addNote(res, note);
  res.status(status).json(body);
}

/** HighLevel's refusal of a resource (location, company, event) that is not the token's. */
export const NO_LOCATION_ACCESS = httpErrorBody(403, "The token does not have access to this location.");
