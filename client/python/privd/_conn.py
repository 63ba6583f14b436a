"""The connection under privd.Client: one DEALER socket with CURVE, the
deadline of each call, and the call loop. libprivd's client/conn.c does the
same in C; its comments say why each piece is there, in short:

- One call = one Request frame out, one Response frame back. ZMQ_IMMEDIATE
  queues a request only on a connection whose CURVE handshake completed,
  so nothing is buffered for a privd that is not there.
- On a deadline the socket is closed and the next call opens a fresh one
  ("lazy pirate"): a request that timed out is never delivered late to a
  privd that comes back, and a late answer is never taken for another's.
- A socket monitor tells apart why a handshake does not complete: privd
  refusing the client key (DeniedError, unknown_principal, at once), a
  wrong server key (HandshakeError after HS_FAILS_MAX failed handshakes in
  a row, about half a second), privd not there (UnavailableError at the
  deadline). The monitor watches a socket from its opening until its first
  request is sent.
- Given privd's key and its next key (client/serverkey.c does the same),
  a failed handshake makes the connection try the other key at once on a
  fresh socket, and the key that works stays in use: privd restarting
  onto its next key costs one failed handshake. HandshakeError once each
  key has failed HS_FAILS_MAX times in a row.
"""

import os
import struct
import time

import zmq
from google.protobuf.message import DecodeError

from ._pb import pb
from .errors import (DeniedError, HandshakeError, PrivdError, ProtocolError,
                     TimeoutError, TooLargeError, UnavailableError,
                     from_response)

RECONNECT_IVL_MS = 100
RECONNECT_IVL_MAX_MS = 1000
HS_FAILS_MAX = 3
# A legitimate answer is at most about 17 MiB; a larger frame is never
# taken in (libzmq drops the connection instead).
REPLY_MAX = 64 * 1024 * 1024
MON_EVENTS = (zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH |
              zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL |
              zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)


class Connection:
    """A socket to privd with the caller's keys; see the module's notes.
    Not thread-safe by itself: privd.Client serialises calls."""

    def __init__(self, endpoint, server_key, public_key, secret_key,
                 timeout_ms, max_request):
        self.endpoint = endpoint
        # server_key: one Z85 key, or privd's key and its next key
        self._server_keys = tuple(
            k.encode() for k in ((server_key,) if isinstance(server_key, str)
                                 else server_key))
        self._key_in_use = 0
        self._key_fails = 0
        self._keys = (self._server_keys[0], public_key.encode(),
                      secret_key.encode())
        self.timeout_ms = timeout_ms
        self.max_request = max_request
        self.ctx = zmq.Context()
        self.ctx.setsockopt(zmq.BLOCKY, 0)
        self.sock = None
        self.mon = None
        self.gen = 0
        self.hs_failed = 0
        self.auth_failed = False
        # a starting id that differs between clients, so that the ids in
        # privd's audit log are not all small numbers; not a secret
        self.next_id = int.from_bytes(os.urandom(8), "big") or 1
        self.last_id = 0
        try:
            self._open()  # start the handshake now: the first call finds
        except PrivdError:  # it done
            self.close()
            raise

    # -- socket and monitor ------------------------------------------------

    def _open(self):
        s = self.ctx.socket(zmq.DEALER)
        try:
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.IMMEDIATE, 1)
            s.setsockopt(zmq.MAXMSGSIZE, REPLY_MAX)
            s.setsockopt(zmq.RECONNECT_IVL, RECONNECT_IVL_MS)
            s.setsockopt(zmq.RECONNECT_IVL_MAX, RECONNECT_IVL_MAX_MS)
            s.setsockopt(zmq.CURVE_SERVERKEY,
                         self._server_keys[self._key_in_use])
            s.setsockopt(zmq.CURVE_PUBLICKEY, self._keys[1])
            s.setsockopt(zmq.CURVE_SECRETKEY, self._keys[2])
            # the monitor is attached before connect() to see the first
            # handshake; inproc names are per context, the context ours
            addr = "inproc://privd-monitor-%d" % self.gen
            self.gen += 1
            s.monitor(addr, MON_EVENTS)
            self.sock = s
            m = self.ctx.socket(zmq.PAIR)
            self.mon = m
            # unbounded queue: a full one would block libzmq's I/O thread
            m.setsockopt(zmq.LINGER, 0)
            m.setsockopt(zmq.RCVHWM, 0)
            m.connect(addr)
            self.auth_failed = False
            self.hs_failed = 0
            s.connect(self.endpoint)
        except zmq.ZMQError as e:
            self.close_socket()
            s.close(0)
            raise UnavailableError("cannot open a socket to privd: %s"
                                   % e.strerror) from None

    def _mon_stop(self):
        """Stop the monitor before closing its PAIR: libzmq sends events
        with a blocking send, and one sent to a closed PAIR would hang."""
        if self.mon is None:
            return
        if self.sock is not None:
            try:
                self.sock.monitor(None, 0)
            except zmq.ZMQError:
                pass
        self.mon.close(0)
        self.mon = None

    def close_socket(self):
        """Close the socket (dropping anything unsent) and its monitor."""
        self._mon_stop()
        if self.sock is not None:
            self.sock.close(0)
            self.sock = None
        self.auth_failed = False
        self.hs_failed = 0

    def close(self):
        self.close_socket()
        if self.ctx is not None:
            self.ctx.term()
            self.ctx = None

    def _mon_drain(self):
        """Read the queued monitor events: two frames each, a 16-bit event
        and a 32-bit value, then the endpoint."""
        while self.mon is not None:
            try:
                frames = self.mon.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if len(frames[0]) < 2:
                continue
            ev = struct.unpack("=H", frames[0][:2])[0]
            if ev == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self.auth_failed = True
            elif ev == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.auth_failed = False
                self.hs_failed = 0
            elif ev in (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL,
                        zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL):
                self.auth_failed = False
                self.hs_failed += 1

    def _writable(self):
        return bool(self.sock.getsockopt(zmq.EVENTS) & zmq.POLLOUT)

    def _wait_writable(self, deadline):
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLOUT)
        if self.mon is not None:
            poller.register(self.mon, zmq.POLLIN)
        while True:
            left = _remaining(deadline)
            ready = dict(poller.poll(left))
            if ready.get(self.sock, 0) & zmq.POLLOUT:
                self._key_fails = 0
                return
            if self.mon is not None and ready.get(self.mon, 0) & zmq.POLLIN:
                self._mon_drain()
                if self.auth_failed:
                    raise DeniedError("privd refused this client key",
                                      reason=pb.DENY_UNKNOWN_PRINCIPAL)
                if self.hs_failed and self._switch_key():
                    # the other key, on a fresh socket
                    self.close_socket()
                    self._open()
                    return self._wait_writable(deadline)
                if self.hs_failed >= HS_FAILS_MAX:
                    raise HandshakeError(
                        "connected to %s but the CURVE handshake failed: "
                        "the server key is probably wrong" % self.endpoint)
            if left == 0:
                raise UnavailableError(
                    "privd is not reachable at %s%s" % (
                        self.endpoint,
                        " (a CURVE handshake failed: is the server key "
                        "right?)" if self.hs_failed else ""))

    def _switch_key(self):
        """A handshake failed: with privd's next key held too, make the
        other key the one in use (True: open a fresh socket with it).
        HandshakeError once every key has failed HS_FAILS_MAX times in a
        row; False with one key (the caller counts)."""
        n = len(self._server_keys)
        if n < 2:
            return False
        self._key_fails += 1
        if self._key_fails >= HS_FAILS_MAX * n:
            self._key_fails = 0
            raise HandshakeError(
                "connected to %s but the CURVE handshake failed with each "
                "server key: they are probably wrong" % self.endpoint)
        self._key_in_use = (self._key_in_use + 1) % n
        return True

    @property
    def server_key(self):
        """The server key (Z85 str) the connection uses now."""
        return self._server_keys[self._key_in_use].decode()

    def _wait_reply(self, rid, deadline):
        """The Response to request rid. Answers with another id are not
        for it: dropped (privd answers a request once, on the socket it
        came in on, and a socket whose call timed out is closed)."""
        while True:
            left = _remaining(deadline)
            if not self.sock.poll(left, zmq.POLLIN):
                if left == 0:
                    raise TimeoutError("no answer from privd within %d ms"
                                       % self.timeout_ms)
                continue
            try:
                frames = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                continue
            if len(frames) != 1:
                continue  # privd answers in one frame: not a reply
            try:
                resp = pb.Response.FromString(frames[0])
            except DecodeError:
                raise ProtocolError("privd's answer could not be decoded") \
                    from None
            if resp.request_id == rid:
                return resp
            # privd answers a frame it does not decode (one over its
            # --max-request, say) with request_id 0. This socket carries
            # one request at a time, and a timed-out one is never answered
            # here (its socket was closed), so such an answer is ours.
            if resp.request_id == 0 and resp.status not in (
                    pb.OK, pb.STATUS_UNSPECIFIED):
                return resp

    # -- the call ----------------------------------------------------------

    def _send(self, data, deadline):
        """Send data once the connection is ready."""
        while True:
            self._wait_writable(deadline)
            try:
                self.sock.send(data, zmq.NOBLOCK, copy=True)
                return
            except zmq.Again:
                continue
            except zmq.ZMQError as e:
                raise UnavailableError("cannot send to privd: %s"
                                       % e.strerror) from None

    def call(self, req, payload, keep=None):
        """Carry one request (its request_id set here) and return the
        Response, whose status is OK and payload the one named. Any other
        outcome raises; keep is a non-OK status whose answer carries the
        payload too (a RETAINED delete says what it kept): such an answer
        is returned as well."""
        req.request_id = self.next_id
        self.next_id = (self.next_id + 1) & 0xFFFFFFFFFFFFFFFF or 1
        data = req.SerializeToString()
        if len(data) > self.max_request:
            raise TooLargeError("request of %d bytes exceeds the limit of %d "
                                "bytes" % (len(data), self.max_request))
        deadline = time.monotonic() + self.timeout_ms / 1000.0
        # A socket without its monitor that cannot send now lost its
        # connection since its first request: start over with a fresh,
        # monitored one, so that a refused key is reported, not waited out.
        if self.sock is not None and self.mon is None and \
                not self._writable():
            self.close_socket()
        if self.sock is None:
            self._open()
        try:
            self._send(data, deadline)
            self.last_id = req.request_id
            self._mon_stop()
            resp = self._wait_reply(req.request_id, deadline)
        except BaseException:
            # whatever ended the wait (a PrivdError, KeyboardInterrupt in
            # the middle of it), the request may still be in flight: its
            # answer must never meet a later call on this socket
            self.close_socket()
            raise
        if resp.status != pb.OK:
            if keep is not None and resp.status == keep and \
                    resp.WhichOneof("payload") == payload:
                return resp
            raise from_response(resp)
        if resp.WhichOneof("payload") != payload:
            raise ProtocolError("privd's answer does not match the request")
        return resp


def _remaining(deadline):
    """Milliseconds left until deadline (time.monotonic()), never
    negative."""
    return max(0, int((deadline - time.monotonic()) * 1000))
