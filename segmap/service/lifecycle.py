"""What the service owns between start-up and shutdown, and how it changes state.

`Service` wires the parts together: the mapping (hot-reloadable), the
verifier, the outbox store and its group committer, and the delivery side
(Segment worker or dry-run writer). Its `startup()` / `shutdown()` are run by
the ASGI lifespan; `reload()` by SIGHUP.

Shutdown order (SIGTERM): uvicorn stops listening and lets requests in
flight finish (each one is answered truthfully: a 2xx only after its
commit); then the group committer commits what it was handed and stops; then
the delivery worker lets its request under way finish and gives every unsent
row back (no lease is left to expire); then the store closes.
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmap.delivery.outbox import backend_for, describe, open_store
from segmap.delivery.outbox.store import FIRST_START_KEY, OutboxStore, PruneResult
from segmap.delivery.sinks import Sink
from segmap.errors import SegmapError
from segmap.service.config import ServiceConfig
from segmap.service.ingest import GroupCommitter
from segmap.service.metrics import ServiceMetrics
from segmap.service.outflow import DryRunPump, TimedSink, TimedStore
from segmap.service.storefence import StoreFence
from segmap.service.storehealth import FaultWatch, StoreHealth
from segmap.service.verification import Verifier

if TYPE_CHECKING:
    from segmap.delivery.worker import Delivery

TEST_TRAFFIC_HEADER = b"segmap-test-traffic"  # set by `segmap send` on every request

log = logging.getLogger("segmap.service")

MIN_FREE_DISK = 16 * 1024 * 1024


class MappingLoadError(SegmapError):
    """The mapping does not compile; `diagnostics` holds the compiler's findings."""

    def __init__(self, message: str, diagnostics: list | None = None):
        super().__init__(message)
        self.diagnostics = diagnostics or []


def _diagnostics_json(diags: list) -> list[dict]:
    try:
        from segmap.diagnostics.render import diagnostic_json

        return [diagnostic_json(d) for d in diags if getattr(d, "is_error", True)]
    except Exception:  # noqa: BLE001 - logging must not fail on an odd diagnostic
        return [{"message": str(d)} for d in diags]


def compile_mapping(path: Path):
    """Compile or raise MappingLoadError (with every error diagnostic)."""
    import segmap
    from segmap.compiler.api import MappingError

    if not Path(path).is_file():
        raise MappingLoadError(f"no mapping file at {path}")
    try:
        return segmap.compile_file(path)
    except MappingError as exc:
        raise MappingLoadError(f"{path} does not compile: {exc}", list(exc.diagnostics)) from None
    except OSError as exc:
        raise MappingLoadError(f"cannot read {path}: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class LoadedMapping:
    mapping: Any
    loaded_at: float
    generation: int


class MappingHolder:
    """The mapping now serving. Requests read `current` once; a reload swaps it atomically."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._current: LoadedMapping | None = None
        self._generation = 0

    def load(self) -> LoadedMapping:
        return self.swap(compile_mapping(self.path))

    def swap(self, mapping: Any) -> LoadedMapping:
        self._generation += 1
        self._current = LoadedMapping(mapping, time.time(), self._generation)
        return self._current

    @property
    def current(self) -> LoadedMapping:
        if self._current is None:
            raise RuntimeError("no mapping loaded")
        return self._current

    @property
    def loaded(self) -> bool:
        return self._current is not None


class Service:
    def __init__(self, config: ServiceConfig, *, verifier: Verifier | None = None, sink: Any = None,
                 delivery_config: Any = None, metrics: ServiceMetrics | None = None):
        self.config = config
        self.metrics = metrics or ServiceMetrics()
        self.verifier = verifier or Verifier(config.secrets)
        self.mapping = MappingHolder(config.mapping_path)
        self._sink_override = sink
        self._delivery_config = delivery_config
        self.store: OutboxStore | None = None
        self.committer: GroupCommitter | None = None
        self.delivery: Delivery | None = None
        self.pump: DryRunPump | None = None
        self.client: Sink | None = None
        self.stopping = False
        self.started = False
        self.listen_url: str | None = None
        self.admin_url: str | None = None
        self.admin_ports: frozenset[int] = frozenset()  # local ports of the admin listener (set when bound)
        self.health = StoreHealth(recheck_seconds=config.store_recheck_seconds)
        self._reloading: asyncio.Task | None = None
        self._pruning: asyncio.Task | None = None
        self._store_users = StoreFence()  # prune, readiness and metrics threads: shutdown closes the store after them

    # --- start-up (before the server listens: errors become exit codes) ---

    def open(self) -> None:
        """Compile the mapping and open the store; raises MappingLoadError / OSError / sqlite3.Error."""
        loaded = self.mapping.load()
        self.metrics.mapping_loaded.set(loaded.loaded_at)
        cfg = self.config
        store = self.store = open_store(cfg.db_path, synchronous=cfg.synchronous)
        self._check_store_at_start()
        # the boundary `segmap backfill` stops at by default: facts from before the service first
        # started can only come from a backfill, later ones only from webhooks (first start wins)
        try:
            store.put_state(FIRST_START_KEY, repr(time.time()).encode(), only_if_absent=True)
        except Exception as exc:
            if self.health.problem() is None:
                raise
            self.health.note(exc, "start-up")  # already not ready; readiness says why
        m = self.metrics
        self.committer = GroupCommitter(
            FaultWatch(store, self.health, "group commit"), max_group=cfg.max_group, max_queue=cfg.max_queue,
            linger=cfg.commit_linger, on_committed=self._wake_delivery,
            observe=self._observe_commit,
        )
        self._build_delivery(store)
        m.dry_run.set(1 if cfg.dry_run and self._sink_override is None else 0)
        m.dev_secret.set(1 if cfg.dev_secret else 0)

    def _observe_commit(self, seconds: float, webhooks: int) -> None:
        self.metrics.commit_seconds.observe(seconds)
        self.metrics.commit_size.observe(webhooks)

    def _check_store_at_start(self) -> None:
        """The integrity check and a real commit, before the first webhook (see storehealth.py)."""
        check = getattr(self.store, "check_health", None)
        if check is None:
            return
        try:
            result = check(integrity=True)
        except Exception as exc:  # noqa: BLE001 - reported by readiness, not a crash
            self.health.note(exc, "start-up check")
            result = f"cannot commit at start-up: {type(exc).__name__}: {exc}"
            if self.health.problem() is None:
                self.health.fault = result
        if result.startswith("integrity check failed"):
            self.health.set_corrupt(f"{result} (at start-up; webhooks are refused until the file is repaired "
                                    "or replaced, then restart)")
            log.error("the outbox database fails its integrity check; not ready, webhooks get 503",
                      extra={"db": describe(self.config.db_path), "check": result})
        elif result != "ok":
            log.error("the outbox database cannot commit at start-up; not ready", extra={"error": result})

    def _build_delivery(self, store: OutboxStore) -> None:
        from segmap.delivery.retry import RetryPolicy
        from segmap.delivery.worker import Delivery, DeliveryConfig

        cfg, m = self.config, self.metrics
        sink = self._sink_override
        if sink is None and cfg.dry_run:
            from segmap.delivery.sinks import DryRunSink

            dry = DryRunSink(cfg.dry_run_file)
            self.client = dry
            self.pump = DryRunPump(store, TimedSink(dry, m.segment_request_seconds.observe),
                                   on_written=lambda n: m.dry_run_written.inc(n))
            return
        if sink is None:
            from segmap.delivery.segment_client import SegmentClient

            assert cfg.write_key is not None  # not a dry run
            sink = SegmentClient(cfg.write_key, region=cfg.region, host=cfg.segment_host)
            self.client = sink
        dconf = self._delivery_config or DeliveryConfig(
            workers=cfg.delivery_workers, lease_seconds=cfg.lease_seconds,
            policy=RetryPolicy(probe_first=cfg.probe_first, auth_probe_interval=cfg.probe_max))
        timed_store = TimedStore(FaultWatch(store, self.health, "delivery"), m.delivery_latency.observe_many)
        delivery = self.delivery = Delivery(timed_store, TimedSink(sink, m.segment_request_seconds.observe), dconf)
        m.add_delivery_counters(delivery.stats)

    def hold_for(self, test_traffic: bool) -> str | None:
        """Why the calls of a request must wait for an explicit release (None: deliverable).

        "test": `segmap send` marks what it posts (header segmap-test-traffic: `test_traffic`,
        found by the endpoint's one pass over the headers, which ASGI gives in lower case), and anything
        signed with the generated development secret cannot come from Dodo; "dry_run": no write
        key, so nothing here was meant for a live source. Test wins: releasing dry-run calls
        must not send sample data.
        """
        if test_traffic or self.config.dev_secret:
            return "test"
        if self.pump is not None:
            return "dry_run"
        return None

    def _wake_delivery(self, _queued: int) -> None:
        if self.delivery is not None:
            self.delivery.notify()
        elif self.pump is not None:
            self.pump.notify()

    # --- lifespan ---

    async def startup(self) -> None:
        if self.store is None:
            self.open()
        assert self.committer is not None  # open() sets it
        self.committer.start()
        if self.delivery is not None:
            self.delivery.start()
        if self.pump is not None:
            self.pump.start()
            self.pump.notify()  # write what is already pending
        self.started = True
        self._log_banner()
        if self.config.prune_interval > 0:
            self._pruning = asyncio.ensure_future(self._prune_loop())

    async def _prune_loop(self) -> None:
        """Keep the database from growing forever: delivered calls and inbox entries older than
        7 days go (never pending, in-flight, dead or quarantined ones; see OutboxStore.prune)."""
        store = self.store
        assert store is not None  # startup() opened it
        while True:
            await asyncio.sleep(self.config.prune_interval)
            try:
                res = await asyncio.to_thread(self._prune_once, store)
            except Exception as exc:  # noqa: BLE001 - retried next time
                log.warning("pruning the outbox failed: %s", exc)
                continue
            if res.inbox or res.delivered:
                log.info("pruned the outbox", extra={"inbox": res.inbox, "delivered": res.delivered})

    def _prune_once(self, store: OutboxStore) -> PruneResult:
        with self._store_users.use() as allowed:
            if not allowed or self.stopping:
                return PruneResult(0, 0)
            return store.prune()

    def _log_banner(self) -> None:
        cfg = self.config
        loaded = self.mapping.current
        log.info("mapping loaded", extra={"mapping": str(cfg.mapping_path),
                                          "event_types": len(getattr(loaded.mapping, "event_types", ()))})
        backend = backend_for(cfg.db_path)
        log.info("outbox open", extra={"db": describe(cfg.db_path), "backend": backend,
                                       **({"synchronous": cfg.synchronous} if backend == "sqlite"
                                          else {"synchronous_commit": "on"})})
        if self.delivery is not None:
            endpoint = getattr(self.client, "endpoint", None) or type(self._sink_override).__name__
            log.info("delivering to Segment", extra={"endpoint": endpoint, "workers": cfg.delivery_workers})
            try:
                assert self.store is not None  # startup() opened it
                counts = self.store.counts()
                held = self.store.held_counts()
                waiting = counts.get("pending", 0) + counts.get("in_flight", 0) - sum(held.values())
                if waiting:
                    log.warning("%d call(s) already in the outbox will be delivered", waiting,
                                extra={"pending": waiting})
                if held:
                    self._log_held(held)
            except Exception:  # noqa: BLE001
                pass
        else:
            log.warning(
                "DRY RUN: no SEGMENT_WRITE_KEY, nothing is sent to Segment; every call is written to %s "
                "and HELD in %s: starting later with a write key does not send it unless you release it "
                "(`segmap outbox release dry-run`)", cfg.dry_run_file, describe(cfg.db_path),
                extra={"dry_run_file": str(cfg.dry_run_file)})
        if cfg.dev_secret:
            log.warning(
                "NO WEBHOOK SECRET configured (DODO_WEBHOOK_SECRET or --secret): using a generated DEVELOPMENT "
                "secret kept in %s; only requests signed with it are accepted (try `segmap send`), "
                "real Dodo webhooks will be refused with 401", cfg.dev_secret_file,
                extra={"dev_secret_file": str(cfg.dev_secret_file)})
            if not cfg.loopback:
                log.error("listening on %s with a development secret: configure the Dodo signing secret "
                          "before pointing Dodo at this service", cfg.host)
        else:
            log.info("verifying signatures", extra={"secrets": self.verifier.secret_count})
        if self.listen_url:
            log.info("listening on %s/webhook", self.listen_url, extra={"url": f"{self.listen_url}/webhook"})
        if self.admin_url:
            log.info("admin listening on %s (/metrics, /readyz, /healthz)", self.admin_url,
                     extra={"admin_url": self.admin_url})
        elif self.listen_url:
            log.warning("no admin listener (--admin-port -1): /metrics and /readyz are not served")

    def _log_held(self, held: dict[str, int]) -> None:
        db = describe(self.config.db_path)
        what = {"dry_run": "accepted during a dry run", "test": "test traffic (`segmap send`, development secret)"}
        for hold, n in held.items():
            kind = hold.replace("_", "-")
            log.warning(
                "%d call(s) %s are HELD and will not be sent: `segmap outbox held --db %s` lists them, "
                "`segmap outbox release %s --db %s` sends them, `segmap outbox discard %s --db %s` drops them",
                n, what.get(hold, hold), db, kind, db, kind, db, extra={"held": n, "hold": hold})

    async def shutdown(self, budget: float | None = None) -> None:
        """Commit what was handed over, stop delivery (releasing leases), close the store."""
        self.stopping = True
        deadline = time.monotonic() + (budget if budget is not None else self.config.shutdown_timeout / 2)

        def left(reserve: float = 0.0) -> float:
            return max(0.1, deadline - time.monotonic() - reserve)

        for task in (self._reloading, self._pruning):
            if task is not None and not task.done():
                task.cancel()
        if self.committer is not None:
            await asyncio.to_thread(self.committer.close, left(1.0))
        if self.delivery is not None:
            done = await asyncio.to_thread(self.delivery.stop, left(0.5))
            if not done:
                log.warning("a delivery request was still running at shutdown; its rows were given back")
        if self.pump is not None:
            await asyncio.to_thread(self.pump.stop, left(0.5))
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001
                pass
        if self.store is not None:
            if not await asyncio.to_thread(self._store_users.close, left()):
                log.warning("a prune, probe or metrics scrape was still using the store at shutdown")
            self.store.close()
        log.info("stopped")

    # --- hot reload ---

    async def reload(self) -> bool:
        """Compile the mapping file again; swap it in only if it compiles. True on success."""
        old = self.mapping.current
        try:
            new = await asyncio.to_thread(compile_mapping, self.mapping.path)
        except MappingLoadError as exc:
            self.metrics.reloads.inc(1, "failed")
            log.error("mapping reload refused; the previous mapping keeps serving: %s", exc,
                      extra={"mapping": str(self.mapping.path), "diagnostics": _diagnostics_json(exc.diagnostics),
                             "serving_since": old.loaded_at})
            return False
        except Exception as exc:  # noqa: BLE001 - a compiler bug must not take the service down
            self.metrics.reloads.inc(1, "failed")
            log.exception("mapping reload failed unexpectedly; the previous mapping keeps serving: %s", exc)
            return False
        loaded = self.mapping.swap(new)
        self.metrics.reloads.inc(1, "ok")
        self.metrics.mapping_loaded.set(loaded.loaded_at)
        log.info("mapping reloaded", extra={"mapping": str(self.mapping.path),
                                            "event_types": len(getattr(new, "event_types", ())),
                                            "generation": loaded.generation})
        return True

    def request_reload(self) -> None:
        """From a signal handler (on the loop's thread): start a reload unless one is running."""
        if self._reloading is not None and not self._reloading.done():
            log.info("mapping reload already in progress")
            return
        self._reloading = asyncio.ensure_future(self.reload())

    # --- health ---

    def _store_probe(self) -> str:
        """'ok' or why the store cannot take a webhook now."""
        if self.committer is None or not self.committer.alive:
            return "outbox writer not running"
        if not self.committer.healthy:
            return f"last outbox transaction failed: {self.committer.last_error}"
        with self._store_users.use() as allowed:
            return self._store_checks() if allowed else "closing"

    def _store_checks(self) -> str:
        cfg = self.config
        health = self.health
        check = getattr(self.store, "check_health", None)
        if health.problem() is not None and check is not None and health.due_for_recheck():
            health.recheck(lambda: check(integrity=True))
        problem = health.problem()
        if problem is not None:
            return problem
        if self._sqlite_file():
            try:
                free = shutil.disk_usage(Path(cfg.db_path).resolve().parent).free
            except OSError as exc:
                return f"cannot stat the database directory: {exc.strerror or exc}"
            if free < MIN_FREE_DISK:
                return f"only {free // 1024} KiB free on the database's filesystem"
            if not os.access(cfg.db_path, os.W_OK):
                return "database file is not writable"
        if check is None:
            return "ok"
        try:
            # a real commit: a lock check alone passes on a disk that fails at COMMIT
            return FaultWatch(self.store, health, "readiness probe").check_health(integrity=False)
        except Exception as exc:  # noqa: BLE001 - any failure is an answer
            return f"cannot commit: {type(exc).__name__}: {exc}"

    def _sqlite_file(self) -> bool:
        return not str(self.config.db_path).startswith(("postgresql://", "postgres://"))

    def readiness(self) -> tuple[bool, dict]:
        store = self._store_probe() if self.started else "starting"
        last_error = None
        if self.delivery is not None:
            stats = self.delivery.stats()
            paused = stats.paused
            delivery = "running" if paused is None else f"paused ({stats.pause_kind}): {paused.reason}"
            if stats.last_error:
                last_error = {"error": stats.last_error, "at": stats.last_error_at,
                              "failing_since": stats.failing_since}
        elif self.pump is not None:
            delivery = "dry run"
        else:
            delivery = "none"
        loaded = self.mapping.current if self.mapping.loaded else None
        ready = self.started and not self.stopping and loaded is not None and store == "ok"
        body = {
            "ready": ready,
            "stopping": self.stopping,
            "mapping": None if loaded is None else {"file": str(self.mapping.path), "loaded_at": loaded.loaded_at,
                                                     "generation": loaded.generation},
            "store": store,
            "delivery": delivery,
            "last_delivery_error": last_error,
            "dry_run": self.delivery is None,
            "dev_secret": self.config.dev_secret,
        }
        return ready, body

    def collect(self) -> None:
        """Refresh the scrape-time gauges (runs in a worker thread)."""
        m = self.metrics
        if self.store is None:
            return
        ready, _ = self.readiness()  # so that segmap_ready is current for alerts, whoever calls /readyz
        m.ready.set(1 if ready else 0)
        m.store_fault.set(1 if self.health.problem() is not None else 0)
        with self._store_users.use() as allowed:
            if not allowed:
                return  # shutting down: keep the last values
            try:
                st = self.store.status()
            except Exception as exc:  # noqa: BLE001 - a locked or failing store: keep the last values
                self.health.note(exc, "metrics")
                return
        for state, n in st.counts.items():
            m.outbox.set(n, state)
        held = st.held or {}
        m.outbox_depth.set(st.counts.get("pending", 0) + st.counts.get("in_flight", 0) - sum(held.values()))
        for hold in ("dry_run", "test"):
            m.held.set(held.get(hold, 0), hold)
        m.oldest_pending.set(st.oldest_pending_age or 0.0)
        m.quarantine_open.set(st.quarantined_open)
        stats = self.delivery.stats() if self.delivery is not None else None
        paused = stats.paused if stats is not None else None
        if stats is not None and paused is None and st.paused is not None:
            paused = st.paused  # recorded by another process (or not yet seen by ours)
        kind = (stats.pause_kind if stats is not None and stats.paused is not None else "") or \
            ("" if paused is None else ("auth" if "write key" in paused.reason else "endpoint"))
        m.paused.set(1 if paused is not None else 0)
        for k in ("auth", "endpoint"):
            m.paused_by.set(1 if kind == k else 0, k)
        m.paused_since.set(paused.since if paused is not None else 0)
        err = st.last_error
        m.last_error_at.set(err.at if err is not None else 0)
        m.failing_since.set(err.failing_since if err is not None and err.failing_since is not None else 0)
        if stats is not None:
            m.consecutive_failures.set(stats.consecutive_failures)
