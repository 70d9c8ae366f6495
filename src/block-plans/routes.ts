import { operation, type Operation } from "../http/operation";
import {
  planAccepted,
  planBody,
  planCursor,
  planList,
  planListQuery,
  planParams,
  planPreview,
  planView,
  planViewQuery,
  readPlanCursor,
  MAX_BLOCKS,
} from "./schemas";
import type { BlockPlanService } from "./service";

const TAG = "Block plans";
const base = "/api/block-plans";
const BODY = { name: "BlockPlanInput", schema: planBody };
const unknownPlan = "No such plan, or one that acts beyond this API key's scope.";
const refusals = {
  invalid_request:
    "A bad field (each named), an unknown calendar of a location, a plan that makes no blocks, or an RRULE that matches too rarely (or never) to expand within 2 seconds.",
  forbidden: "A target outside the API key's scope: nothing is read or applied.",
  plan_too_large: `More than ${MAX_BLOCKS.toLocaleString("en")} blocks; the detail names the count.`,
  location_not_installed: "A target location the app is not installed in.",
  reauthorization_required: "A target location must be installed again.",
  rate_limited: "HighLevel's rate limit for a location was reached while reading; retry later.",
  upstream_error: "HighLevel failed while the plan's calendars or events were read.",
} as const;

/** `/api/block-plans`: closures and recurring blocks across locations, in each location's own time. */
export function blockPlanOperations(plans: BlockPlanService): Operation[] {
  return [
    operation({
      id: "previewBlockPlan",
      method: "post",
      path: `${base}/preview`,
      tag: TAG,
      summary: "Expand a plan without changing anything",
      description:
        "Every block the plan would make, with the exact offset times it would send, and the appointments and blocks already in those windows. Only reads from HighLevel.",
      auth: "apiKey",
      body: BODY,
      response: {
        status: 200,
        description: "The plan, expanded.",
        body: { name: "BlockPlanPreview", schema: planPreview },
      },
      errors: refusals,
      async handle({ principal, body }) {
        const { blocks, conflicts } = await plans.preview(principal, body);
        return {
          total: blocks.length,
          blocks: blocks.map(({ key: _k, occurrence: _o, title: _t, ...block }) => block),
          conflicts,
        };
      },
    }),
    operation({
      id: "createBlockPlan",
      method: "post",
      path: base,
      tag: TAG,
      summary: "Apply a plan as one durable job",
      description:
        "Checks and expands the plan, records its conflicts, and queues every block; each is created once, even across crashes. Conflicts do not stop the plan.",
      auth: "apiKey",
      body: BODY,
      idempotent: true,
      response: {
        status: 202,
        description: "Accepted; follow it with GET.",
        body: { name: "BlockPlanAccepted", schema: planAccepted },
        headers: { Location: "The plan's address." },
      },
      errors: { ...refusals, idempotency_conflict: "The Idempotency-Key was used with another body." },
      async handle({ principal, body, res, requestKey, resumed }) {
        const plan = await plans.create(principal, body, undefined, { key: requestKey, resumed });
        res.location(`${base}/${plan.id}`);
        return plan;
      },
    }),
    operation({
      id: "listBlockPlans",
      method: "get",
      path: base,
      tag: TAG,
      summary: "The plans this key can see",
      auth: "apiKey",
      response: {
        status: 200,
        description:
          "Newest first, a page at a time: the plans whose every block, removed ones included, lies in the key's agency or location (every plan for a full-access key), whichever key made them.",
        body: { name: "BlockPlanList", schema: planList },
      },
      query: planListQuery,
      errors: { invalid_request: "A bad `cursor` or `limit`." },
      async handle({ principal, query }) {
        // One more than the page: whether there is a next page, without counting.
        const list = await plans.list(principal, {
          ...(query.cursor ? { before: readPlanCursor(query.cursor) } : {}),
          limit: query.limit + 1,
        });
        const page = list.slice(0, query.limit);
        const last = page.at(-1);
        return {
          plans: page.map((p) => ({
            id: p.id,
            title: p.title,
            status: p.status,
            total: p.total,
            createdAt: p.createdAt.toISOString(),
          })),
          ...(list.length > query.limit && last ? { next: planCursor(last) } : {}),
        };
      },
    }),
    operation({
      id: "getBlockPlan",
      method: "get",
      path: `${base}/:planId`,
      tag: TAG,
      summary: "A plan, its blocks and their status",
      auth: "apiKey",
      params: planParams,
      query: planViewQuery,
      response: { status: 200, description: "The plan.", body: { name: "BlockPlan", schema: planView } },
      errors: { not_found: unknownPlan },
      async handle({ principal, params, query }) {
        const { owner: _owner, ...view } = await plans.view(principal, params.planId, query.blocks);
        return { ...view, createdAt: view.createdAt.toISOString() };
      },
    }),
    operation({
      id: "changeBlockPlan",
      method: "put",
      path: `${base}/:planId`,
      tag: TAG,
      summary: "Change a plan, applying only the difference",
      description:
        "Re-expands the plan: new occurrences or targets are created, those no longer wanted are deleted, blocks whose times or title changed are edited (they keep their HighLevel ids); the rest are untouched. Allowed while the plan is still applying: each block then goes straight to its new state.",
      auth: "apiKey",
      params: planParams,
      body: BODY,
      response: {
        status: 202,
        description: "Accepted; follow it with GET.",
        body: { name: "BlockPlanAccepted", schema: planAccepted },
      },
      errors: { ...refusals, not_found: unknownPlan, plan_deleted: "The plan was deleted." },
      async handle({ principal, params, body }) {
        return plans.change(principal, params.planId, body);
      },
    }),
    operation({
      id: "deleteBlockPlan",
      method: "delete",
      path: `${base}/:planId`,
      tag: TAG,
      summary: "Remove every block the plan made",
      description:
        "Blocks not yet made are not made; those made are deleted from HighLevel. Repeatable: a block already gone (deleted by hand) is not an error, and blocks whose deletion failed are tried again.",
      auth: "apiKey",
      params: planParams,
      response: {
        status: 202,
        description: "Accepted; follow it with GET.",
        body: { name: "BlockPlanAccepted", schema: planAccepted },
      },
      errors: { not_found: unknownPlan },
      async handle({ principal, params }) {
        return plans.remove(principal, params.planId);
      },
    }),
  ];
}
