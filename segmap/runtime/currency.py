"""ISO 4217 minor-unit exponents for the currencies Dodo Payments accepts.

Dodo sends amounts as integers in the currency's smallest unit (cents for
USD, yen for JPY, fils for KWD). ``major = minor / 10**exponent``.

Sources: the code list is Dodo's own ``Currency`` literal (SDK
``types/currency.py``, 145 codes); the exponents are ISO 4217 List One.
Four codes Dodo still lists have been withdrawn from ISO 4217 (ANG, BGN,
HRK, SLL); they kept 2 decimals until withdrawal, so they stay at 2 here.
Deliberately *not* used: Stripe's zero-decimal list (treats MGA as 0) and
CLDR display precision (0 for HUF, IDR, ...), both of which differ from ISO.

The JavaScript runtime carries the same table (``__sm_CURRENCY_DECIMALS`` in
``segmap/compiler/js_runtime.js``); a test keeps the two in sync.
"""
from __future__ import annotations

#: Every currency code Dodo Payments accepts, sorted.
DODO_CURRENCIES: tuple[str, ...] = (
    "AED", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM",
    "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD",
    "BWP", "BYN", "BZD", "CAD", "CHF", "CLP", "CNY", "COP", "CRC", "CUP",
    "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ETB", "EUR", "FJD",
    "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD",
    "HNL", "HRK", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KRW", "KWD", "KYD", "KZT", "LAK",
    "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK",
    "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD",
    "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP",
    "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD",
    "SCR", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN",
    "SVC", "SZL", "THB", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH",
    "UGX", "USD", "UYU", "UZS", "VES", "VND", "VUV", "WST", "XAF", "XCD",
    "XOF", "XPF", "YER", "ZAR", "ZMW",
)

#: ISO 4217 exponent 0 (no minor unit).
ZERO_DECIMAL: frozenset[str] = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
    "VND", "VUV", "XAF", "XOF", "XPF",
})

#: ISO 4217 exponent 3.
THREE_DECIMAL: frozenset[str] = frozenset({
    "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND",
})

#: Withdrawn from ISO 4217 List One but still accepted by Dodo (2 decimals).
WITHDRAWN: frozenset[str] = frozenset({"ANG", "BGN", "HRK", "SLL"})

#: code -> exponent for every Dodo currency; everything not 0 or 3 is 2.
EXPONENTS: dict[str, int] = {
    code: 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    for code in DODO_CURRENCIES
}

#: ``10 ** exponent`` per code: what generated code divides a whole amount by (``to_major`` inlined).
DIVISORS: dict[str, int] = {code: 10**e for code, e in EXPONENTS.items()}

assert len(DODO_CURRENCIES) == 145 == len(EXPONENTS)
assert ZERO_DECIMAL <= EXPONENTS.keys() and THREE_DECIMAL <= EXPONENTS.keys()
assert WITHDRAWN <= EXPONENTS.keys()


def exponent(code: str) -> int | None:
    """The ISO 4217 exponent of ``code`` (exact upper case), None if unknown."""
    return EXPONENTS.get(code)


__all__ = [
    "DODO_CURRENCIES",
    "EXPONENTS",
    "THREE_DECIMAL",
    "WITHDRAWN",
    "ZERO_DECIMAL",
    "exponent",
]
