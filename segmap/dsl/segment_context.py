"""The `context` object's documented fields, from Segment's Spec (Common Fields, "Context").

Segment asks that context fields be used only for their intended meaning.
The language server completes these names under `context:`; each has the
JSON kind the Spec gives it and the Spec's description. Standard library
only, like segment_fields.
"""
from __future__ import annotations

#: field -> (JSON kind, the Spec's description)
CONTEXT_FIELDS: dict[str, tuple[str, str]] = {
    "active": ("boolean", "Whether a user is active. This is usually used to flag an .identify() call to just "
                          "update the traits but not \"last seen.\""),
    "app": ("object", "dictionary of information about the current application, containing name, version, and build."),
    "campaign": ("object", "Dictionary of information about the campaign that resulted in the API call, containing "
                           "name, source, medium, term, content, and any other custom UTM parameter."),
    "channel": ("string", "The channel the event came from: server, browser or mobile."),
    "device": ("object", "Dictionary of information about the device, containing id, advertisingId, manufacturer, "
                         "model, name, type, and version."),
    "groupId": ("string", "The group (account) the event belongs to; account-scoped events put it here."),
    "ip": ("string", "Current user's IP address."),
    "library": ("object", "Dictionary of information about the library making the requests to the API, containing "
                          "name and version."),
    "locale": ("string", "Locale string for the current user, for example en-US."),
    "location": ("object", "Dictionary of information about the user's current location, containing city, country, "
                           "latitude, longitude, region, and speed."),
    "network": ("object", "Dictionary of information about the current network connection, containing bluetooth, "
                          "carrier, cellular, and wifi."),
    "os": ("object", "Dictionary of information about the operating system, containing name and version."),
    "page": ("object", "Dictionary of information about the current page in the browser, containing path, referrer, "
                       "search, title and url."),
    "referrer": ("object", "Dictionary of information about the way the user was referred to the website or app, "
                           "containing type, name, url, and link."),
    "screen": ("object", "Dictionary of information about the device's screen, containing density, height, and width."),
    "timezone": ("string", "Timezones are sent as tzdata strings to add user timezone information which might be "
                           "stripped from the timestamp, for example America/New_York."),
    "traits": ("object", "Dictionary of traits of the current user. This is useful in cases where you need to track "
                         "an event, but also associate information from a previous identify call."),
    "userAgent": ("string", "User agent of the device making the request."),
    "userAgentData": ("object", "The user agent data of the device making the request."),
}

__all__ = ["CONTEXT_FIELDS"]
