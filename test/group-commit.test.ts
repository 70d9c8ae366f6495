import { GroupCommit } from "../src/util/concurrency";

/** Items added while a flush runs share the next one; a failing batch does not take good items with it. */
describe("GroupCommit", () => {
  const tick = () => new Promise((r) => setTimeout(r, 5));

  it("sends the first item at once and the ones that waited together", async () => {
    const batches: number[][] = [];
    const commits = new GroupCommit<number, number>(
      async (items) => {
        batches.push(items);
        await tick();
        return items.map((i) => i * 10);
      },
      { maxBatch: 100, split: () => true },
    );
    const results = await Promise.all([1, 2, 3, 4].map((i) => commits.add(i)));
    expect(results).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it("retries a failed batch item by item, so only the bad item fails", async () => {
    const commits = new GroupCommit<number, number>(
      async (items) => {
        await tick();
        if (items.includes(3)) throw new Error("item 3 cannot be stored");
        return items;
      },
      { maxBatch: 100, split: () => true },
    );
    const settled = await Promise.allSettled([1, 2, 3, 4].map((i) => commits.add(i)));
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
  });

  it("fails the whole batch at once when the error is not about one item", async () => {
    let calls = 0;
    const commits = new GroupCommit<number, number>(
      async () => {
        calls++;
        await tick();
        throw new Error("database down");
      },
      { maxBatch: 100, split: () => false },
    );
    const settled = await Promise.allSettled([1, 2, 3, 4].map((i) => commits.add(i)));
    expect(settled.every((s) => s.status === "rejected")).toBe(true);
    expect(calls).toBe(2); // [1], then [2, 3, 4]: nothing tried one by one
  });
});
