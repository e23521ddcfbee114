"""A PostgreSQL server that accepts connections but never answers (hung, or paused): the
first check waits out the connect timeout, the checks right after it on the same client (a
notebook's checks share one) fail at once with the same reason; another client, or the
same one after the timeout's length, tries again."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from netzops import postgres
from netzops.errors import TargetUnreachable
from netzops.targets import Target, load_target


class Hung:
    """A TCP server that accepts every connection and never sends a byte; counts them."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _serve(self) -> None:
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return  # closed

    def close(self) -> None:
        for conn in [*self.held, self.sock]:
            conn.close()


@pytest.fixture
def hung() -> Iterator[Hung]:
    server = Hung()
    yield server
    server.close()


def _target(port: int) -> Target:
    sandbox = load_target("sandbox")
    pg = sandbox.postgres.model_copy(update={"port": port, "connect_timeout_s": 1})
    return sandbox.model_copy(update={"postgres": pg})


def _wait_accepted(server: Hung, n: int) -> int:
    deadline = time.monotonic() + 5
    while len(server.held) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(server.held)


def test_checks_after_a_connect_timeout_do_not_wait_it_out_again(hung: Hung) -> None:
    target = _target(hung.port)
    db = postgres.connect(target)  # one client, as a notebook's checks share it
    first = postgres.database_size(db)
    assert _wait_accepted(hung, 1) == 1
    assert "connection timeout expired" in first.findings[0].summary
    second, third = postgres.connections(db), postgres.ping(db)
    assert len(hung.held) == 1  # no new connection
    for result in (second, third):
        assert result.findings[0].priority.name == "P0"
        assert "connection timeout expired" in result.findings[0].summary
        assert "not tried again within 1 s" in result.findings[0].summary
    # another client (the next run, a recovered server) tries at once
    with pytest.raises(TargetUnreachable, match="connection timeout expired") as caught:
        postgres.connect(target, role="admin").connection()
    assert "not tried again" not in str(caught.value)
    assert _wait_accepted(hung, 2) == 2
    time.sleep(1.05)  # the connect timeout's length has passed: this client tries again
    with pytest.raises(TargetUnreachable, match="connection timeout expired"):
        db.connection()
    assert _wait_accepted(hung, 3) == 3


def test_a_refused_connection_is_tried_every_time() -> None:
    free = socket.create_server(("127.0.0.1", 0))  # a port nothing listens on once closed
    port = int(free.getsockname()[1])
    free.close()
    target = _target(port)
    for _ in range(2):
        with pytest.raises(TargetUnreachable, match="refused") as caught:
            postgres.connect(target).connection()
        assert "not tried again" not in str(caught.value)
