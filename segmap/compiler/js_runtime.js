// segmap JavaScript runtime: the twins of segmap/runtime/functions.py.
//
// The JS generator pastes the declarations it needs at the top of the
// exported handler. Rules for this file (checked by tests/runtime):
// - plain ES2019: only top-level `function` declarations and `var`
//   constants, no `?.`, `??`, classes, imports or require;
// - every top-level name starts with `__sm_`;
// - a block is the comment lines directly above a declaration plus the
//   declaration, which ends at the first line that starts with `}` (or at
//   its own line when that ends with `;`);
// - a `// deps: a, b` comment line lists every other `__sm_` name the
//   block uses, so the generator can tree-shake by name.
// MISSING is `undefined`. A failing helper throws an Error whose name is
// "MappingRuntimeError".

// Throws the run-time error of a mapping expression.
function __sm_fail(message) {
  var e = new Error(message);
  e.name = "MappingRuntimeError";
  throw e;
}

// The mapping-language name of a value's type, for error messages.
function __sm_type(x) {
  if (x === undefined) return "missing";
  if (x === null) return "null";
  if (Array.isArray(x)) return "list";
  var t = typeof x;
  if (t === "boolean") return "bool";
  return t;
}

// A number as the mapping exposes it: finite, and -0 becomes 0.
// deps: __sm_fail, __sm_type
function __sm_num(x) {
  if (typeof x !== "number") __sm_fail("expected a number, got " + __sm_type(x));
  if (x - x !== 0) __sm_fail("arithmetic result is not a finite number");
  return x === 0 ? 0 : x;
}

// a + b: numbers add, two strings concatenate; MISSING wins over null.
// deps: __sm_fail, __sm_type, __sm_num
function __sm_add(a, b) {
  var ta = typeof a, tb = typeof b;
  if (ta === "number" && tb === "number") return __sm_num(a + b);
  if (ta === "string" && tb === "string") return a + b;
  if (a === undefined || b === undefined) return undefined;
  if (a === null || b === null) return null;
  __sm_fail("cannot add " + __sm_type(a) + " and " + __sm_type(b));
}

// a - b on numbers.
// deps: __sm_fail, __sm_type, __sm_num
function __sm_sub(a, b) {
  if (typeof a === "number" && typeof b === "number") return __sm_num(a - b);
  if (a === undefined || b === undefined) return undefined;
  if (a === null || b === null) return null;
  __sm_fail("cannot subtract " + __sm_type(a) + " and " + __sm_type(b));
}

// a * b on numbers.
// deps: __sm_fail, __sm_type, __sm_num
function __sm_mul(a, b) {
  if (typeof a === "number" && typeof b === "number") return __sm_num(a * b);
  if (a === undefined || b === undefined) return undefined;
  if (a === null || b === null) return null;
  __sm_fail("cannot multiply " + __sm_type(a) + " and " + __sm_type(b));
}

// a / b on numbers; dividing by zero is an error.
// deps: __sm_fail, __sm_type, __sm_num
function __sm_div(a, b) {
  if (typeof a === "number" && typeof b === "number") {
    if (b === 0) __sm_fail("division by zero");
    return __sm_num(a / b);
  }
  if (a === undefined || b === undefined) return undefined;
  if (a === null || b === null) return null;
  __sm_fail("cannot divide " + __sm_type(a) + " and " + __sm_type(b));
}

// a % b on numbers (sign of the dividend); modulo by zero is an error.
// deps: __sm_fail, __sm_type, __sm_num
function __sm_mod(a, b) {
  if (typeof a === "number" && typeof b === "number") {
    if (b === 0) __sm_fail("modulo by zero");
    return __sm_num(a % b);
  }
  if (a === undefined || b === undefined) return undefined;
  if (a === null || b === null) return null;
  __sm_fail("cannot take the remainder of " + __sm_type(a) + " and " + __sm_type(b));
}

// Unary minus on a number.
// deps: __sm_fail, __sm_type, __sm_num
function __sm_neg(a) {
  if (typeof a === "number") return __sm_num(-a);
  if (a === undefined || a === null) return a;
  __sm_fail("cannot negate " + __sm_type(a));
}

// Compares two strings by Unicode code point (not UTF-16 code unit, which
// puts U+E000..U+FFFF after astral characters): <0, 0 or >0.
function __sm_strcmp(a, b) {
  if (a === b) return 0;
  var n = a.length < b.length ? a.length : b.length;
  var i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  var ca = a.charCodeAt(i), cb = b.charCodeAt(i);
  if (ca < 0xd800 && cb < 0xd800) return ca - cb;
  if (i > 0) {
    var p = a.charCodeAt(i - 1);
    if (p >= 0xd800 && p <= 0xdbff) {
      // The difference may be inside a surrogate pair that starts at i - 1.
      var pa = a.codePointAt(i - 1), pb = b.codePointAt(i - 1);
      if (pa !== pb) return pa - pb;
    }
  }
  return a.codePointAt(i) - b.codePointAt(i);
}

// a < b: two numbers, or two strings by code point; MISSING/null give false.
// deps: __sm_fail, __sm_type, __sm_strcmp
function __sm_lt(a, b) {
  var ta = typeof a, tb = typeof b;
  if (ta === "number" && tb === "number") return a < b;
  if (ta === "string" && tb === "string") return __sm_strcmp(a, b) < 0;
  if (a === undefined || a === null || b === undefined || b === null) return false;
  __sm_fail("cannot compare " + __sm_type(a) + " and " + __sm_type(b));
}

// a <= b; see lt.
// deps: __sm_fail, __sm_type, __sm_strcmp
function __sm_le(a, b) {
  var ta = typeof a, tb = typeof b;
  if (ta === "number" && tb === "number") return a <= b;
  if (ta === "string" && tb === "string") return __sm_strcmp(a, b) <= 0;
  if (a === undefined || a === null || b === undefined || b === null) return false;
  __sm_fail("cannot compare " + __sm_type(a) + " and " + __sm_type(b));
}

// a > b; see lt.
// deps: __sm_lt
function __sm_gt(a, b) {
  return __sm_lt(b, a);
}

// a >= b; see lt.
// deps: __sm_le
function __sm_ge(a, b) {
  return __sm_le(b, a);
}

// Deep JSON equality: undefined counts as null, an object member that is
// undefined counts as absent, 1 == 1.0, true != 1.
function __sm_eq(a, b) {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  var i, k, aa = Array.isArray(a);
  if (aa !== Array.isArray(b)) return false;
  if (aa) {
    if (a.length !== b.length) return false;
    for (i = 0; i < a.length; i++) {
      if (!__sm_eq(a[i], b[i])) return false;
    }
    return true;
  }
  var has = Object.prototype.hasOwnProperty, count = 0;
  var ka = Object.keys(a), kb = Object.keys(b);
  for (i = 0; i < ka.length; i++) {
    k = ka[i];
    if (a[k] === undefined) continue;
    count++;
    if (!has.call(b, k) || b[k] === undefined || !__sm_eq(a[k], b[k])) return false;
  }
  for (i = 0; i < kb.length; i++) {
    if (b[kb[i]] !== undefined) count--;
  }
  return count === 0;
}

// a != b.
// deps: __sm_eq
function __sm_ne(a, b) {
  return !__sm_eq(a, b);
}

// The truth of a condition: a boolean is itself, MISSING/null are false.
// deps: __sm_fail, __sm_type
function __sm_truth(x) {
  if (x === true || x === false) return x;
  if (x === undefined || x === null) return false;
  __sm_fail("condition must be a boolean, got " + __sm_type(x));
}

// x[i]: list element (negative from the end) or own object member;
// undefined for anything else.
function __sm_index(x, i) {
  if (Array.isArray(x)) {
    if (typeof i !== "number" || Math.floor(i) !== i) return undefined;
    if (i < 0) i += x.length;
    return i >= 0 && i < x.length ? x[i] : undefined;
  }
  if (x !== null && typeof x === "object") {
    if (typeof i === "string" && Object.prototype.hasOwnProperty.call(x, i)) return x[i];
  }
  return undefined;
}

// ISO 4217 exponents of every Dodo Payments currency (segmap/runtime/currency.py).
var __sm_CURRENCY_DECIMALS = {
  AED: 2, ALL: 2, AMD: 2, ANG: 2, AOA: 2, ARS: 2, AUD: 2, AWG: 2, AZN: 2, BAM: 2,
  BBD: 2, BDT: 2, BGN: 2, BHD: 3, BIF: 0, BMD: 2, BND: 2, BOB: 2, BRL: 2, BSD: 2,
  BWP: 2, BYN: 2, BZD: 2, CAD: 2, CHF: 2, CLP: 0, CNY: 2, COP: 2, CRC: 2, CUP: 2,
  CVE: 2, CZK: 2, DJF: 0, DKK: 2, DOP: 2, DZD: 2, EGP: 2, ETB: 2, EUR: 2, FJD: 2,
  FKP: 2, GBP: 2, GEL: 2, GHS: 2, GIP: 2, GMD: 2, GNF: 0, GTQ: 2, GYD: 2, HKD: 2,
  HNL: 2, HRK: 2, HTG: 2, HUF: 2, IDR: 2, ILS: 2, INR: 2, IQD: 3, JMD: 2, JOD: 3,
  JPY: 0, KES: 2, KGS: 2, KHR: 2, KMF: 0, KRW: 0, KWD: 3, KYD: 2, KZT: 2, LAK: 2,
  LBP: 2, LKR: 2, LRD: 2, LSL: 2, LYD: 3, MAD: 2, MDL: 2, MGA: 2, MKD: 2, MMK: 2,
  MNT: 2, MOP: 2, MRU: 2, MUR: 2, MVR: 2, MWK: 2, MXN: 2, MYR: 2, MZN: 2, NAD: 2,
  NGN: 2, NIO: 2, NOK: 2, NPR: 2, NZD: 2, OMR: 3, PAB: 2, PEN: 2, PGK: 2, PHP: 2,
  PKR: 2, PLN: 2, PYG: 0, QAR: 2, RON: 2, RSD: 2, RUB: 2, RWF: 0, SAR: 2, SBD: 2,
  SCR: 2, SEK: 2, SGD: 2, SHP: 2, SLE: 2, SLL: 2, SOS: 2, SRD: 2, SSP: 2, STN: 2,
  SVC: 2, SZL: 2, THB: 2, TND: 3, TOP: 2, TRY: 2, TTD: 2, TWD: 2, TZS: 2, UAH: 2,
  UGX: 0, USD: 2, UYU: 2, UZS: 2, VES: 2, VND: 0, VUV: 0, WST: 2, XAF: 0, XCD: 2,
  XOF: 0, XPF: 0, YER: 2, ZAR: 2, ZMW: 2
};

// The exponent of a currency code; unknown codes and non-strings fail.
// deps: __sm_fail, __sm_type, __sm_CURRENCY_DECIMALS
function __sm_currency_exponent(currency) {
  if (typeof currency !== "string") __sm_fail("currency must be a string, got " + __sm_type(currency));
  if (!Object.prototype.hasOwnProperty.call(__sm_CURRENCY_DECIMALS, currency)) {
    __sm_fail("unknown currency code " + JSON.stringify(currency));
  }
  return __sm_CURRENCY_DECIMALS[currency];
}

// Minor units -> major units: amount / 10^exponent(currency).
// deps: __sm_fail, __sm_type, __sm_num, __sm_currency_exponent
function __sm_to_major(amount, currency) {
  if (typeof amount === "number") {
    if (amount - amount !== 0 || Math.floor(amount) !== amount) {
      __sm_fail("amount must be a whole number of minor units, got " + String(amount));
    }
    return __sm_num(amount / Math.pow(10, __sm_currency_exponent(currency)));
  }
  if (amount === undefined || amount === null) return amount;
  __sm_fail("amount must be a number, got " + __sm_type(amount));
}

// The ISO 4217 exponent (0, 2 or 3) of a Dodo currency code.
// deps: __sm_currency_exponent
function __sm_decimals(currency) {
  if (currency === undefined || currency === null) return currency;
  return __sm_currency_exponent(currency);
}

// Checks a digits argument: an integer from 0 to 100.
// deps: __sm_fail, __sm_type
function __sm_digits(digits) {
  if (typeof digits !== "number") __sm_fail("digits must be a number, got " + __sm_type(digits));
  if (!(Math.floor(digits) === digits && digits >= 0 && digits <= 100)) {
    __sm_fail("digits must be an integer from 0 to 100, got " + String(digits));
  }
  return digits;
}

// x.toFixed(digits).
// deps: __sm_fail, __sm_type, __sm_digits
function __sm_fixed(x, digits) {
  if (typeof x !== "number") {
    if (x === undefined || x === null) return x;
    __sm_fail("fixed() needs a number, got " + __sm_type(x));
  }
  var d = __sm_digits(digits);
  if (x - x !== 0) __sm_fail("number is not finite");
  return x.toFixed(d);
}

// Number(x.toFixed(digits)).
// deps: __sm_fixed
function __sm_round(x, digits) {
  if (x === undefined || x === null) return x;
  var v = Number(__sm_fixed(x, digits));
  return v === 0 ? 0 : v;
}

// s.toLowerCase().
// deps: __sm_fail, __sm_type
function __sm_lower(s) {
  if (typeof s === "string") return s.toLowerCase();
  if (s === undefined || s === null) return s;
  __sm_fail("lower() needs a string, got " + __sm_type(s));
}

// s.toUpperCase().
// deps: __sm_fail, __sm_type
function __sm_upper(s) {
  if (typeof s === "string") return s.toUpperCase();
  if (s === undefined || s === null) return s;
  __sm_fail("upper() needs a string, got " + __sm_type(s));
}

// s.trim().
// deps: __sm_fail, __sm_type
function __sm_trim(s) {
  if (typeof s === "string") return s.trim();
  if (s === undefined || s === null) return s;
  __sm_fail("trim() needs a string, got " + __sm_type(s));
}

// Items of a list, or code points of a string (like Array.from(s).length).
// deps: __sm_fail, __sm_type
function __sm_length(x) {
  if (typeof x === "string") {
    var n = x.length, i, c;
    for (i = 0; i < x.length - 1; i++) {
      c = x.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        c = x.charCodeAt(i + 1);
        if (c >= 0xdc00 && c <= 0xdfff) {
          n--;
          i++;
        }
      }
    }
    return n;
  }
  if (Array.isArray(x)) return x.length;
  if (x === undefined || x === null) return x;
  __sm_fail("length() needs a list or a string, got " + __sm_type(x));
}

// Joins a list of strings with a separator.
// deps: __sm_fail, __sm_type
function __sm_join(items, sep) {
  if (Array.isArray(items)) {
    if (typeof sep !== "string") __sm_fail("join() separator must be a string, got " + __sm_type(sep));
    for (var i = 0; i < items.length; i++) {
      if (typeof items[i] !== "string") __sm_fail("join() items must be strings, got " + __sm_type(items[i]));
    }
    return items.join(sep);
  }
  if (items === undefined || items === null) return items;
  __sm_fail("join() needs a list, got " + __sm_type(items));
}

// Does a string hold a UTF-16 surrogate (so code points and code units differ)?
var __sm_SURROGATE_RE = /[\ud800-\udfff]/;

// slice()'s relative index: the integer part, negative from the end, clamped to 0..n.
// deps: __sm_fail, __sm_type
function __sm_slice_index(i, n, what) {
  if (typeof i !== "number") __sm_fail("slice() " + what + " must be a number, got " + __sm_type(i));
  i = i < 0 ? Math.ceil(i) : Math.floor(i);
  if (i < 0) return Math.max(n + i, 0);
  return Math.min(i, n);
}

// x.slice(start, end) for a list, or a string by code point.
// deps: __sm_fail, __sm_type, __sm_slice_index, __sm_SURROGATE_RE
function __sm_slice(x, start, end) {
  var s = typeof x === "string";
  if (s || Array.isArray(x)) {
    var seq = s && __sm_SURROGATE_RE.test(x) ? Array.from(x) : x;
    var n = seq.length;
    var a = __sm_slice_index(start, n, "start");
    var b = end === undefined ? n : __sm_slice_index(end, n, "end");
    var out = seq.slice(a, a < b ? b : a);
    return s && seq !== x ? out.join("") : out;
  }
  if (x === undefined || x === null) return x;
  __sm_fail("slice() needs a string or a list, got " + __sm_type(x));
}

// A string argument of a text function, or a run-time error.
// deps: __sm_fail, __sm_type
function __sm_text_arg(fn, what, v) {
  if (typeof v !== "string") __sm_fail(fn + "() " + what + " must be a string, got " + __sm_type(v));
  return v;
}

// s.split(sep) with a plain-text separator; "" splits into code points.
// deps: __sm_fail, __sm_type, __sm_text_arg
function __sm_split(s, sep) {
  if (typeof s === "string") {
    if (__sm_text_arg("split", "separator", sep) === "") return Array.from(s);
    return s.split(sep);
  }
  if (s === undefined || s === null) return s;
  __sm_fail("split() needs a string, got " + __sm_type(s));
}

// s.replaceAll(find, with) for plain text: no `$` patterns; "" matches between code points.
// deps: __sm_fail, __sm_type, __sm_text_arg
function __sm_replace(s, find, with_) {
  if (typeof s === "string") {
    __sm_text_arg("replace", "search text", find);
    __sm_text_arg("replace", "replacement", with_);
    if (find === "") return with_ + Array.from(s).join(with_) + (s === "" ? "" : with_);
    return s.split(find).join(with_);
  }
  if (s === undefined || s === null) return s;
  __sm_fail("replace() needs a string, got " + __sm_type(s));
}

// s.startsWith(prefix).
// deps: __sm_fail, __sm_type, __sm_text_arg
function __sm_starts_with(s, prefix) {
  if (typeof s === "string") return s.startsWith(__sm_text_arg("starts_with", "prefix", prefix));
  if (s === undefined || s === null) return s;
  __sm_fail("starts_with() needs a string, got " + __sm_type(s));
}

// s.endsWith(suffix).
// deps: __sm_fail, __sm_type, __sm_text_arg
function __sm_ends_with(s, suffix) {
  if (typeof s === "string") return s.endsWith(__sm_text_arg("ends_with", "suffix", suffix));
  if (s === undefined || s === null) return s;
  __sm_fail("ends_with() needs a string, got " + __sm_type(s));
}

// Text: x.includes(item); a list: some element == item (deep JSON equality).
// deps: __sm_fail, __sm_type, __sm_text_arg, __sm_eq
function __sm_contains(x, item) {
  if (typeof x === "string") return x.indexOf(__sm_text_arg("contains", "search text", item)) !== -1;
  if (Array.isArray(x)) {
    for (var i = 0; i < x.length; i++) {
      if (__sm_eq(x[i], item)) return true;
    }
    return false;
  }
  if (x === undefined || x === null) return x;
  __sm_fail("contains() needs a string or a list, got " + __sm_type(x));
}

// The sum of a list of numbers, left to right; 0 for an empty list.
// deps: __sm_fail, __sm_type, __sm_num
function __sm_sum(items) {
  if (Array.isArray(items)) {
    var acc = 0;
    for (var i = 0; i < items.length; i++) {
      if (typeof items[i] !== "number") __sm_fail("sum() items must be numbers, got " + __sm_type(items[i]));
      acc += items[i];
    }
    return __sm_num(acc);
  }
  if (items === undefined || items === null) return items;
  __sm_fail("sum() needs a list, got " + __sm_type(items));
}

// The first item of a list; undefined for an empty list.
// deps: __sm_fail, __sm_type
function __sm_first(items) {
  if (Array.isArray(items)) return items[0];
  if (items === undefined || items === null) return items;
  __sm_fail("first() needs a list, got " + __sm_type(items));
}

// The last item of a list; undefined for an empty list.
// deps: __sm_fail, __sm_type
function __sm_last(items) {
  if (Array.isArray(items)) return items[items.length - 1];
  if (items === undefined || items === null) return items;
  __sm_fail("last() needs a list, got " + __sm_type(items));
}

// String(x) for scalars; null gives "null", undefined stays undefined.
// deps: __sm_fail, __sm_type
function __sm_string(x) {
  var t = typeof x;
  if (t === "string") return x;
  if (t === "number") {
    if (x - x !== 0) __sm_fail("number is not finite");
    return String(x);
  }
  if (t === "boolean") return x ? "true" : "false";
  if (x === null) return "null";
  if (x === undefined) return undefined;
  __sm_fail("cannot convert " + __sm_type(x) + " to a string");
}

// How {x} renders inside a string template: undefined/null give "".
// deps: __sm_fail, __sm_type
function __sm_template_part(x) {
  var t = typeof x;
  if (t === "string") return x;
  if (t === "number") {
    if (x - x !== 0) __sm_fail("number is not finite");
    return String(x);
  }
  if (x === undefined || x === null) return "";
  if (t === "boolean") return x ? "true" : "false";
  __sm_fail("cannot insert " + __sm_type(x) + " into a string template");
}

// The decimal literals number() accepts (after trimming whitespace).
var __sm_NUMBER_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

// A number from a number or a decimal string (strict).
// deps: __sm_fail, __sm_type, __sm_num, __sm_NUMBER_RE
function __sm_number(x) {
  var t = typeof x;
  if (t === "number") return __sm_num(x);
  if (t === "string") {
    var s = x.trim();
    if (!__sm_NUMBER_RE.test(s)) __sm_fail("not a number: " + JSON.stringify(x));
    var v = Number(s);
    if (v - v !== 0) __sm_fail("number out of range: " + JSON.stringify(x));
    return v === 0 ? 0 : v;
  }
  if (x === undefined || x === null) return x;
  __sm_fail("cannot convert " + __sm_type(x) + " to a number");
}

// The first argument that is neither undefined nor null, else the last.
function __sm_coalesce() {
  for (var i = 0; i < arguments.length; i++) {
    var v = arguments[i];
    if (v !== undefined && v !== null) return v;
  }
  return arguments[arguments.length - 1];
}

// d when x is undefined, null or "", else x.
function __sm_fallback(x, d) {
  return x === undefined || x === null || x === "" ? d : x;
}

// The timestamp strings iso_time() accepts.
var __sm_ISO_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?(Z|z|[+-][0-9]{2}:?[0-9]{2})?)?$/;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// algorithm; Date.UTC would map years 0-99 to 1900-1999).
function __sm_days_from_civil(y, m, d) {
  if (m <= 2) y -= 1;
  var era = Math.floor(y / 400);
  var yoe = y - era * 400;
  var doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  var doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

// Normalises a timestamp to YYYY-MM-DDTHH:MM:SS.sssZ (UTC, milliseconds).
// deps: __sm_fail, __sm_type, __sm_ISO_RE, __sm_days_from_civil
function __sm_iso_time(x) {
  var MIN = -62167219200000, MAX = 253402300799999;
  if (typeof x === "string") {
    var m = __sm_ISO_RE.exec(x);
    var bad = "not an ISO-8601 timestamp: " + JSON.stringify(x);
    if (m === null) __sm_fail(bad);
    var y = +m[1], mo = +m[2], d = +m[3];
    if (mo < 1 || mo > 12 || d < 1) __sm_fail(bad);
    var dim = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo];
    if (mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) dim = 29;
    if (d > dim) __sm_fail(bad);
    var date = m[1] + "-" + m[2] + "-" + m[3] + "T";
    if (m[4] === undefined) return date + "00:00:00.000Z";
    var h = +m[4], mi = +m[5], s = m[6] === undefined ? 0 : +m[6];
    if (h > 23 || mi > 59 || s > 59) __sm_fail(bad);
    var milli = m[7] === undefined ? "000" : (m[7] + "00").slice(0, 3);
    var zone = m[8];
    var local = m[4] + ":" + m[5] + ":" + (s < 10 ? "0" : "") + s + "." + milli + "Z";
    if (zone === undefined || zone === "Z" || zone === "z") return date + local;
    var oh = +zone.slice(1, 3), om = +zone.slice(-2);
    if (oh > 23 || om > 59) __sm_fail(bad);
    var offset = (oh * 60 + om) * 60000;
    if (offset === 0) return date + local;
    var ms = __sm_days_from_civil(y, mo, d) * 86400000 + ((h * 60 + mi) * 60 + s) * 1000 + +milli;
    ms += zone.charAt(0) === "+" ? -offset : offset;
    if (ms < MIN || ms > MAX) __sm_fail("timestamp out of range (years 0000-9999): " + JSON.stringify(x));
    return new Date(ms).toISOString();
  }
  if (typeof x === "number") {
    var p = x * 1000;
    if (!(p > -6.3e13 && p < 2.6e14)) __sm_fail("timestamp out of range (years 0000-9999): " + String(x));
    p = Math.floor(p);
    if (p < MIN || p > MAX) __sm_fail("timestamp out of range (years 0000-9999): " + String(x));
    return new Date(p).toISOString();
  }
  if (x === undefined || x === null) return x;
  __sm_fail("iso_time() needs a string or a number, got " + __sm_type(x));
}
