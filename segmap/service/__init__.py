"""`segmap serve`: the webhook receiver.

Small modules, one job each:

* `config`        flags + environment -> `ServiceConfig` (secrets kept out of repr)
* `verification`  Standard Webhooks signatures, checked strictly (`standardwebhooks` signs)
* `ingest`        group commit of accepted webhooks into the outbox (one writer thread)
* `outflow`       the delivery side: Segment worker (measured) or the dry-run writer
* `lifecycle`     `Service`: start-up, hot reload, readiness, shutdown
* `app`           the ASGI app (Starlette): /webhook, /healthz, /readyz, /metrics
* `metrics`       a small Prometheus text exposition
* `logs`          JSON-lines logging with secret scrubbing
* `server`        uvicorn with segmap's signal handling (SIGTERM, SIGINT, SIGHUP)
"""
