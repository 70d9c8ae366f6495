import type { SandboxCompany } from "../../sandbox";
import { apiAs } from "./api";
import type { Harness } from "./harness";

/** Two clinics of one agency, in New York and London, two calendars each with their staff. */
export const CLINICS: SandboxCompany = {
  id: "agency-clinics",
  name: "Harbour Clinics",
  locations: [
    {
      id: "clinic-ny",
      name: "Harbour Clinic New York",
      timezone: "America/New_York",
      users: [{ id: "lee-ny", name: "Dr. Lee" }],
      calendars: [
        { id: "ny-chairs", name: "Chairs", teamMembers: ["lee-ny"] },
        { id: "ny-xray", name: "X-ray", teamMembers: ["lee-ny"] },
      ],
    },
    {
      id: "clinic-ldn",
      name: "Harbour Clinic London",
      timezone: "Europe/London",
      users: [{ id: "lee-ldn", name: "Dr. Lee" }],
      calendars: [
        { id: "ldn-chairs", name: "Chairs", teamMembers: ["lee-ldn"] },
        { id: "ldn-xray", name: "X-ray", teamMembers: ["lee-ldn"] },
      ],
    },
  ],
};

/** Another agency: its location is outside a Harbour Clinics key's scope. */
export const ELSEWHERE: SandboxCompany = {
  id: "agency-elsewhere",
  name: "Elsewhere Agency",
  locations: [
    { id: "clinic-elsewhere", name: "Elsewhere", timezone: "Asia/Kolkata", calendars: [{ id: "e-cal", name: "Main" }] },
  ],
};

export const PLANS = "/api/block-plans";

export interface PlanBody {
  id: string;
  status: string;
  total: number;
  counts: Record<"pending" | "created" | "failed" | "removed", number>;
  blocks?: {
    locationId: string;
    calendarId?: string;
    assignedUserId?: string;
    startTime: string;
    endTime: string;
    status: string;
    blockSlotId?: string;
    error?: { code: string; detail: string };
  }[];
  conflicts: { eventId: string; kind: string }[];
}

/** Polls the plan until `done(plan)` (by default: nothing pending) or the time is up. */
export async function waitForPlan(
  h: Harness,
  id: string,
  done: (plan: PlanBody) => boolean = (plan) => plan.counts.pending === 0,
  timeoutMs = 60_000,
): Promise<PlanBody> {
  const until = Date.now() + timeoutMs;
  let plan: PlanBody | undefined;
  while (Date.now() < until) {
    plan = (await apiAs(h).get(`${PLANS}/${id}`).expect(200)).body as PlanBody;
    if (done(plan)) return plan;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `plan ${id} did not get there in ${timeoutMs} ms; last seen: ${JSON.stringify(plan?.counts)} ${plan?.status}`,
  );
}

/** Applies a plan through the API (whoever works the queue makes its blocks); its blocks' row ids. */
export async function applyPlan(h: Harness, body: object): Promise<{ planId: string; blockIds: string[] }> {
  const { id } = (await apiAs(h).post(PLANS).send(body).expect(202)).body as { id: string };
  const blocks = await h.db.planBlock.findMany({
    where: { planId: id },
    orderBy: { key: "asc" },
    select: { id: true },
  });
  return { planId: id, blockIds: blocks.map((b) => b.id) };
}
