"""Running the sandbox: in a background thread for tests and the demo, or in the foreground."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import uvicorn

from mida_pipeline.sandbox.app import DEFAULT_API_KEY, DEFAULT_BSS_SECRET, create_app
from mida_pipeline.sandbox.bss_api import SYNC_PATH
from mida_pipeline.sandbox.data import SandboxConfig, SandboxData


class _QuietFaults(logging.Filter):
    """An injected connection reset is the point of the fault, not an error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionResetError))


logging.getLogger("uvicorn.error").addFilter(_QuietFaults())

W = TypeVar("W")


class SandboxServer:
    """Both APIs on 127.0.0.1 at a free port, over a real socket, until stop().

    `wrap(middleware)` puts an ASGI wrapper around everything the server answers, before it starts:
    `counter = server.wrap(InFlight)` serves `InFlight(app)` and returns it, so a test can read what it saw.
    """

    def __init__(
        self,
        config: SandboxConfig = SandboxConfig(),
        *,
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        bss_secret: str = DEFAULT_BSS_SECRET,
        **app_kwargs,
    ):
        self.data = SandboxData(config)
        self.api_key, self.bss_secret = api_key, bss_secret
        self.app = create_app(self.data, api_key=api_key, bss_secret=bss_secret, **app_kwargs)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30, backlog=2048
            )
        )
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mida_base_url(self) -> str:
        return f"{self.url}/v2"

    @property
    def bss_sync_url(self) -> str:
        return f"{self.url}{SYNC_PATH}"

    @property
    def faults(self):
        return self.app.state.faults

    @property
    def requests(self) -> list[tuple[str, str]]:
        return self.app.state.requests

    def wrap(self, middleware: Callable[..., W]) -> W:
        """Serve `middleware(app)` in place of the app served so far (outermost), and return it; before start()."""
        if self.thread.is_alive():
            raise RuntimeError("wrap the sandbox's app before the server starts")
        wrapped = middleware(self.server.config.app)
        self.server.config.app = wrapped
        return wrapped

    def start(self) -> SandboxServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the sandbox did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(port: int, config: SandboxConfig = SandboxConfig(), **app_kwargs) -> None:
    """Serve in the foreground (Ctrl-C stops), printing the settings that point the pipeline here."""
    data = SandboxData(config)
    app = create_app(data, **app_kwargs)
    base = f"http://127.0.0.1:{port}"
    print(
        f"sandbox serving both APIs at {base}\n"
        f"  export MIDA_API_BASE_URL={base}/v2 MIDA_API_KEY={DEFAULT_API_KEY} MIDA_PROJECT_KEYS={','.join(data.project_keys)}\n"
        f"  export MIDA_BSS_SYNC_URL={base}{SYNC_PATH} MIDA_BSS_SECRET_KEY={DEFAULT_BSS_SECRET}",
        flush=True,
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
