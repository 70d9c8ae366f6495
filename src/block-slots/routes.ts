import { actorOf } from "../audit/log";
import type { AccessPolicy } from "../auth/scope";
import { z } from "zod";
import { blockSlotExample, blockSlotInputExample } from "../http/examples";
import { LEASE_MS } from "../http/idempotency";
import { operation, Reply, type Operation } from "../http/operation";
import { sendByForLease } from "../jobs/queue";
import { blockSlot, blockSlotBody, blockSlotList, blockSlotListQuery, eventParams, locationParams } from "./schemas";
import type { BlockSlotService } from "./service";

const TAG = "Block slots";
/** What any call for one location may answer, besides its own refusals. */
const LOCATION_ERRORS = {
  invalid_request: "Invalid input (each field named in `errors`), or HighLevel's 400/422 with its message.",
  forbidden: "The API key's scope does not cover this location.",
  location_not_installed: "The location has not installed the app.",
  reauthorization_required: "HighLevel refuses the stored authorization: reinstall the app for this location.",
  location_inactive: "HighLevel says the location is not active; retry later.",
  location_connecting: "The location's agency install is still getting its token; retry after `Retry-After` seconds.",
  rate_limited: "The location's HighLevel rate limit is used up: retry after `Retry-After` seconds.",
  upstream_error: "HighLevel failed or did not answer.",
} as const;

const createQuery = z.strictObject({
  ifExists: z.enum(["skip"]).optional().meta({
    description:
      "`skip`: when this app already made a block with the same calendar or user, start, end and title that still exists, answer 200 with it instead of making another.",
  }),
});

/** `/api/locations/:locationId/block-slots`: the key's scope and the input are checked before HighLevel is called. */
export function blockSlotOperations(slots: BlockSlotService, access: AccessPolicy): Operation[] {
  const base = "/api/locations/:locationId/block-slots";
  return [
    operation({
      id: "createBlockSlot",
      method: "post",
      path: base,
      tag: TAG,
      summary: "Block time on a calendar or a user",
      description:
        "Creates a HighLevel block slot with the location's token. When HighLevel's answer is lost, the app looks for the block before sending it again, so a retry never blocks the time twice.",
      auth: "apiKey",
      params: locationParams,
      query: createQuery,
      body: { name: "BlockSlotInput", schema: blockSlotBody, example: blockSlotInputExample },
      idempotent: true,
      response: {
        status: 201,
        description: "Created (or replayed: header `Idempotent-Replayed: true`).",
        body: { name: "BlockSlot", schema: blockSlot, example: blockSlotExample },
      },
      alsoResponds: [
        {
          status: 200,
          description: "With `ifExists=skip`: the block this app made before, still in HighLevel.",
          body: { name: "BlockSlot", schema: blockSlot },
        },
      ],
      errors: {
        ...LOCATION_ERRORS,
        idempotency_conflict: "The Idempotency-Key was used with another body, or its first request is still running.",
      },
      async handle({ params, query, body, principal, resumed, requestKey }) {
        await access.assertLocation(principal, params.locationId);
        if (query.ifExists === "skip") {
          const made = await slots.existing(params.locationId, body);
          if (made) return new Reply(200, made);
        }
        return slots.create(params.locationId, body, {
          lookFirst: resumed,
          // After its Idempotency-Key's hold runs out a retry may take over and look first: no create
          // of this attempt may still go out then.
          ...(requestKey ? { sendBy: sendByForLease(LEASE_MS / 1000) } : {}),
          origin: { origin: "api" },
          actor: actorOf(principal),
        });
      },
    }),
    operation({
      id: "listBlockSlots",
      method: "get",
      path: base,
      tag: TAG,
      summary: "Block slots in a time window",
      auth: "apiKey",
      params: locationParams,
      query: blockSlotListQuery,
      response: {
        status: 200,
        description: "HighLevel's blocked slots.",
        body: { name: "BlockSlotList", schema: blockSlotList, example: { blockSlots: [blockSlotExample] } },
      },
      errors: LOCATION_ERRORS,
      async handle({ params, query, principal }) {
        await access.assertLocation(principal, params.locationId);
        return slots.list(params.locationId, query);
      },
    }),
    operation({
      id: "updateBlockSlot",
      method: "put",
      path: `${base}/:eventId`,
      tag: TAG,
      summary: "Edit a block slot",
      description: "The full create body.",
      auth: "apiKey",
      params: eventParams,
      body: { name: "BlockSlotInput", schema: blockSlotBody },
      response: { status: 200, description: "The updated block slot.", body: { name: "BlockSlot", schema: blockSlot } },
      errors: {
        ...LOCATION_ERRORS,
        not_found: "No such block slot in this location.",
        not_a_block_slot: "The event is an appointment: block-slot routes never touch appointments.",
      },
      async handle({ params, body, principal }) {
        await access.assertLocation(principal, params.locationId);
        return slots.update(params.locationId, params.eventId, body, actorOf(principal));
      },
    }),
    operation({
      id: "deleteBlockSlot",
      method: "delete",
      path: `${base}/:eventId`,
      tag: TAG,
      summary: "Delete a block slot",
      auth: "apiKey",
      params: eventParams,
      response: { status: 204, description: "Deleted." },
      errors: {
        ...LOCATION_ERRORS,
        not_found: "No such block slot in this location.",
        not_a_block_slot: "The event is an appointment: block-slot routes never touch appointments.",
      },
      async handle({ params, principal }) {
        await access.assertLocation(principal, params.locationId);
        await slots.remove(params.locationId, params.eventId, actorOf(principal));
        return undefined;
      },
    }),
  ];
}
