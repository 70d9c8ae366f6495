import { Router } from "express";
import type { Services } from "../services";

/** The operator console (`/console`): to be filled in. */
export function consoleRoutes(_services: Services): Router {
  return Router();
}
