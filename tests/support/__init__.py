"""What several test packages share: the node bridge, JSON equality, mapping files.

- :mod:`tests.support.node` -- one long-lived node process (``harness.js``) for
  every test that runs JavaScript: runtime helpers and exported handlers.
- :mod:`tests.support.json_equal` -- JSON equality as both targets see it.
- :mod:`tests.support.mappings` -- mapping files several tests read.
"""
