import { parse } from "csv-parse/sync";
import { csvText, neutraliseCell } from "../src/util/csv";

/** Every CSV the app or its CLI writes goes through csvText: a cell must never open as a formula. */
describe("CSV cells that a spreadsheet would run as a formula (OWASP CSV injection)", () => {
  it.each([
    ["=1+1", "'=1+1"],
    ["+1+1", "'+1+1"],
    ["-1+1", "'-1+1"],
    ["@SUM(A1:A2)", "'@SUM(A1:A2)"],
    ["\t=1+1", "'\t=1+1"],
    ["\r=1+1", "'\r=1+1"],
  ])("neutralises %j", (cell, shown) => {
    expect(neutraliseCell(cell)).toBe(shown);
  });

  it.each(["Team training", "a=b", "2030-05-01T09:00:00+02:00", "", "'quoted"])("leaves %j as it is", (cell) => {
    expect(neutraliseCell(cell)).toBe(cell);
  });

  it("writes numbers as numbers and text neutralised, quoting where CSV needs it", () => {
    const text = csvText([
      ["line", "title"],
      [7, '=HYPERLINK("http://evil.example","x")'],
      [8, "Lunch, then\nmeeting"],
    ]);
    expect(parse(text)).toEqual([
      ["line", "title"],
      ["7", `'=HYPERLINK("http://evil.example","x")`],
      ["8", "Lunch, then\nmeeting"],
    ]);
  });
});
