"""The catalogue of diagnostic codes: one entry per code, used by the
checker (severity), ``segmap explain`` (documentation and example) and the
tests (every code must be documented and exercised).

Numbering: E0xx file and YAML structure, E1xx expression syntax, E2xx names
(events, fields, functions), E3xx types and null-safety, E4xx Segment rules,
E5xx run time; W-codes are warnings with the same grouping.
"""
from __future__ import annotations

from dataclasses import dataclass

from segmap.diagnostics.model import Severity


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    severity: Severity
    title: str
    explanation: str
    example: str


CODES: dict[str, CodeInfo] = {}


def _code(code: str, title: str, explanation: str, example: str) -> None:
    sev = Severity.WARNING if code.startswith("W") else Severity.ERROR
    CODES[code] = CodeInfo(code, sev, title, explanation.strip(), example.strip("\n"))


def lookup(code: str) -> CodeInfo:
    return CODES[code]


# --- E0xx: the file and its YAML -------------------------------------------
_code("E001", "YAML syntax error", """
The file is not valid YAML. The location is where the YAML parser gave up,
which can be after the real mistake (an unclosed quote or bracket).
""", """
events:
  payment.succeeded:
    - track: "Payment Completed      # <- quote never closed
""")
_code("E002", "YAML anchors and aliases are not allowed", """
Anchors (&name) and aliases (*name) make one node appear in several places,
which hides where a value comes from and allows exponential expansion. Use
`defaults:` for shared fields instead.
""", """
defaults: &d {userId: data.customer.customer_id}
events:
  payment.succeeded:
    - track: Payment Completed
      <<: *d
""")
_code("E003", "YAML tags are not allowed", """
Explicit tags (!!str, !custom) change how YAML reads a value. A mapping is
plain data: write the value itself.
""", """
userId: !!str data.customer.customer_id
""")
_code("E004", "duplicate key", """
YAML silently keeps the last of two equal keys. segmap refuses the file so
that no rule is lost without notice.
""", """
properties:
  amount: data.total_amount
  amount: data.tax
""")
_code("E005", "input too large or too deeply nested", """
Mapping files are bounded (size, YAML nesting depth, expression length and
nesting) so that no input can exhaust the checker or the generated code.
""", """
amount: ((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))
""")
_code("E010", "wrong shape", """
A part of the mapping file has the wrong YAML shape, for example a list
where a mapping is expected. The message says what was expected.
""", """
events:
  - payment.succeeded       # events must be a mapping of event type -> calls
""")
_code("E011", "unknown key", """
A key that segmap does not know. At the top level the keys are `version`,
`defaults`, `events` and `tests`.
""", """
version: 1
event:                      # did you mean `events`?
  payment.succeeded: ...
""")
_code("E012", "missing or unsupported version", """
Every mapping file starts with `version: 1` so that later versions of the
language can be told apart.
""", """
events: {}                  # missing `version: 1`
""")
_code("E020", "not a Segment call", """
Each call is a mapping with exactly one call key: `track`, `identify`,
`group`, `page`, `screen` or `alias`.
""", """
events:
  payment.succeeded:
    - trak: Payment Completed
""")
_code("E021", "unknown Segment field", """
The call has a field that Segment does not define for that call type, or
that segmap sets itself (`messageId`, `sentAt`, `type`). Fields use
Segment's own names: userId, anonymousId, event, name, category, properties,
traits, context, timestamp, integrations, groupId, previousId.
""", """
- track: Payment Completed
  user_id: data.customer.customer_id    # did you mean `userId`?
""")
_code("E022", "field set twice", """
A call gives the same field twice, for example the event name both as the
value of `track:` and as `event:`.
""", """
- track: Payment Completed
  event: Order Completed
""")

# --- E1xx: expression syntax -------------------------------------------------
_code("E101", "expression syntax error", """
The expression could not be parsed. The caret shows where the parser
stopped and the message lists what it expected there. A plain string
constant must be quoted inside the expression: `'"USD"'` in YAML.
""", """
currency: data.currency ?? USD dollars
""")
_code("E102", "not an expression", """
A value slot holds a YAML value that is not an expression (for example a
list where a single value is expected).
""", """
userId: [a, b]
""")

# --- E2xx: names ----------------------------------------------------------
_code("E201", "unknown event type", """
The event key is not one of the Dodo Payments webhook event types (taken
from the dodopayments SDK models). Glob patterns such as `subscription.*`
are allowed.
""", """
events:
  payment.succeded:          # did you mean `payment.succeeded`?
    - track: Payment Completed
""")
_code("E202", "pattern matches no event type", """
A glob pattern in `events:` matches none of the Dodo event types, so its
calls would never run.
""", """
events:
  "subscriptions.*":         # the prefix is `subscription.`
    - track: Subscription Changed
""")
_code("E203", "unknown field", """
The path names a field that does not exist on the event's model. When the
field exists on other events' models, the note lists them: the rule may be
attached to the wrong event.
""", """
events:
  payment.succeeded:
    - track: Payment Completed
      properties:
        amount: data.total_amont     # did you mean `total_amount`?
""")
_code("E204", "unknown function", """
The function is not in segmap's function library (see the README for the
list). Functions are the only calls an expression can make.
""", """
amount: tofixed(data.total_amount, 2)   # did you mean `fixed`?
""")
_code("E205", "wrong number of arguments", """
The function was called with the wrong number of arguments.
""", """
amount: fixed(data.total_amount)        # fixed(number, digits)
""")
_code("E206", "unknown name", """
A bare name that is neither an envelope field (`business_id`, `type`,
`timestamp`, `data`) nor a variable bound by `map(list, x => ...)`. A
plain string constant must be quoted: `'"pro"'`.
""", """
plan: pro                    # write '"pro"' for the text pro
""")

_code("E207", "function value outside map()", """
`x => expression` describes what to do with each item of a list and is
only allowed as the second argument of `map(list, x => ...)`.
""", """
products: 'p => p.product_id'
""")

# --- E3xx: types and null-safety -------------------------------------------
_code("E301", "wrong type", """
The value has a type the operation cannot take: arithmetic on text (a
dispute's `amount` is a string), a condition that is not true/false, an
object where text is expected, and so on. Types come from the Dodo SDK's
models.
""", """
properties:
  amount: data.amount / 100        # Dispute.amount is a string: number(data.amount) / 100
""")
_code("E302", "comparison can never be true", """
An enum field is compared with a value outside the enum (a typo such as
"succeded"), so the comparison is always false (or, with `!=`, always
true). The note lists the allowed values.
""", """
when: data.status == "succeded"
""")
_code("E303", "identity can be null or absent", """
`userId`, `anonymousId`, `groupId`, `previousId` and a track's event name
must be present on every call, or Segment drops it. The value here comes
from a field the SDK marks as nullable or optional. Give a default with
`??`, or guard the call with `when: <field> != null`.
""", """
- track: Refund Issued
  userId: data.customer_id         # optional on this model
""")
_code("W303", "default never used", """
The left side of `??` can never be null or absent according to the SDK's
models, so the default is dead code (often a sign of a wrong field).
""", """
currency: data.currency ?? "USD"   # Payment.currency is always present
""")
_code("W202", "pattern shadowed", """
Every event a glob pattern matches already has its own rule (an exact
event name wins over a pattern, and an earlier pattern over a later one),
so the pattern's calls never run.
""", """
events:
  subscription.*: ...
  subscription.*ed: ...            # every match already taken by subscription.*
""")

# --- E4xx: Segment rules ---------------------------------------------------
_code("E401", "call has no user identity", """
Every Segment call except alias needs `userId` or `anonymousId` (give one
in the call or in `defaults:`). Without it Segment rejects the call.
""", """
- track: Payment Completed
  properties: {amount: data.total_amount}
""")
_code("E402", "track without an event name", """
A track call needs an event name: `track: Payment Completed` (or
`event:` with an expression).
""", """
- track:
  userId: data.customer.customer_id
""")
_code("E403", "required field missing", """
The call lacks a field Segment requires for it: `groupId` for group,
`previousId` and `userId` for alias.
""", """
- group:
  userId: data.customer.customer_id
""")

# --- E5xx: run time --------------------------------------------------------
_code("E501", "mapping failed at run time", """
An expression failed on a particular envelope (for example arithmetic on
a value that was not a number, or an unknown currency code). The event is
reported (or quarantined by `segmap serve`) with the mapping location.
""", """
amount: to_major(data.amount, data.currency)   # data.amount was "12.00"
""")
