import { Router } from "express";
import { accessToken, validation } from "./auth";
import { httpErrorBody, NO_LOCATION_ACCESS, refuse, rejectInvalid } from "./errors";
import type { SandboxState } from "./state";
import type { FoundLocation } from "./world";

/**
 * get-location declares only 400, 401 and 422 answers, so an unknown id is a 400 (worded like
 * /oauth/locationToken's answer for one; HighLevel's exact message is unconfirmed).
 */
const LOCATION_NOT_FOUND = httpErrorBody(400, "Location not found");

/** GetLocationByIdSchema from locations.json, with what the fixtures know. */
function locationBody(state: SandboxState, { company, location }: FoundLocation) {
  const timezone = state.world.timezoneOf(location);
  return {
    id: location.id,
    companyId: company.id,
    name: location.name,
    address: location.address ?? "",
    timezone,
    ...(location.email ? { email: location.email } : {}),
    business: { name: location.name, address: location.address ?? "", timezone },
    settings: {
      allowDuplicateContact: false,
      allowDuplicateOpportunity: false,
      allowFacebookNameMerge: false,
      disableContactTimezone: false,
    },
  };
}

/** The locations API (header Version 2021-07-28): only get-location is simulated. */
export function locationRoutes(state: SandboxState): Router {
  const router = Router();

  router.get("/locations/:locationId", (req, res, next) => {
    // "/locations/search" is another operation (not simulated), not a location id.
    if (validation(res).operation?.operationId !== "get-location") return next();
    const token = accessToken(res);
    const id = String(req.params.locationId);
    // A Location token sees only its own location: any other id, known or not, is refused.
    if (token.userType === "Location" && id !== token.locationId) {
      return rejectInvalid(res, 403, NO_LOCATION_ACCESS, [`location ${id} is not the token's location`]);
    }
    const found = state.findLocation(id);
    if (!found) return refuse(res, 400, LOCATION_NOT_FOUND, "no such location");
    if (found.company.id !== token.companyId) {
      return rejectInvalid(res, 403, NO_LOCATION_ACCESS, [`location ${id} belongs to another company`]);
    }
    res.json({ location: locationBody(state, found) });
  });

  return router;
}
