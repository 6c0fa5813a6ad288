"""``vesalius serve [--config FILE]``: run the DICOM listener and the HTTP service until stopped.

Opens the index at ``settings.database_url`` (creating it) and the blob store in
``settings.data_dir / "blobs"``, resumes the study-complete timers of studies left open by a
previous run, then runs in one process:

- the DICOM listener (C-ECHO, C-STORE, C-FIND, C-MOVE, C-GET) on
  ``settings.dicom_host:dicom_port`` (``--port`` overrides the port);
- the HTTP service (DICOMweb under ``/dicom-web``, ``/health``) on
  ``settings.http_host:http_port`` (``--http-port`` overrides it, ``--no-http`` leaves it out);
- the study-complete detector, which prints and logs each completed study and hands it to
  the pipeline: its series are routed to the analyses (a chest CT to the lung, emphysema and
  calcium analyses) and the findings are saved in the store, one study at a time in a
  background thread.

On the first start (no administrator in the index) it creates the ``admin`` account and
prints its generated password once; there is no default password. Every HTTP route but
``/health`` and the login needs a signed-in user or an API token (``vesalius user``).

It prints where each listens and then ``ready``. On Ctrl-C or SIGTERM it stops accepting,
lets running requests and associations finish, closes the index and exits with code 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import threading
    from collections.abc import Sequence

    from vesalius.ingest.complete import StudyComplete, StudyCompletion
    from vesalius.ingest.dimse.config import ListenerConfig
    from vesalius.pipeline.routing import RoutingRule
    from vesalius.service.events import EventHub
    from vesalius.service.run import HttpServer
    from vesalius.settings import Settings
    from vesalius.store import BlobStore, Store

POLL_S = 0.5


class _Analyser:
    """Runs the analyses of completed studies one at a time, off the completion thread."""

    def __init__(self, store: Store, blobs: BlobStore, rules: Sequence[RoutingRule]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(1, thread_name_prefix="vesalius-analyse")
        self._store, self._blobs, self._rules = store, blobs, rules
        self.events: EventHub | None = None
        """Where to announce analysed studies (the HTTP service's hub), if anywhere."""

    def requeue_abandoned(self) -> None:
        """Give back the jobs a killed server left running."""
        from vesalius.pipeline.apps import default_apps
        from vesalius.pipeline.arrivals import SERVE_WORKER
        from vesalius.pipeline.jobs import requeue_abandoned

        requeue_abandoned(self._store, worker=SERVE_WORKER, kinds=default_apps())

    def submit(self, event: StudyComplete) -> None:
        """Analyse ``event``'s study in the background."""
        self._pool.submit(self._run, event.study_uid)

    def _run(self, study_uid: str) -> None:
        import logging

        from vesalius.errors import VesaliusError
        from vesalius.pipeline.arrivals import analyse_study

        try:
            result = analyse_study(self._store, self._blobs, study_uid, rules=self._rules)
        except (VesaliusError, OSError):  # the server goes on; the next study may be fine
            logging.getLogger(__name__).exception("analysis of study %s stopped", study_uid)
            self._triage(study_uid)
            return
        self._triage(study_uid)  # before saying so: "analysed" means ranked and drafted too
        if result.routed:
            typer.echo(f"analysed {study_uid}: {result.done} jobs done, {result.failed} failed")
        else:
            typer.echo(f"analysed {study_uid}: no analysis routed")

    def _triage(self, study_uid: str) -> None:
        """Score the study and draft its report for the worklist; announce it."""
        import logging

        from vesalius.errors import VesaliusError
        from vesalius.reporting.drafts import refresh_study

        try:
            refresh_study(self._store, self._blobs, study_uid)
        except (VesaliusError, OSError):
            logging.getLogger(__name__).exception("triage of study %s stopped", study_uid)
            return
        if self.events is not None:
            self.events.worklist(study_uid, "analysed")

    def stop(self) -> None:
        """Let the running analysis finish; drop the ones not started (re-run on restart)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _check_port(port: int | None, option: str) -> None:
    from vesalius.errors import ConfigError

    if port is not None and not 0 <= port < 65536:
        raise ConfigError(f"{option} must be 0..65535 (0: any free port), found {port}")


def _listener_config(settings: Settings, port: int | None) -> ListenerConfig:
    import dataclasses

    from vesalius.ingest.dimse.config import ListenerConfig

    config = ListenerConfig.from_settings(settings)
    return config if port is None else dataclasses.replace(config, port=port)


def _is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _http_server(
    settings: Settings, store: Store, blobs: BlobStore, port: int | None, events: EventHub
) -> HttpServer:
    import logging

    from vesalius.service.app import create_app
    from vesalius.service.run import HttpServer
    from vesalius.store import DuplicatePolicy

    if not _is_loopback(settings.http_host):
        logging.getLogger(__name__).warning(
            "the HTTP service on %s is reachable from other machines over plain HTTP: "
            "put it behind a TLS-terminating proxy",
            settings.http_host,
        )
    app = create_app(
        store,
        blobs,
        min_free_bytes=settings.min_free_bytes,
        on_duplicate=DuplicatePolicy(settings.duplicate_policy),
        settings=settings,
        extras={"events": events},
    )
    chosen = settings.http_port if port is None else port
    return HttpServer(app, host=settings.http_host, port=chosen)


def _first_admin(store: Store) -> None:
    """On the first start, create the ``admin`` account and print its password once."""
    from vesalius.store.users import ensure_admin

    with store.session() as session:
        password = ensure_admin(session)
    if password is not None:
        typer.echo(
            f"created the administrator account 'admin' with password: {password}\n"
            "  (shown once: sign in and change it, or set one with 'vesalius user passwd admin')"
        )


def _completion(settings: Settings, store: Store, analyser: _Analyser) -> StudyCompletion:
    import logging

    from vesalius.ingest.complete import Notifications, StudyComplete, StudyCompletion

    log = logging.getLogger(__name__)

    def announce(event: StudyComplete) -> None:
        log.info("study complete: %s (%d instances)", event.study_uid, event.n_instances)
        typer.echo(f"study complete: {event.study_uid} ({event.n_instances} instances)")

    bus = Notifications[StudyComplete]()
    bus.subscribe(announce)
    bus.subscribe(analyser.submit)
    return StudyCompletion(store, quiet_s=settings.study_quiet_s, bus=bus)


def _on_signals(stop: threading.Event) -> dict[int, Any]:
    """Make SIGINT and SIGTERM set ``stop``; returns the previous handlers."""
    import signal

    def handler(signum: int, _frame: object) -> None:
        stop.set()

    return {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}


def _wait(stop: threading.Event, http: HttpServer | None) -> None:
    """Block until ``stop`` is set; fail if the HTTP service died on its own."""
    from vesalius.errors import VesaliusError

    while not stop.wait(POLL_S):
        if http is not None and not http.running:
            raise VesaliusError(f"the HTTP service on {http.url} stopped unexpectedly")


def serve(
    config: Annotated[
        Path | None, typer.Option("--config", help="Settings file (TOML): AE title, ports, peers.")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="DICOM port (0: any free); overrides settings.")
    ] = None,
    http_port: Annotated[
        int | None,
        typer.Option("--http-port", help="HTTP port (0: any free); overrides the settings."),
    ] = None,
    no_http: Annotated[
        bool, typer.Option("--no-http", help="Run the DICOM listener alone, without HTTP.")
    ] = False,
) -> None:
    """Run the DICOM listener and the HTTP service (DICOMweb, health) until stopped."""
    import logging
    import signal
    import threading

    from vesalius.ingest.dimse.scp import DicomListener
    from vesalius.pipeline.routing import rules_from_settings
    from vesalius.service.events import EventHub
    from vesalius.settings import load_settings
    from vesalius.store import BlobStore, open_store

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    _check_port(port, "--port")
    _check_port(http_port, "--http-port")
    settings = load_settings(config)
    listener_config = _listener_config(settings, port)
    rules = rules_from_settings(settings)
    stop = threading.Event()
    previous = _on_signals(stop)
    store = open_store(settings.database_url)
    _first_admin(store)
    blobs = BlobStore(settings.blob_dir)
    analyser = _Analyser(store, blobs, rules)
    completion = _completion(settings, store, analyser)
    listener = DicomListener(
        listener_config,
        store=store,
        blobs=blobs,
        on_stored=lambda s: completion.arrived(s.header.study.study_uid),
    )
    events = EventHub()
    analyser.events = events
    http = None if no_http else _http_server(settings, store, blobs, http_port, events)
    try:
        analyser.requeue_abandoned()
        listener.start()  # first: it re-indexes what its journal kept from a crash
        completion.resume()
        typer.echo(
            f"DICOM: listening as {listener_config.ae_title} on "
            f"{listener_config.host}:{listener.port}"
        )
        if http is not None:
            http.start()
            typer.echo(f"HTTP: listening on {http.url} (DICOMweb at {http.url}/dicom-web)")
        completion.start()
        typer.echo(f"ready (data in {settings.data_dir}); Ctrl-C to stop")
        _wait(stop, http)
        typer.echo("stopping")
    finally:
        events.close()  # ends the open event streams, which would hold up the HTTP stop
        if http is not None:
            http.stop()
        listener.stop()
        completion.stop()
        analyser.stop()
        store.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    typer.echo("stopped")
