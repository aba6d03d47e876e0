import { Writable } from "node:stream";

/**
 * What a terminal shows after the bytes written to it: enough of VT100 for the sequences Node's
 * readline and cli-progress emit (cursor moves and column, erase in line / below, save/restore).
 * A newline goes to the start of the next row, as a terminal in cooked mode (onlcr) does.
 */
export function createScreen(columns = 120) {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  let text = "";
  const line = () => {
    while (rows.length <= row) rows.push([]);
    return rows[row] as string[];
  };
  const apply = (input: string) => {
    const tokens = input.match(/\u001b\[[?\d;]*[A-Za-z]|\u001b[78]|[\s\S]/g) ?? [];
    for (const token of tokens) {
      const csi = /^\u001b\[(\??)(\d*)[;\d]*([A-Za-z])$/.exec(token);
      if (token === "\n") [row, col] = [row + 1, 0];
      else if (token === "\r") col = 0;
      else if (token === "\u001b7") saved = { row, col };
      else if (token === "\u001b8") ({ row, col } = saved);
      else if (csi) {
        const [, privateMode, digits, command] = csi;
        const n = digits === "" ? undefined : Number(digits);
        if (privateMode) continue;
        if (command === "A") row = Math.max(0, row - (n ?? 1));
        else if (command === "B") row += n ?? 1;
        else if (command === "C") col += n ?? 1;
        else if (command === "D") col = Math.max(0, col - (n ?? 1));
        else if (command === "G") col = (n ?? 1) - 1;
        else if (command === "K") {
          const cells = line();
          if ((n ?? 0) === 0) cells.splice(col);
          else if (n === 1) cells.fill(" ", 0, col + 1);
          else cells.length = 0;
        } else if (command === "J" && (n ?? 0) === 0) {
          line().splice(col);
          rows.splice(row + 1);
        }
      } else if (token >= " ") {
        const cells = line();
        while (cells.length < col) cells.push(" ");
        cells[col] = token;
        col = Math.min(col + 1, columns);
      }
    }
  };
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        const part = chunk.toString("utf8");
        text += part;
        apply(part);
        callback();
      },
    }),
    { isTTY: true, columns },
  );
  return {
    stream,
    /** Everything written, escape sequences included. */
    raw: () => text,
    /** The visible rows, trailing blanks trimmed. */
    lines: () => rows.map((cells) => cells.join("").trimEnd()).filter((_, i, all) => i < all.length),
  };
}
