"""The local AWS: Bedrock, Bedrock Runtime and (through moto) S3 on one 127.0.0.1 port.

Requests are routed by the service in their SigV4 credential scope, like AWS endpoints are:
``bedrock`` (control plane and runtime both sign as bedrock) goes to the emulator, everything
else to moto's S3. Use it in-process as a context manager or run ``bedrock-ext emulator serve``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from bedrock_ext.emulator import validation
from bedrock_ext.emulator.config import EmulatorConfig
from bedrock_ext.emulator.errors import EmulatorError
from bedrock_ext.emulator.exceptions import ValidationException
from bedrock_ext.emulator.lifecycle import Lifecycle
from bedrock_ext.emulator.models import BatchBackend
from bedrock_ext.emulator.responses import BedrockResponses
from bedrock_ext.emulator.s3_persistence import S3Mirror
from bedrock_ext.emulator.s3_reads import stream_large_get
from bedrock_ext.emulator.s3store import BotoObjectStore
from bedrock_ext.emulator.state_lock import StateDirLock

log = logging.getLogger("bedrock_ext.emulator")
LOOPBACK = "127.0.0.1"
_BEDROCK_PATHS = ("/model-invocation-job", "/model/", "/_emulator", "/listTagsForResource")


def _signing_service(environ: dict[str, Any]) -> str | None:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        return str(auth.split(",")[0].split()[1].split("/")[3]).lower()
    except IndexError:
        return None


class Emulator:
    """A running local AWS endpoint; ``endpoint_url`` is what boto3 and DuckDB are pointed at."""

    def __init__(self, config: EmulatorConfig | None = None, state_dir: Path | None = None,
                 port: int = 0) -> None:
        self.state_dir = Path(state_dir) if state_dir else None
        self._lock: StateDirLock | None = None
        if self.state_dir:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._lock = StateDirLock(self.state_dir).acquire()  # one emulator process per state dir
        try:
            self.backend = BatchBackend(config or EmulatorConfig(), self.state_dir)
        except EmulatorError:
            if self._lock:
                self._lock.release()
            raise
        self._mirror = S3Mirror(self.state_dir / "s3", self.backend.config.region) if self.state_dir else None
        self._responses = BedrockResponses(self.backend, self._admin)
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.lifecycle: Lifecycle | None = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise EmulatorError("the emulator is not running: call start() first")
        return f"http://{LOOPBACK}:{self._server.server_port}"

    @property
    def config(self) -> EmulatorConfig:
        return self.backend.config

    def configure(self, **sections: dict[str, Any]) -> EmulatorConfig:
        """Merge settings (``faults={...}``, ``quotas={...}``, ``timings={...}``) at run time."""
        self.backend.config = self.backend.config.updated(sections)
        return self.backend.config

    def start(self) -> Emulator:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        try:
            self._server = make_server(LOOPBACK, self._port, self._wsgi, threaded=True,
                                       request_handler=MotoRequestHandler)
        except OSError as err:
            raise EmulatorError(f"cannot listen on {LOOPBACK}:{self._port}: {err}; "
                                "pick another --port or stop the other server") from None
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator-http",
                                        daemon=True)
        self._thread.start()
        if self._mirror:
            self._mirror.restore()
        store = BotoObjectStore(self.endpoint_url, self.backend.config.region)
        self.lifecycle = Lifecycle(self.backend, store)
        self.lifecycle.start()
        log.info("local Bedrock + S3 emulator at %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        if self.lifecycle:
            self.lifecycle.stop()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self.backend.save()
        self._server = None
        if self._lock:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        service = _signing_service(environ)
        path = environ.get("PATH_INFO", "")
        if service == "bedrock" or (service is None and path.startswith(_BEDROCK_PATHS)):
            return self._responses(Request(environ))(environ, start_response)
        streamed = stream_large_get(self._moto, environ, start_response)
        if streamed is not None:
            return streamed
        status: list[int] = []

        def capture(status_line: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(int(status_line.split()[0]))
            return start_response(status_line, headers, exc_info)

        body = self._moto(environ, capture)
        if self._mirror and status:
            self._mirror.after(environ["REQUEST_METHOD"], path,
                               environ.get("QUERY_STRING", ""), status[0])
        return body

    def _admin(self, request: Request) -> Response:
        """`/_emulator/config` (GET, POST to merge settings) and `/_emulator/health`."""
        if request.path.endswith("/health"):
            return Response(json.dumps({"ok": True}), mimetype="application/json")
        if request.method == "POST":
            try:
                body = validation.parse_json(request.get_data() or b"{}", "The config body")
                if not isinstance(body, dict):
                    raise ValueError(f"the config body must be a JSON object, got {type(body).__name__}")
                self.configure(**body)
            except ValidationException as err:
                return Response(json.dumps({"message": err.message}), status=400, mimetype="application/json")
            except (TypeError, ValueError) as err:
                return Response(json.dumps({"message": str(err)}), status=400,
                                mimetype="application/json")
        return Response(json.dumps(self.backend.config.to_dict()), mimetype="application/json")
