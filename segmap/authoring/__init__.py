"""Tools for writing mappings with confidence: preview, mapping tests, tracking plans.

- :mod:`segmap.authoring.values` -- the data side of a ``tests:`` section
  (YAML data to JSON values, strict JSON comparison, recursive subset match).
- :mod:`segmap.authoring.paths` -- dotted envelope paths (``data.customer.email``,
  ``data.product_cart[0].quantity``): parse, check against the event model, set, unset.
- :mod:`segmap.authoring.cases` -- the ``tests:`` format: parse (with located
  diagnostics) and run.
- :mod:`segmap.authoring.tracking_plan` -- Segment Protocols rules, JSON Schemas
  and a Markdown page from the types the checker put in the plan.
- :mod:`segmap.authoring.preview` -- Segment calls rendered for a terminal, each
  value with the mapping ``file:line`` it came from.
"""
