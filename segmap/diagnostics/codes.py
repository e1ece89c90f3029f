"""The catalogue of diagnostic codes: one entry per code, used by the
checker (severity), ``segmap explain`` (documentation and example) and the
tests (every code must be documented and exercised).

Numbering: E0xx file and YAML structure, E1xx expression syntax, E2xx names
(events, fields, functions), E3xx types and null-safety, E4xx Segment rules,
E5xx run time, E6xx the embedded `tests:` section (segmap test), E7xx what
`segmap backfill` cannot rebuild; W-codes
are warnings with the same grouping. A new code takes the next free number
of its group and gets an entry here (title, explanation, example): the
tests fail for a code that is reported but not documented.
"""
from __future__ import annotations

from segmap.diagnostics.model import Severity
from segmap.record import Record

_set = object.__setattr__


class CodeInfo(Record):
    __slots__ = ("code", "severity", "title", "explanation", "example")
    code: str
    severity: Severity
    title: str
    explanation: str
    example: str

    def __init__(self, code: str, severity: Severity, title: str, explanation: str, example: str) -> None:
        _set(self, "code", code)
        _set(self, "severity", severity)
        _set(self, "title", title)
        _set(self, "explanation", explanation)
        _set(self, "example", example)


CODES: dict[str, CodeInfo] = {}


def _code(code: str, title: str, explanation: str, example: str) -> None:
    sev = Severity.WARNING if code.startswith("W") else Severity.NOTE if code.startswith("N") else Severity.ERROR
    CODES[code] = CodeInfo(code, sev, title, explanation.strip(), example.strip("\n"))


def lookup(code: str) -> CodeInfo:
    return CODES[code]


# --- E0xx: the file and its YAML -------------------------------------------
_code("E000", "the file cannot be read", """
`segmap check` could not read the input: it does not exist, is a directory, or
is not readable. It is reported in every output format (text, json, github,
sarif) and counted as an error, and the exit status is 2, so that no tool reads
an unreadable input as a clean result.
""", """
$ segmap check nope.yaml
error[E000]: cannot read nope.yaml: No such file or directory
""")
_code("E001", "YAML syntax error", """
The file is not valid YAML. The location is the mistake, not where the YAML
parser gave up: the key whose `:` is missing (not the next line), the quote or
bracket that is never closed (not the end of the file), the `]` that closes
nothing, the text after a closing quote, a tab in the indentation. Each comes
with a hint, and a missing `:` with the fixed line.
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
_code("E013", "YAML reads this scalar as a boolean, null, number or date", """
segmap reads every YAML scalar as the text written, but other YAML readers
(editors, linters, CI tools, a teammate's script) resolve some plain
scalars: `yes`, `no`, `on`, `off`, `true`, `false` become booleans, `~` and
`null` become null, `012` is the octal number 10 in YAML 1.1, `1_000` and
`0x1F` are numbers, `2025-03-01` is a date (and, as an expression, the
subtraction 2025 - 3 - 1). Where the mapping means a name (an event type, an event
name) or an expression, such a scalar is an error: quote it if you mean the
text, or write the expression form (`true`, `null`, `12`).
""", """
events:
  on:                          # YAML 1.1 reads this key as true: write "on"
    - track: yes               # an event named true? write "yes" if you mean it
      userId: data.customer.customer_id
      properties:
        coupon: ~              # write null
        campaign_start: 2025-03-01   # write '"2025-03-01"'
""")
_code("W013", "a name other YAML readers type differently", """
A key or name that segmap reads as text but that other YAML readers would
turn into a boolean, null, number or date: a property key `no:` becomes `false`
for them, an event name `1.10` becomes `1.1`. segmap sends the text as
written; quote it so that every tool agrees.
""", """
properties:
  no: data.payment_id          # write "no": data.payment_id
""")
_code("W014", "acknowledgement matches nothing", """
A `# segmap: allow CODE` comment (or `# segmap: allow-file CODE`) names a
code that is not reported where it applies: the warning was fixed, or the
comment sits on the wrong line. `allow` covers the line it ends and the
value that starts on that line (a block scalar, a nested mapping);
`allow-file` must be a comment line of its own and covers the whole file.
Remove stale acknowledgements so that they do not hide a future warning.
""", """
properties:
  revenue: to_major(data.total_amount, data.currency)   # segmap: allow W430  <- nothing to allow
""")
_code("W015", "an error cannot be acknowledged", """
Only warnings can be acknowledged. An error means the mapping cannot work as
written (an unknown field, a null identity, a type mismatch): it is still
reported, and the acknowledgement is reported too. Fix the error instead.
""", """
userId: data.customer.customer_idd   # segmap: allow E203  <- still an error
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
value of `track:` and as `event:`, or `when:` both below the call key and
beside it.
""", """
- track: Payment Completed
  event: Order Completed
""")

# --- E1xx: expression syntax -------------------------------------------------
_code("E101", "expression syntax error", """
The expression could not be parsed. The caret shows where the parser
stopped and the message lists what it expected there. A plain string
constant must be quoted inside the expression: `'"USD"'` in YAML. A number
must be one JavaScript holds exactly: `1e400` is too large for a double and
an integer beyond 2^53 such as `9007199254740993` would be rounded.
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
The function was called with the wrong number of arguments. The note shows
its signature (each parameter with its kind); the JSON Schema printed by
`segmap schema` lists every function with its signature.
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
An `==` or `!=` whose outcome is fixed by the types: an enum field
compared with a value outside the enum (a typo such as "succeded"; the note
lists the allowed values), the event `type` compared with something that is
not a Dodo event type or not one the rule runs for, or two values of
different types (`data.total_amount == "100"`: no conversion happens).
""", """
when: data.status == "succeded"
""")
_code("E303", "identity can be null or absent", """
`userId`, `anonymousId`, `groupId`, `previousId` and a track's event name
must be present on every call, or Segment drops it. The value here comes
from a field the SDK marks as nullable or optional. Give a default with
`??`, or guard the call with `when: <field> != null` (a guard narrows the
type: after it the field counts as present). A nullable field inside a text
template (`f"sub_{data.subscription_id}"`) or `string()` of one is an error
too: every event without the field would share one identity.
""", """
- track: Refund Issued
  userId: data.customer_id         # optional on this model
""")
_code("E304", "a function argument can be null or absent", """
Only the first argument of a function passes a null or absent value
through (`to_major(null, "USD")` is null). Any other argument must be
present: `to_major(data.amount, data.currency)` fails at run time when
`data.currency` is null, which Refund allows. Guard the call with
`when: <field> != null`, or give a default with `??`.
""", """
events:
  refund.succeeded:
    - track: Order Refunded
      userId: data.customer.customer_id
      properties:
        total: to_major(data.amount, data.currency)   # Refund.currency is nullable
""")
_code("W304", "value can be null or absent", """
A value that can be null or absent flows where it does harm without
failing: into a text template (it renders as empty text, `"paid via "`),
into `timestamp` (Segment then uses the arrival time), or into `revenue`,
`total` or `value` (Segment records nothing). Give a default with `??`, or
guard the call with `when:`. Identity fields get the error E303 instead.
""", """
properties:
  label: f"paid via {data.payment_method}"   # Payment.payment_method is nullable
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

_code("W410", "a Segment number sent as text", """
Segment and its destinations read `revenue`, `total`, `value`, `price`,
`quantity` (and the other E-commerce amounts) as numbers; text such as
"19.99" is dropped or counted as 0. The usual cause is `fixed(x, 2)`, which
formats a number as text (Dodo's own Segment template does this). Send the
number itself: `to_major(amount, currency)` converts Dodo's minor units by
the currency's ISO 4217 exponent. Keys that name an amount (`amount`,
`*_amount`, `total_spent`) are checked the same way.
""", """
properties:
  revenue: fixed(data.total_amount / 100, 2)    # -> to_major(data.total_amount, data.currency)
""")
_code("W411", "not an ISO 4217 currency code", """
The `currency` property should be a three-letter upper-case ISO 4217 code;
Segment assumes USD without a valid one. A Dodo `currency` field already is
one; a constant such as "usd" or "US$" is not.
""", """
properties:
  currency: '"US$"'                              # write "USD"
""")
_code("E412", "an object or list where Segment expects one value", """
Segment stores this field as a single value (text, number or time):
`userId`, `timestamp`, a reserved trait such as `email`, a product's
`price`, or a property whose name says it holds one value (`*_email`,
`*_id`, `*_name`, `*_amount` ...). An object there is dropped or turned
into "[object Object]" by destinations. The did-you-mean names the likely
field of the object. The reverse also counts: `address` and `company`
traits, and `products`, must be objects or lists.
""", """
traits:
  email: data.customer                           # did you mean data.customer.email?
""")
_code("W412", "a Segment field of the wrong scalar type", """
A reserved trait or field gets a value of another kind than Segment
defines: a number for `email`, text for `age`, a number for `userId`.
Segment accepts it, but destinations may drop or mis-type it. Convert it
with string(x) or number(x), or map the right field.
""", """
traits:
  email: data.total_amount
""")
_code("E413", "not an ISO-8601 time", """
`timestamp` (and the `createdAt` trait) must be an ISO-8601 time such as
2025-01-01T00:48:46.533Z. A number (epoch seconds or milliseconds), a
boolean or a constant in another format is rejected or misread by Segment.
The envelope's `timestamp` and the SDK's datetime fields are ISO-8601.
""", """
timestamp: data.total_amount                     # a number, not a time
""")
_code("W413", "text not known to be an ISO-8601 time", """
A time field gets text that the SDK does not type as a datetime, so it may
not be ISO-8601. Wrap it in iso_time(...), which checks and normalises the
value, or use a datetime field.
""", """
traits:
  createdAt: data.card_exp_month                 # -> iso_time(...) or a datetime field
""")
_code("W414", "userId built from personal data", """
The `userId` comes from an email address, a person's name or a phone
number. Segment's Identify spec advises a unique, durable id from your own
database instead: people change their email and name, and each change
would start a new user in every destination and split the history.
Personal data belongs in traits (`email`, `name`, `phone`). Use the Dodo
customer id (`data.customer.customer_id`); acknowledge the warning
(`# segmap: allow W414`) if your system really keys users by email.
""", """
userId: data.customer.email      # did you mean data.customer.customer_id?
""")
_code("W415", "userId is the id of a thing, not of a person", """
The `userId` is read from an id the Dodo SDK gives a payment, refund,
subscription, license key, dispute, payout or business (`payment_id`,
`subscription_id`, `id`, ...). Segment's Identify spec: the userId is the
durable id of a user; with a payment's id every payment becomes a new user
with one event, and no user's history adds up. Dodo's person is the
customer: `data.customer.customer_id` (or `data.customer_id`), offered as the
fix where the event carries it.
""", """
refund.succeeded:
  - track: Order Refunded
    userId: data.payment_id            # -> data.customer.customer_id
""")
_code("W420", "event name not \"Object Action\" in Title Case", """
Segment's naming convention: an object and a past-tense action, each word
capitalised ("Order Completed", "Subscription Cancelled"). snake_case,
camelCase or lower-case names make a second, differently spelt event in
every destination. (One-word names are not flagged: segmap cannot tell an
object from an action.)
""", """
- track: payment_completed                       # -> Payment Completed
""")
_code("W421", "event name built from data", """
The event name depends on the payload (a template or a field). Segment's
naming guide keeps event names static, with the varying part in a
property, so that reports group one event. A choice between fixed names,
`if data.x then "A Done" else "B Done"`, is fine.
""", """
- track:
  event: f"Payment {data.status}"
""")
_code("W422", "property keys in more than one casing", """
A file's property keys (and, separately, its trait keys) should keep one
casing; destinations treat `order_id` and `orderId` as two fields. The
casing most keys use wins; the others are flagged with the converted key.
Segment's guide recommends snake_case property names.
""", """
properties:
  order_id: data.payment_id
  customerEmail: data.customer.email             # -> customer_email
""")
_code("W423", "event name one slip away from a Segment spec event", """
Destinations recognise Segment's spec events by their exact name: an
"Order Completed" becomes a purchase with its revenue, a "Trial Started"
starts a trial. A name one typing slip away from one of them (one word with
a swapped, missing or extra letter: "Order Compelted", "Order Canceled") is
a custom event everywhere. The fix is the spec's spelling.
""", """
- track: Order Compelted                 # -> Order Completed
""")
_code("W424", "a product key the E-commerce spec spells otherwise", """
Inside `products`, the E-commerce spec names each product's fields:
`product_id`, `sku`, `name`, `price`, `quantity`, `category`, ... An item
written `{id: ..., qty: ...}` (or with a typo, `quantiy`) is kept as custom
data, and destinations see products without ids or quantities. Reported
only when the item does not also carry the spec key.
""", """
products: 'map(data.product_cart ?? [], p => {id: p.product_id, qty: p.quantity})'   # -> product_id, quantity
""")
_code("W425", "a coupon that is an id", """
Segment's E-commerce spec: `coupon` is the coupon code used ("SPRING10"),
and destinations report coupons by it. A Dodo `discount_id` is an internal
id nobody typed. The fix is the discount's `code` (`data.discounts[0].code`).
""", """
properties:
  coupon: data.discounts[0].discount_id      # -> data.discounts[0].code
""")
_code("W430", "hard-coded / 100 on a money amount", """
Dodo sends amounts in the currency's smallest unit: cents for USD, but yen
for JPY (0 decimals) and fils for KWD (3 decimals). `amount / 100` is
right only for 2-decimal currencies: 1500 JPY becomes 15, 12.345 KWD
becomes 123.45. `to_major(amount, currency)` divides by the currency's ISO
4217 exponent.
""", """
properties:
  revenue: data.total_amount / 100               # -> to_major(data.total_amount, data.currency)
""")
_code("W431", "amount converted with another field's currency", """
A Dodo amount is in the currency of its own model: `settlement_amount`
and `settlement_tax` are in `settlement_currency`, which differs from
`currency` under adaptive pricing. Converting with the other currency
gives a wrong value whenever the two differ in decimals.
""", """
revenue: to_major(data.settlement_amount, data.currency)   # -> data.settlement_currency
""")

_code("W432", "minor units sent as a Segment money property", """
Dodo sends amounts in the currency's smallest unit (`total_amount`, `tax`,
`Refund.amount`, a payout's `fee`: the SDK says so, or the integer amount
sits beside a `currency`), while Segment's money properties (`revenue`,
`value`, `total`, `subtotal`, `tax`, `discount`, `shipping`, a product's
`price`) are amounts such as 12.50. Sent unconverted, 12.50 USD is recorded
as 1250. The unit is followed through `+`, `-`, `??`, `if` and a product
with a constant, so `data.total_amount - (data.tax ?? 0)` is caught too.
The fix wraps the expression in to_major() with the amount's own currency.
""", """
properties:
  revenue: data.total_amount - (data.tax ?? 0)     # -> to_major(..., data.currency)
""")
_code("W433", "basis points converted or sent as money", """
A discount's `amount` is in basis points (the SDK: "540 => 5.4%"), not in
money. to_major() divides it by the currency's exponent as if it were
cents, and Segment's `discount` reads it as an amount saved. For the
percentage, divide by 100 under a name that says so (`discount_percent`);
the money a discount saved is not in the payload.
""", """
properties:
  discount: to_major(data.discounts[0].amount, data.currency)   # basis points, not cents
""")

# --- E5xx: run time --------------------------------------------------------
_code("W440", "a call's key indented under properties or traits", """
A key that belongs to the call (`when`, `userId`, `anonymousId`, `groupId`,
`previousId`, `event`, `context`, `integrations`) written one level too deep,
under `properties:` or `traits:`. YAML reads it as a property named `when`,
the mapping still checks and runs, and the call silently loses its guard or
identity: the call is made for every event, or with the default userId.
`timestamp` is reported too when the call (defaults included) has none of
its own: Segment then stamps the call with the time it arrives.
""", """
- track: Refund Issued
  properties:
    amount: to_major(data.amount, data.currency)
    when: data.status == "succeeded"     # a property now; outdent it to the call's level
""")
_code("W441", "alias of an id to itself", """
An `alias` call whose `previousId` is written the same as its `userId`.
Segment's alias merges two different identities (the id a user had before
into the one they have now); aliasing an id to itself merges nothing.
""", """
- alias:
  previousId: data.customer.customer_id
  userId: data.customer.customer_id
""")
_code("W442", "a group that is the user", """
A `group` call whose `groupId` is written the same as its `userId`. In
Segment's B2B spec a group is the company, team or account a user belongs to;
a group per person makes account-level reports count people. For Dodo, the
subscription or the business usually is the account.
""", """
- group:
  groupId: data.customer.customer_id   # the account: data.subscription_id?
""")
_code("W443", "amount converted with a constant currency", """
`to_major(x.amount, "USD")` names a currency while the amount's own object
carries one (`x.currency`). Dodo sends amounts in the smallest unit of the
payment's currency, so every payment in another currency is converted with
the wrong exponent: 1500 JPY becomes 15, 12345 KWD becomes 123.45.
""", """
revenue: to_major(data.total_amount, "USD")     # use data.currency
""")
_code("W444", "timestamp from another date of the payload", """
`timestamp` says when the event happened; Segment orders a user's events by
it. A date of the payload is usually something else: `created_at` of a
renewed subscription is when the subscription began, `next_billing_date` is
in the future. The envelope's `timestamp` is when Dodo sent the event.
(`created_at` is accepted for events that are the creation: `*.created`,
`dispute.opened`, `abandoned_checkout.detected`; so is a date named after
the event's action: `cancelled_at` of subscription.cancelled.)
""", """
subscription.renewed:
  - track: Subscription Renewed
    timestamp: data.created_at        # when it began: use `timestamp`
""")
_code("W445", "a date sent under a name that says the opposite end of the period", """
The SDK says what a date is: `previous_billing_date` "indicates the start of
current billing period", `next_billing_date` its end, a service period's
`starts_at` and `ends_at` likewise. A property or trait whose name says
start (`period_start`, `starts_at`, `from`) given the date that ends the
period (or the other way round) sends the wrong date under a plausible
name. The fix is the model's date with the role the name says.
""", """
properties:
  period_start: data.next_billing_date        # -> data.previous_billing_date
""")
_code("W446", "a running total set from one event's amount", """
An identify or group trait named as a total (`total_spent`,
`lifetime_value`, `ltv`) is given this event's amount. Segment's traits
are the profile's current state and each call replaces them, so the trait
holds the last payment, not a sum; segmap keeps no running state. Send the
amount as `revenue` on a track call (destinations sum it), or name the
trait for what it holds (`last_payment_amount`).
""", """
- identify:
  traits:
    total_spent: to_major(data.total_amount, data.currency)   # the last payment only
""")
_code("W447", "a field the Dodo SDK marks deprecated", """
The SDK's docstring starts with DEPRECATED and names the replacement:
`discount_id` ("Use discounts instead. Returns the first discount's ID"),
`discount_cycles_remaining`, `invoice_url`. A deprecated field can stop
being sent; where the replacement is a list of the same field
(`discounts[].discount_id`), the fix reads its first item.
""", """
properties:
  discount: data.discount_id              # -> data.discounts[0].discount_id
""")
_code("W448", "a test the Dodo SDK advises against", """
The SDK's docstring of `is_multi_subscription` says: "Read this field to
find the payment type. Do not read the length of `subscription_ids`. Do not
read `subscription_id` for null." A multi-subscription payment leaves
`subscription_id` null, so `subscription_id == null` is true for it as well
as for one-time payments; for a one-time payment test `charge_type == null`
(null when the payment charges no subscription). A null test that guards a
read of the same field in the call (`when: data.subscription_id != null`
with `groupId: data.subscription_id`) is not reported.
""", """
when: data.subscription_id == null                  # also multi-subscription payments
properties:
  multi: length(data.subscription_ids) > 1          # -> data.is_multi_subscription
""")
_code("W449", "a field the SDK sets only for other events", """
The SDK's docstring says a field is "set only for" some event types: a
subscription's `payment_id` is set only for `subscription.renewed` and null
for every other subscription event. Read in a rule for other events (a
`subscription.*` glob), it sends null. Reads that handle the null (`?? ...`,
a null test of the field in the call, a `when:` on the event type) are not
reported.
""", """
"subscription.*":
  - track: Subscription Updated
    properties:
      payment_id: data.payment_id        # null except for subscription.renewed
""")
_code("E501", "mapping failed at run time", """
An expression failed on a particular envelope (for example arithmetic on
a value that was not a number, or an unknown currency code). The event is
reported (or quarantined by `segmap serve`) with the mapping location.
""", """
amount: to_major(data.amount, data.currency)   # data.amount was "12.00"
""")

# --- E6xx: the embedded tests (`tests:`, run by `segmap test`) ----------------
_code("E601", "malformed tests section", """
The `tests:` section (see docs/authoring.md) has the wrong shape: it must be
a list of test cases, each a mapping with `name:`, `event:` (or `input:` /
`input_file:`) and `expect:` (or `expect_error:`), with unique names and
JSON values.
""", """
tests:
  - name: paid in yen
    event: payment.succeeded
    expect_calls: two            # a whole number
""")
_code("E602", "unknown event type in a test", """
A test's `event:` is not one of the Dodo webhook event types, so there is
no sample envelope to run.
""", """
tests:
  - name: refund
    event: refund.succeded       # did you mean refund.succeeded?
    expect: []
""")
_code("E603", "test path does not exist on the event", """
A `set:` or `unset:` path of a test names a field that the event's model
does not have (or is not a valid dotted path), so the override could never
apply.
""", """
tests:
  - name: yen
    event: payment.succeeded
    set: {data.currency_code: JPY}   # the field is data.currency
    expect: []
""")
_code("E604", "malformed expected call", """
An entry of a test's `expect:` is not written like a mapping's call: one
call key (`track: Order Completed`, `identify:` ...) with Segment fields.
`expect: []` means "no calls".
""", """
tests:
  - name: paid
    event: payment.succeeded
    expect:
      - trak: Order Completed
""")

# --- E7xx: segmap backfill --------------------------------------------------
_code("E701", "a backfill cannot fill this path", """
`segmap backfill` rebuilds each webhook's envelope from what Dodo's API
returns today, and some webhook fields are in no API answer at all (a
subscription's `payment_id` and `past_due_ends_at`, a dispute's `remarks`).
Every backfilled envelope would lack them, so the calls would differ from
what the webhook made. Guard the value with `??`, leave those events to the
live service (`--only`), or run with `--allow-missing` to send them absent.
""", """
events:
  subscription.active:
    - track: Subscription Started
      userId: data.customer.customer_id
      properties:
        first_payment: data.payment_id     # not returned by GET /subscriptions
""")

# --- N0xx: notes about the report itself --------------------------------------
_code("N301", "ordering comparison where JavaScript reads null as 0", """
`<`, `<=`, `>` and `>=` are false in segmap when either side is null or
absent. JavaScript converts null to 0 first, so `null >= 0` and `null < 5`
are true there. A mapping ported from a JavaScript handler, or compared
with the exported handler's habits, can therefore take the other branch
when the field is null. The note appears where a side can be null, the
other is a number, and JavaScript's answer would be true. Write what you
mean: `(x ?? 0) >= 0` if null counts as 0, or `x != null and x >= 0`.
""", """
when: data.tax >= 0          # null tax: false here, true in JavaScript
""")
_code("N001", "more diagnostics not shown", """
At most 200 diagnostics are reported per file (errors before warnings); one
note counts the rest and names the first one left out. A file with that many
problems usually repeats one mistake (a generated file, a pasted block):
fix the ones shown and check again. The cap keeps the output and the time
to print it bounded whatever the input.
""", """
version: 1
events: {}
x: &a 1
y: [*a, *a, *a, ...]         # 1,000 aliases: 200 E002 errors and one N001 note
""")
