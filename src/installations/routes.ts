import { z } from "zod";
import type { AccessPolicy } from "../auth/scope";
import type { Db } from "../db/client";
import { operation, type Operation } from "../http/operation";

const isoDate = z.string().meta({ format: "date-time" });

/** How the background renewal of an installation's token is going. */
const renewal = {
  refreshFailingSince: isoDate
    .optional()
    .meta({ description: "Background renewals of the token have failed since then (absent while they succeed)." }),
  needsAttention: z.boolean().meta({
    description:
      "Renewals failed for REFRESH_GIVE_UP_DAYS and the app stopped retrying in the background: check the " +
      "installation in HighLevel or reinstall. Cleared by the next successful renewal.",
  }),
};

const renewalOf = (row: { refreshFailingSince: Date | null; refreshGivenUpAt: Date | null }) => ({
  ...(row.refreshFailingSince ? { refreshFailingSince: row.refreshFailingSince.toISOString() } : {}),
  needsAttention: row.refreshGivenUpAt !== null,
});

export const installationsResponse = z.object({
  companies: z.array(
    z.object({
      id: z.string(),
      name: z.string().nullable(),
      status: z.enum(["active", "reauthorization_required", "inactive", "uninstalled", "failed"]),
      tokenExpiresAt: isoDate.nullable(),
      locationCount: z.number().int(),
      lastError: z.string().optional(),
      ...renewal,
    }),
  ),
  locations: z.array(
    z.object({
      id: z.string(),
      companyId: z.string().nullable(),
      name: z.string().nullable(),
      source: z.enum(["direct", "agency"]),
      status: z.enum(["active", "reauthorization_required", "inactive", "uninstalled", "failed"]),
      tokenExpiresAt: isoDate.nullable(),
      lastError: z.string().optional(),
      ...renewal,
    }),
  ),
});

/** `GET /api/installations`: what is connected and in what state — never a token; only what the key may see. */
export function installationOperations(db: Db, access: AccessPolicy): Operation[] {
  return [
    operation({
      id: "listInstallations",
      method: "get",
      path: "/api/installations",
      tag: "Installations",
      summary: "Connected companies and locations",
      description: "Status and token expiry of everything the key may see. Never a token.",
      auth: "apiKey",
      response: {
        status: 200,
        description: "Installations.",
        body: { name: "Installations", schema: installationsResponse },
      },
      errors: {},
      async handle({ principal }) {
        const companyWhere = access.companyWhere(principal);
        const locationWhere = access.locationWhere(principal);
        const [companies, locations, counts] = await Promise.all([
          companyWhere ? db.company.findMany({ where: companyWhere, orderBy: { id: "asc" } }) : [],
          db.location.findMany({ where: locationWhere, orderBy: { id: "asc" } }),
          db.location.groupBy({ by: ["companyId"], where: locationWhere, _count: { _all: true } }),
        ]);
        const locationCount = new Map(counts.map((c) => [c.companyId, c._count._all]));
        return {
          companies: companies.map((c) => ({
            id: c.id,
            name: c.name,
            status: c.status,
            tokenExpiresAt: c.tokenExpiresAt?.toISOString() ?? null,
            locationCount: locationCount.get(c.id) ?? 0,
            ...(c.lastError ? { lastError: c.lastError } : {}),
            ...renewalOf(c),
          })),
          locations: locations.map((l) => ({
            id: l.id,
            companyId: l.companyId,
            name: l.name,
            source: l.source,
            status: l.status,
            tokenExpiresAt: l.tokenExpiresAt?.toISOString() ?? null,
            ...(l.lastError ? { lastError: l.lastError } : {}),
            ...renewalOf(l),
          })),
        };
      },
    }),
  ];
}
