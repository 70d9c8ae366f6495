import { auditOperations } from "./audit/routes";
import { blockPlanOperations } from "./block-plans/routes";
import { blockSlotOperations } from "./block-slots/routes";
import { bulkOperations } from "./bulk/routes";
import { healthOperations } from "./health/routes";
import type { Operation } from "./http/operation";
import { installationOperations } from "./installations/routes";
import { blockingRuleOperations } from "./rules/routes";
import type { Services } from "./services";
import { webhookOperations } from "./webhooks/routes";

/** Every operation of the API, from the capabilities that own them: what `mount()` serves and the docs describe. */
export function apiOperations(services: Services): Operation[] {
  return [
    ...healthOperations(services.db),
    ...installationOperations(services.db, services.access),
    ...blockSlotOperations(services.blockSlots, services.access),
    ...bulkOperations(services.bulk),
    ...blockPlanOperations(services.plans),
    ...blockingRuleOperations(services.rules),
    ...webhookOperations(services.inbox, services.bulk),
    ...auditOperations(services.auditTrail, services.access),
  ];
}
