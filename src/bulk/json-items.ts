import { JSONParser, TokenType, type ParsedTokenInfo } from "@streamparser/json";
import { AppError } from "../errors";

/**
 * Tokens one item may have. A block slot has six fields: 2 braces, 6 × (key, colon, value) and 5
 * commas make 25. Anything far past that is not a block slot and is not worth parsing on.
 */
const MAX_ITEM_TOKENS = 100;

const shapeError = (path: string, message: string) =>
  new AppError("invalid_request", `The request body is invalid: ${path}.`, { errors: [{ path, message }] });

const VALUE_STARTS = new Set([
  TokenType.LEFT_BRACE,
  TokenType.LEFT_BRACKET,
  TokenType.STRING,
  TokenType.NUMBER,
  TokenType.TRUE,
  TokenType.FALSE,
  TokenType.NULL,
]);

/**
 * Watches the tokens go by and throws as soon as the body leaves the shape `{"items": [...]}`: a
 * field other than `items`, `items` not an array, more than `maxItems` items, an item far larger
 * than a block slot. So a hostile body costs at most what it takes to reach its first wrong token.
 */
class ShapeGuard {
  /** One entry per open object or array; `expectKey` while an object's next string is a key. */
  private readonly open: { array: boolean; expectKey: boolean }[] = [];
  private awaitingItems = false;
  sawItems = false;
  items = 0;
  private itemTokens = 0;

  constructor(private readonly maxItems: number) {}

  see({ token, value }: ParsedTokenInfo): void {
    const depth = this.open.length;
    const top = this.open[depth - 1];
    if (depth === 0 && token !== TokenType.LEFT_BRACE)
      throw shapeError("body", 'must be a JSON object: {"items": [...]}');
    if (depth >= 3 && ++this.itemTokens > MAX_ITEM_TOKENS) {
      throw shapeError(`items.${this.items - 1}`, "is far larger than a block slot");
    }
    if (top && !top.array && top.expectKey && token === TokenType.STRING) {
      top.expectKey = false;
      if (value === "__proto__")
        throw shapeError(depth === 1 ? "body" : `items.${this.items - 1}`, "unknown field: __proto__");
      if (depth === 1) {
        if (value !== "items") throw shapeError("body", `unknown field: ${String(value)}`);
        if (this.sawItems) throw shapeError("items", "is given twice");
        this.sawItems = this.awaitingItems = true;
      }
      return;
    }
    if (token === TokenType.COMMA && top && !top.array) top.expectKey = true;
    if (VALUE_STARTS.has(token)) {
      if (depth === 1 && this.awaitingItems) {
        this.awaitingItems = false;
        if (token !== TokenType.LEFT_BRACKET) throw shapeError("items", "must be an array of items");
      }
      // Depth 2 is the items array: the only value the body may hold.
      if (depth === 2) {
        this.items += 1;
        this.itemTokens = 1;
        if (this.items > this.maxItems) {
          throw shapeError("items", `at most ${this.maxItems.toLocaleString("en")} items per job`);
        }
      }
    }
    if (token === TokenType.LEFT_BRACE) this.open.push({ array: false, expectKey: true });
    else if (token === TokenType.LEFT_BRACKET) this.open.push({ array: true, expectKey: false });
    else if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) this.open.pop();
  }
}

/**
 * The items of a JSON body `{"items": [...]}`, parsed as the bytes arrive and handed on in
 * batches (those each slice completed). Stops at the first token that cannot belong to a valid
 * body, without reading the rest; the caller validates each item.
 */
export async function* jsonItems(slices: AsyncIterable<Buffer>, maxItems: number): AsyncGenerator<unknown[]> {
  const guard = new ShapeGuard(maxItems);
  const parser = new JSONParser({ paths: ["$.items.*"], keepStack: false });
  let batch: unknown[] = [];
  let failure: unknown;
  parser.onToken = (token) => guard.see(token);
  parser.onValue = ({ value }) => void batch.push(value);
  parser.onError = (err) => void (failure ??= err);
  parser.onEnd = () => {};
  const failed = () =>
    failure instanceof AppError ? failure : new AppError("invalid_request", "The request body is not valid JSON.");

  for await (const slice of slices) {
    parser.write(slice);
    if (failure) throw failed();
    if (batch.length) {
      yield batch;
      batch = [];
    }
  }
  if (!parser.isEnded) parser.end();
  if (failure) throw failed();
  if (!guard.sawItems) throw shapeError("items", "is required");
  if (batch.length) yield batch;
}
