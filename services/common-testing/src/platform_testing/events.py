"""Server-sent events read as a browser reads them, for tests over real HTTP."""

import json
import queue
import threading
import time

import httpx


class EventStream:
    """An open server-sent event stream (`GET url`), its lines read by a thread
    as a browser's EventSource reads them (None once the stream ended)."""

    def __init__(self, url: str, headers: dict[str, str], **client: object) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.opened = threading.Event()
        self.status = 0
        self.headers: httpx.Headers = httpx.Headers()
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=30), **client)  # type: ignore[arg-type]
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()
        assert self.opened.wait(10), "the stream did not answer"

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                self.status, self.headers = response.status_code, response.headers
                self.opened.set()
                for line in response.iter_lines():
                    self.lines.put(line)
        except httpx.HTTPError:
            pass
        finally:
            self.opened.set()
            self.lines.put(None)

    def next_event(self, timeout: float = 10, name: str = "changed") -> dict[str, object]:
        """The JSON data of the next event called `name`."""
        deadline = time.monotonic() + timeout
        event = ""
        while (left := deadline - time.monotonic()) > 0:
            line = self.lines.get(timeout=left)
            assert line is not None, "the stream ended"
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == name:
                return json.loads(line.removeprefix("data: "))
        raise AssertionError("no event in time")

    def lines_until(self, wanted: str, timeout: float = 10) -> bool:
        """True once the line `wanted` came (a comment: `: keep-alive`), False if not within `timeout`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            line = self.lines.get(timeout=left)
            if line == wanted:
                return True
        return False

    def ended(self, timeout: float) -> bool:
        """True once the server ended the stream, waiting up to `timeout`."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self) -> None:
        """Hang up, as a browser leaving the page."""
        self._client.close()
        self._thread.join(5)
