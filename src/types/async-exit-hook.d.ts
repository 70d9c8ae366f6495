// async-exit-hook ships no types; only what src/db/database.ts uses.
declare module "async-exit-hook" {
  const hook: { unhookEvent(event: string): void };
  export default hook;
}
