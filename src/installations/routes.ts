import { z } from "zod";
import type { AccessPolicy } from "../auth/scope";
import type { Db } from "../db/client";
import { EXAMPLE_LOCATION } from "../http/examples";
import { operation, type Operation } from "../http/operation";

const isoDate = z.string().meta({ format: "date-time" });

const installStatus = z
  .enum(["connecting", "active", "reauthorization_required", "inactive", "uninstalled", "failed"])
  .meta({
    description:
      "`connecting`: an agency install is still getting the location's token. `failed`: it could not be connected (`lastError` says why).",
  });

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
      name: z.string().nullable().meta({
        description: "From HighLevel's INSTALL webhook; null until it has arrived (show the id, marked as such).",
      }),
      status: installStatus,
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
      name: z.string().nullable().meta({ description: "HighLevel's name of the sub-account, once read." }),
      timeZone: z.string().nullable().meta({
        description: "IANA time zone from HighLevel's location record, once read.",
        example: "America/Chicago",
      }),
      source: z.enum(["direct", "agency"]),
      status: installStatus,
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
        body: {
          name: "Installations",
          schema: installationsResponse,
          example: {
            companies: [
              {
                id: "otg8dTQqGLh3Q6iQI55w",
                name: "Acme Agency",
                status: "active",
                tokenExpiresAt: "2030-05-01T09:00:00.000Z",
                locationCount: 2,
                needsAttention: false,
              },
            ],
            locations: [
              {
                id: EXAMPLE_LOCATION,
                companyId: "otg8dTQqGLh3Q6iQI55w",
                name: "Acme Dental – Downtown",
                timeZone: "America/New_York",
                source: "agency",
                status: "active",
                tokenExpiresAt: "2030-05-01T08:30:00.000Z",
                needsAttention: false,
              },
              {
                id: "b7FkR2sLq9WmXc4Pz1Td",
                companyId: "otg8dTQqGLh3Q6iQI55w",
                name: "Acme Physio – Riverside",
                timeZone: "America/Chicago",
                source: "agency",
                status: "reauthorization_required",
                tokenExpiresAt: null,
                lastError: "Invalid grant: refresh token is invalid",
                needsAttention: false,
              },
            ],
          },
        },
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
            timeZone: l.timeZone,
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
