import { startSandbox } from "./index";

/** Runs the sandbox on its own: `npx tsx sandbox/main.ts` (PORT, default 4010). */
async function main(): Promise<void> {
  const sandbox = await startSandbox({ port: Number(process.env.PORT ?? 4010) });
  const { state } = sandbox;
  const consent = new URL("/v2/oauth/chooselocation", sandbox.url);
  consent.search = new URLSearchParams({
    response_type: "code",
    client_id: state.clientId,
    redirect_uri: "http://127.0.0.1:3000/oauth/callback",
    scope: "calendars/events.write calendars/events.readonly oauth.write oauth.readonly",
  }).toString();
  process.stdout.write(
    [
      `HighLevel sandbox listening on ${sandbox.url}`,
      `  client_id      ${state.clientId}`,
      `  client_secret  ${state.clientSecret}`,
      `  consent page   ${consent.toString()}`,
      `  recorded calls ${sandbox.url}/_sandbox/requests`,
      "",
    ].join("\n"),
  );
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
