"""A tiny SMTP server on the loopback interface for outbox tests: it accepts messages, or
stalls (accepts the connection and never answers), on demand."""

import re
import socket
import threading
from email import message_from_bytes
from email.message import Message


class LoopbackSMTP:
    """`stalled` = True: a connection gets no greeting, and a message in progress gets no
    answer to its data, until `stalled` is False again. Messages count as received only when
    the server answered 250 to their data, as a real server's acceptance."""

    def __init__(self) -> None:
        self.received: list[Message] = []
        self.stalled = False
        self.stall_after = None  # stall once this many messages were accepted
        self.held = 0  # messages whose data arrived and wait for an answer
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closing = False
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._closing = True
        self._listener.close()

    def _hold(self) -> bool:
        if self.stall_after is not None and len(self.received) >= self.stall_after:
            self.stalled = True
        return self.stalled

    def _wait_while_stalled(self) -> None:
        while self._hold() and not self._closing:
            threading.Event().wait(0.05)

    def _serve(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            try:
                self._wait_while_stalled()
                conn.sendall(b"220 loopback ESMTP\r\n")
                self._commands(conn, lines)
            except OSError:
                return

    def _commands(self, conn: socket.socket, lines) -> None:
        for raw in lines:
            verb = raw[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                conn.sendall(b"250 loopback\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go on\r\n")
                body = self._data(lines)
                self.held += 1
                self._wait_while_stalled()
                self.held -= 1
                if self._closing or body is None or self._hung_up(conn):
                    return  # never answered 250: the message was not accepted
                self.received.append(message_from_bytes(re.sub(rb"^\.\.", b".", body)))
                conn.sendall(b"250 accepted\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                conn.sendall(b"250 ok\r\n")

    @staticmethod
    def _data(lines) -> bytes | None:
        chunks = []
        for line in lines:
            if line == b".\r\n":
                return b"".join(chunks)
            chunks.append(line)
        return None

    @staticmethod
    def _hung_up(conn: socket.socket) -> bool:
        conn.setblocking(False)
        try:
            return conn.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            conn.setblocking(True)

    def notification_ids(self) -> list[int]:
        header = "X-ALM-Notifications"
        return [int(pk) for m in self.received for pk in (m[header] or "").split(",") if pk]
