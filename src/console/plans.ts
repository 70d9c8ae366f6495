import type { Principal } from "../auth/api-keys";
import type { BlockPlanService } from "../block-plans/service";
import type { CalendarNames } from "../locations/calendar-names";
import type { Db } from "../db/client";
import { placed } from "./placed";

export const BLOCKS_SHOWN = 500;

/** A plan for the console: its blocks (the first few hundred) and conflicts, with names and local times. */
export async function planPage(
  db: Db,
  names: CalendarNames,
  plans: BlockPlanService,
  principal: Principal,
  id: string,
) {
  const plan = await plans.view(principal, id, "all");
  const blocks = plan.blocks!.slice(0, BLOCKS_SHOWN);
  const shown = await placed(db, names, [...blocks, ...plan.conflicts]);
  return {
    plan,
    blocks: shown.slice(0, blocks.length),
    conflicts: shown.slice(blocks.length),
    blockCount: plan.blocks!.length,
  };
}
