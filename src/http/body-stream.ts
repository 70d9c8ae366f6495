import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { setImmediate as nextTurn } from "node:timers/promises";
import zlib from "node:zlib";
import { AppError } from "../errors";

/**
 * The most a parser is handed at once. Parsing 16 KB of the worst input (a value every two
 * bytes) takes a few milliseconds; between slices other requests get their turn.
 */
export const SLICE_BYTES = 16 * 1024;

const DECODERS: Record<string, () => zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress> = {
  gzip: () => zlib.createGunzip(),
  "x-gzip": () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

/** How many limits' worth of an unwanted body is read and dropped before the connection is cut. */
const DRAIN_LIMITS = 4;

const tooLarge = (limit: number) =>
  new AppError("payload_too_large", `The request body is over ${(limit / 1024 / 1024).toFixed(0)} MB.`);

/** The charset of a Content-Type, lower case; `utf-8` when none is given. */
export function charsetOf(contentType: string): string {
  return (/;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1] ?? "utf-8").toLowerCase();
}

/**
 * The request body as it arrives, decoded (gzip, deflate, br), in slices of at most SLICE_BYTES,
 * with a turn of the event loop after each slice is used; over `limit` (declared or counted) it
 * throws `payload_too_large`. Unlike body-parser it never holds the whole body, and a consumer
 * that stops early (a bad row) stops the parsing: the rest is dropped unread.
 */
export async function* bodySlices(req: IncomingMessage, limit: number): AsyncGenerator<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) {
    drain(req, limit);
    throw tooLarge(limit);
  }
  const coding = (req.headers["content-encoding"] ?? "identity").trim().toLowerCase();
  const decoder = coding === "identity" ? undefined : DECODERS[coding]?.();
  if (coding !== "identity" && !decoder) {
    throw new AppError(
      "unsupported_media_type",
      `Content-Encoding ${coding} is not supported: send gzip, deflate, br or none.`,
    );
  }
  const source: Readable = decoder ? req.pipe(decoder) : req;
  let read = 0;
  let done = false;
  try {
    for await (const chunk of source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      read += chunk.length;
      if (read > limit) throw tooLarge(limit);
      for (let at = 0; at < chunk.length; at += SLICE_BYTES) {
        yield chunk.subarray(at, at + SLICE_BYTES);
        await nextTurn();
      }
    }
    done = true;
  } catch (err) {
    if (err instanceof AppError) throw err;
    // The client went away mid-body, or sent bytes the decoder refused: its request, not our bug.
    if ((err as { code?: string }).code === "ECONNRESET")
      throw new AppError("invalid_request", "The request body was cut off.");
    if (decoder) throw new AppError("invalid_request", `The request body is not valid ${coding}.`, { cause: err });
    throw err;
  } finally {
    if (decoder) {
      req.unpipe(decoder);
      decoder.destroy();
    }
    if (!done) drain(req, limit);
  }
}

/**
 * Reads and drops what is left of a body nobody will parse, as body-parser does: a client still
 * sending then gets the answer instead of a reset connection. Dropping costs no parsing; a body
 * that goes on past a few times the limit (one without a length can go on for ever) loses its
 * connection instead.
 */
function drain(req: IncomingMessage, limit: number): void {
  if (req.readableEnded || req.destroyed) return;
  let dropped = 0;
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_LIMITS * limit) req.socket.destroy();
  });
  req.resume();
}
