import { z } from "zod";
import { EXAMPLE_CALENDAR, EXAMPLE_LOCATION } from "../http/examples";
import { operation, type Operation } from "../http/operation";
import { blockingRuleBody, ruleEndpoint } from "./schemas";
import type { BlockingRule, BlockingRuleService } from "./service";

const TAG = "Blocking rules";

const blockingRule = z.object({
  id: z.string().meta({ format: "uuid" }),
  name: z.string().optional(),
  source: ruleEndpoint,
  targets: z.array(ruleEndpoint),
  title: z.string().optional(),
  createdAt: z.string().meta({ format: "date-time" }),
});
const ruleParams = z.strictObject({ ruleId: z.string().meta({ format: "uuid" }) });

const ruleInputExample = {
  name: "Dr. Lee works at both practices",
  source: { locationId: EXAMPLE_LOCATION, calendarId: EXAMPLE_CALENDAR },
  targets: [{ locationId: "otg8dTQqGLh3Q6iQI55w", assignedUserId: "YlWd2wuCAZQzh2cH1fVZ" }],
};
const ruleExample = {
  id: "7d1e3c9a-2b4f-4e8a-9c61-5f0a3b2d1e77",
  ...ruleInputExample,
  createdAt: "2030-04-30T09:15:00.000Z",
};

const wire = (rule: BlockingRule) => ({ ...rule, createdAt: rule.createdAt.toISOString() });

/** `/api/blocking-rules`: when an appointment is booked, moved or cancelled on a source, its blocks follow. */
export function blockingRuleOperations(rules: BlockingRuleService): Operation[] {
  return [
    operation({
      id: "listBlockingRules",
      method: "get",
      path: "/api/blocking-rules",
      tag: TAG,
      summary: "Rules for webhook-triggered blocking",
      auth: "apiKey",
      response: {
        status: 200,
        description:
          "The rules whose source and targets all lie in the key's agency or location, whichever key (or the custom page) made them; every rule for a full-access key.",
        body: {
          name: "BlockingRuleList",
          schema: z.object({ rules: z.array(blockingRule) }),
          example: { rules: [ruleExample] },
        },
      },
      errors: {},
      async handle({ principal }) {
        return { rules: (await rules.list(principal)).map(wire) };
      },
    }),
    operation({
      id: "createBlockingRule",
      method: "post",
      path: "/api/blocking-rules",
      tag: TAG,
      summary: "When an appointment is booked on the source, block the same time on each target",
      description:
        "AppointmentCreate on the source blocks every target; AppointmentUpdate moves the blocks; AppointmentDelete or a cancelled status removes them.",
      auth: "apiKey",
      body: { name: "BlockingRuleInput", schema: blockingRuleBody, example: ruleInputExample },
      response: {
        status: 201,
        description: "The rule.",
        body: { name: "BlockingRule", schema: blockingRule, example: ruleExample },
        headers: { Location: "The rule's address." },
      },
      errors: {
        invalid_request: "Invalid rule, each field named; also a calendar its sub-account does not have.",
        forbidden: "A location outside the API key's scope.",
        location_not_installed: "A sub-account that is not connected to the app, the field named.",
      },
      async handle({ body, principal, res }) {
        const rule = await rules.create(principal, body);
        res.location(`/api/blocking-rules/${rule.id}`);
        return wire(rule);
      },
    }),
    operation({
      id: "getBlockingRule",
      method: "get",
      path: "/api/blocking-rules/:ruleId",
      tag: TAG,
      summary: "One rule",
      auth: "apiKey",
      params: ruleParams,
      response: {
        status: 200,
        description: "The rule.",
        body: { name: "BlockingRule", schema: blockingRule, example: ruleExample },
      },
      errors: { not_found: "No such rule, or one that reaches beyond this key's scope." },
      async handle({ params, principal }) {
        return wire(await rules.get(principal, params.ruleId));
      },
    }),
    operation({
      id: "deleteBlockingRule",
      method: "delete",
      path: "/api/blocking-rules/:ruleId",
      tag: TAG,
      summary: "Delete a rule",
      description: "Blocks it already made stay, and keep following their appointments.",
      auth: "apiKey",
      params: ruleParams,
      response: { status: 204, description: "Deleted." },
      errors: { not_found: "No such rule, or one that reaches beyond this key's scope." },
      async handle({ params, principal }) {
        await rules.remove(principal, params.ruleId);
        return undefined;
      },
    }),
  ];
}
