// A small JSON reader and writer for tool guests: enough for ABI v1 messages and tool
// arguments, with no dependency and no imports. parse returns null on any syntax error.

/** The kind of a JSON value. */
export enum Kind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

/** One parsed JSON value. Reading a missing key or index gives a Null value, never a trap. */
export class Value {
  kind: Kind = Kind.Null;
  b: bool = false;
  n: f64 = 0;
  s: string = "";
  items: Value[] = [];
  keys: string[] = [];

  /** The member named key of an object, or a Null value. */
  get(key: string): Value {
    if (this.kind == Kind.Object) {
      for (let i = 0; i < this.keys.length; i++) {
        if (this.keys[i] == key) return this.items[i];
      }
    }
    return new Value();
  }

  /** Whether an object has a member named key. */
  has(key: string): bool {
    if (this.kind != Kind.Object) return false;
    return this.keys.includes(key);
  }

  /** Element i of an array, or a Null value. */
  at(i: i32): Value {
    if (this.kind == Kind.Array && i >= 0 && i < this.items.length) return this.items[i];
    return new Value();
  }

  /** The number of elements of an array or members of an object; 0 otherwise. */
  get length(): i32 {
    return this.kind == Kind.Array || this.kind == Kind.Object ? this.items.length : 0;
  }

  isNull(): bool {
    return this.kind == Kind.Null;
  }

  /** The string, or def when the value is not a string. */
  str(def: string = ""): string {
    return this.kind == Kind.String ? this.s : def;
  }

  /** The number, or def when the value is not a number. */
  num(def: f64 = 0): f64 {
    return this.kind == Kind.Number ? this.n : def;
  }

  /** The boolean, or def when the value is not a boolean. */
  bool(def: bool = false): bool {
    return this.kind == Kind.Bool ? this.b : def;
  }

  /** The value written back as JSON text. */
  toJSON(): string {
    switch (this.kind) {
      case Kind.Bool:
        return this.b ? "true" : "false";
      case Kind.Number:
        return number(this.n);
      case Kind.String:
        return quote(this.s);
      case Kind.Array: {
        const parts = new Array<string>(this.items.length);
        for (let i = 0; i < this.items.length; i++) parts[i] = this.items[i].toJSON();
        return "[" + parts.join(",") + "]";
      }
      case Kind.Object: {
        const parts = new Array<string>(this.items.length);
        for (let i = 0; i < this.items.length; i++) parts[i] = quote(this.keys[i]) + ":" + this.items[i].toJSON();
        return "{" + parts.join(",") + "}";
      }
    }
    return "null";
  }
}

/** Parses JSON text; null when it is not exactly one valid JSON value. Nesting is capped at 128. */
export function parse(text: string): Value | null {
  const p = new Parser(text);
  p.space();
  const v = p.value(0);
  if (v === null) return null;
  p.space();
  if (p.i != text.length) return null;
  return v;
}

class Parser {
  i: i32 = 0;
  constructor(public t: string) {}

  space(): void {
    while (this.i < this.t.length) {
      const c = this.t.charCodeAt(this.i);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.i++;
    }
  }

  lit(word: string): bool {
    if (this.t.substr(this.i, word.length) != word) return false;
    this.i += word.length;
    return true;
  }

  value(depth: i32): Value | null {
    if (depth > 128 || this.i >= this.t.length) return null;
    const c = this.t.charCodeAt(this.i);
    const v = new Value();
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) {
      const s = this.string();
      if (s === null) return null;
      v.kind = Kind.String;
      v.s = s;
      return v;
    }
    if (this.lit("true")) {
      v.kind = Kind.Bool;
      v.b = true;
      return v;
    }
    if (this.lit("false")) {
      v.kind = Kind.Bool;
      return v;
    }
    if (this.lit("null")) return v;
    return this.number();
  }

  number(): Value | null {
    const start = this.i;
    while (this.i < this.t.length) {
      const c = this.t.charCodeAt(this.i);
      if ((c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x65 || c == 0x45) this.i++;
      else break;
    }
    if (this.i == start) return null;
    const text = this.t.substring(start, this.i);
    const n = parseFloat(text);
    if (isNaN(n)) return null;
    const v = new Value();
    v.kind = Kind.Number;
    v.n = n;
    return v;
  }

  string(): string | null {
    this.i++; // the opening quote
    let out = "";
    let from = this.i;
    while (this.i < this.t.length) {
      const c = this.t.charCodeAt(this.i);
      if (c == 0x22) {
        out += this.t.substring(from, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) return null;
      if (c != 0x5c) {
        this.i++;
        continue;
      }
      out += this.t.substring(from, this.i);
      this.i++;
      if (this.i >= this.t.length) return null;
      const e = this.t.charCodeAt(this.i);
      this.i++;
      if (e == 0x22) out += '"';
      else if (e == 0x5c) out += "\\";
      else if (e == 0x2f) out += "/";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x6e) out += "\n";
      else if (e == 0x72) out += "\r";
      else if (e == 0x74) out += "\t";
      else if (e == 0x75) {
        if (this.i + 4 > this.t.length) return null;
        let code = 0;
        for (let k = 0; k < 4; k++) {
          const h = this.t.charCodeAt(this.i + k);
          let d = -1;
          if (h >= 0x30 && h <= 0x39) d = h - 0x30;
          else if (h >= 0x61 && h <= 0x66) d = h - 0x61 + 10;
          else if (h >= 0x41 && h <= 0x46) d = h - 0x41 + 10;
          if (d < 0) return null;
          code = code * 16 + d;
        }
        this.i += 4;
        out += String.fromCharCode(code);
      } else return null;
      from = this.i;
    }
    return null;
  }

  array(depth: i32): Value | null {
    this.i++;
    const v = new Value();
    v.kind = Kind.Array;
    this.space();
    if (this.i < this.t.length && this.t.charCodeAt(this.i) == 0x5d) {
      this.i++;
      return v;
    }
    while (true) {
      this.space();
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.space();
      if (this.i >= this.t.length) return null;
      const c = this.t.charCodeAt(this.i++);
      if (c == 0x5d) return v;
      if (c != 0x2c) return null;
    }
  }

  object(depth: i32): Value | null {
    this.i++;
    const v = new Value();
    v.kind = Kind.Object;
    this.space();
    if (this.i < this.t.length && this.t.charCodeAt(this.i) == 0x7d) {
      this.i++;
      return v;
    }
    while (true) {
      this.space();
      if (this.i >= this.t.length || this.t.charCodeAt(this.i) != 0x22) return null;
      const key = this.string();
      if (key === null) return null;
      this.space();
      if (this.i >= this.t.length || this.t.charCodeAt(this.i) != 0x3a) return null;
      this.i++;
      this.space();
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.keys.push(key);
      v.items.push(item);
      this.space();
      if (this.i >= this.t.length) return null;
      const c = this.t.charCodeAt(this.i++);
      if (c == 0x7d) return v;
      if (c != 0x2c) return null;
    }
  }
}

const HEX = "0123456789abcdef";

/** s as a JSON string literal, quotes included. */
export function quote(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    out += s.substring(from, i);
    from = i + 1;
    if (c == 0x22) out += '\\"';
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else out += "\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
  }
  return out + s.substring(from) + '"';
}

/** n as a JSON number: integers without a fraction, NaN and infinities as 0. */
export function number(n: f64): string {
  if (!isFinite(n)) return "0";
  if (n == Math.floor(n) && Math.abs(n) < 9007199254740992) return (<i64>n).toString();
  return n.toString();
}

/**
 * Builds a JSON object member by member:
 * `new Obj().str("op", "fs.read").num("max_bytes", 10).toString()`.
 */
export class Obj {
  private parts: string[] = [];

  str(key: string, v: string): Obj {
    this.parts.push(quote(key) + ":" + quote(v));
    return this;
  }
  num(key: string, v: f64): Obj {
    this.parts.push(quote(key) + ":" + number(v));
    return this;
  }
  bool(key: string, v: bool): Obj {
    this.parts.push(quote(key) + ":" + (v ? "true" : "false"));
    return this;
  }
  /** A member whose value is JSON text already (an object, an array, a schema). */
  raw(key: string, json: string): Obj {
    this.parts.push(quote(key) + ":" + json);
    return this;
  }
  strs(key: string, v: string[]): Obj {
    const q = new Array<string>(v.length);
    for (let i = 0; i < v.length; i++) q[i] = quote(v[i]);
    this.parts.push(quote(key) + ":[" + q.join(",") + "]");
    return this;
  }
  toString(): string {
    return "{" + this.parts.join(",") + "}";
  }
}
