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
- Several endpoints (a comma-separated list: the nodes of one privd
  cluster, sharing its server key): a call goes to one node, the node in
  use, and moves on to the next when that node fails (connection refused,
  handshake failing, no connection or no answer within the attempt's share
  of the deadline, connection lost, privd answering UNAVAILABLE). A request
  that was never sent goes on whatever it is; one that was sent and not
  answered, or answered UNAVAILABLE (on a PostgreSQL store that may be a
  commit that landed), goes on only if it only reads (REDO below), else it
  raises InDoubtError. Node order, time
  shares, back-off and the background probe of earlier nodes are
  client/endpoints.c's, which says why.
- Given privd's key and its next key (client/serverkey.c does the same),
  a failed handshake makes the connection try the other key at once on a
  fresh socket, and the key that works stays in use: privd restarting
  onto its next key costs one failed handshake. HandshakeError once each
  key has failed HS_FAILS_MAX times in a row.
- Every attempt's request carries its deadline as wall-clock time
  (Request.deadline_ms: the system clock now plus what is left of the
  attempt): privd answers EXPIRED (ExpiredError), with no effect, rather
  than carry a request out after it, so a node that hung and wakes up does
  not apply a change its caller was told is in doubt (client.h,
  "Deadlines", says what remains: a commit begun before the deadline, and
  clocks out of step).
"""

import os
import struct
import time

import zmq
from google.protobuf.message import DecodeError

from ._pb import pb
from .errors import (DeniedError, HandshakeError, InDoubtError, InvalidError,
                     PrivdError, ProtocolError, TimeoutError, TooLargeError,
                     UnavailableError, from_response)

RECONNECT_IVL_MS = 100
RECONNECT_IVL_MAX_MS = 1000
HS_FAILS_MAX = 3
# A legitimate answer is at most about 17 MiB; a larger frame is never
# taken in (libzmq drops the connection instead).
REPLY_MAX = 64 * 1024 * 1024
MON_EVENTS = (zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH |
              zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL |
              zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_CONNECTED |
              zmq.EVENT_CONNECT_RETRIED)

# Several endpoints (client/endpoints.c has the same numbers and says why).
ENDPOINTS_MAX = 16
ENDPOINT_MAX = 255
BACKOFF_S = 1.0          # a failed node is set aside for BACKOFF_S <<
BACKOFF_SHIFT_MAX = 5    # (failures in a row - 1), at most << 5
PROBE_S = 2.0            # a probe's handshake must complete within this
LOST_POLL_MS = 50        # how often a wait for an answer looks for a lost
                         # connection

# What a request may do when its node fails after it was sent, by
# Request.op (client/endpoints.c's table): "any" (a read: sent again to
# the next node), "node" (bound to the node: never moves), else a change
# (InDoubtError). A callable decides by the request.
REDO = {
    "ping": "any",
    "get": "any",
    "policy_get": "any",
    "policy_history": "any",
    "audit_query": "any",
    "audit_checkpoints": "any",
    "audit_pubkey": "any",
    "audit_prune": lambda r: "never" if r.audit_prune.confirm else "any",
    "hold_list": "any",
    "retention_run": lambda r: "any" if r.retention_run.preview else "never",
    "aggregate": "any",
    "subject_lookup": "any",
    "subject_export": "any",
    "erasures_export": "any",
    "backup_read": "node",
    "backup_end": "node",
}


def wall_deadline_ms(deadline):
    """A deadline on the monotonic clock as the wall-clock time a request
    carries (Request.deadline_ms, ms since the epoch): privd compares it
    with its own wall clock (clocks of hosts agree through NTP; monotonic
    ones do not). A deadline already past is now."""
    left = max(0.0, deadline - time.monotonic())
    return int((time.time() + left) * 1000)


def redo_of(req):
    """"any", "node" or "never" for a Request (see REDO)."""
    r = REDO.get(req.WhichOneof("op"), "never")
    return r(req) if callable(r) else r


_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789.-_:[]%")


def _endpoint_why(s, i, n):
    """What is wrong with endpoint s, the i-th of n (None: nothing)."""
    where = "endpoint %d of %d" % (i, n)
    if len(s) > ENDPOINT_MAX:
        return where + " is longer than 255 characters"
    if s.startswith("ipc://") and len(s) > 6:
        if any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in s):
            return where + ": the ipc:// path holds a control character"
        return None
    if not s.startswith("tcp://") or len(s) == 6:
        return where + " is neither ipc://PATH nor tcp://HOST:PORT"
    host, colon, port = s[6:].rpartition(":")
    if not colon or not host:
        return where + ": tcp:// needs HOST:PORT"
    if any(ch not in _HOST_CHARS for ch in host):
        return (where + ": the host holds a character a host name or "
                "address cannot have")
    if not (0 < len(port) <= 5 and port.isascii() and port.isdigit() and
            1 <= int(port) <= 65535):
        return where + ": the port is not a number from 1 to 65535"
    return None


def parse_endpoints(text):
    """The endpoints of a comma-separated list (blanks around each item
    ignored), as libprivd's privd_endpoints_check() takes it; InvalidError
    saying what is wrong, by position (the list is not quoted)."""
    if not isinstance(text, str) or not text.strip(" \t"):
        raise InvalidError("no endpoint given")
    if len(text) > ENDPOINTS_MAX * (ENDPOINT_MAX + 2):
        raise InvalidError("the endpoint list is longer than %d characters"
                           % (ENDPOINTS_MAX * (ENDPOINT_MAX + 2)))
    items = [x.strip(" \t") for x in text.split(",")]
    n = len(items)
    if n > ENDPOINTS_MAX:
        raise InvalidError("%d endpoints in the list; at most %d"
                           % (n, ENDPOINTS_MAX))
    for i, s in enumerate(items, 1):
        if not s:
            raise InvalidError("endpoint %d of %d is empty (two commas in "
                               "a row, or one at an end?)" % (i, n))
        why = _endpoint_why(s, i, n)
        if why:
            raise InvalidError(why)
        if s in items[:i - 1]:
            raise InvalidError("endpoint %d repeats endpoint %d"
                               % (i, items.index(s) + 1))
    return items


class _Node:
    """One privd node of the list: set aside until retry_at
    (time.monotonic()) after fails failures in a row."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.retry_at = 0.0
        self.fails = 0

    def failed(self, now):
        self.fails += 1
        self.retry_at = now + BACKOFF_S * (
            1 << min(self.fails - 1, BACKOFF_SHIFT_MAX))

    def ok(self):
        self.fails = 0
        self.retry_at = 0.0


class Connection:
    """A socket to privd with the caller's keys; see the module's notes.
    Not thread-safe by itself: privd.Client serialises calls."""

    def __init__(self, endpoint, server_key, public_key, secret_key,
                 timeout_ms, max_request):
        self.nodes = [_Node(e) for e in parse_endpoints(endpoint)]
        self.cur = 0
        self.tried = set()
        self.probe = None       # (socket, node index, give-up time, key)
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
        self.reached = False    # the socket has had a connection
        self.refused = 0        # connection attempts failed before one
        # a starting id that differs between clients, so that the ids in
        # privd's audit log are not all small numbers; not a secret
        self.next_id = int.from_bytes(os.urandom(8), "big") or 1
        self.last_id = 0
        try:
            self._open()  # start the handshake now: the first call finds
        except PrivdError:  # it done
            self.close()
            raise

    @property
    def endpoint(self):
        """The endpoint of the node in use."""
        return self.nodes[self.cur].endpoint

    # -- socket and monitor ------------------------------------------------

    def _dealer(self):
        """A DEALER with our keys and options, not connected (the socket
        of a call and the probe, which may become it, are made alike)."""
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
        except zmq.ZMQError:
            s.close(0)
            raise
        return s

    def _open(self):
        try:
            s = self._dealer()
        except zmq.ZMQError as e:
            raise UnavailableError("cannot open a socket to privd: %s"
                                   % e.strerror) from None
        try:
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
            self.reached = False
            self.refused = 0
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
        self.reached = False
        self.refused = 0

    def close(self):
        self.close_socket()
        self._probe_close()
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
            elif ev == zmq.EVENT_CONNECTED:
                self.reached = True
            elif ev == zmq.EVENT_CONNECT_RETRIED and not self.reached:
                self.refused += 1  # (after a connection: a reconnect)

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
                if self.refused and len(self.nodes) > 1:
                    raise UnavailableError(
                        "privd is not reachable at %s (connection refused)"
                        % self.endpoint)
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
        several = len(self.nodes) > 1
        while True:
            left = _remaining(deadline)
            if several:
                left = min(left, LOST_POLL_MS)
            if not self.sock.poll(left, zmq.POLLIN):
                if _remaining(deadline) == 0:
                    raise TimeoutError("no answer from privd within %d ms"
                                       % self.timeout_ms)
                if several and not self._writable():
                    raise TimeoutError("privd at %s dropped the connection "
                                       "before answering" % self.endpoint)
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

    def _attempt(self, data, rid, deadline):
        """One attempt on the node in use: (sent, Response). sent says
        whether the request may have reached privd; a PrivdError raised
        carries it as its attribute sent."""
        sent = False
        # A socket without its monitor that cannot send now lost its
        # connection since its first request: start over with a fresh,
        # monitored one, so that a refused key is reported, not waited out.
        if self.sock is not None and self.mon is None and \
                not self._writable():
            self.close_socket()
        try:
            if self.sock is None:
                self._open()
            self._send(data, deadline)
            sent = True
            self.last_id = rid
            self._mon_stop()
            resp = self._wait_reply(rid, deadline)
        except BaseException as e:
            # whatever ended the wait (a PrivdError, KeyboardInterrupt in
            # the middle of it), the request may still be in flight: its
            # answer must never meet a later call on this socket
            self.close_socket()
            if isinstance(e, PrivdError):
                e.sent = sent
            raise
        if len(self.nodes) > 1 and resp.status == pb.UNAVAILABLE:
            # stopping or overloaded (no effect), or on a PostgreSQL
            # store a commit the database did not confirm (it may have
            # landed): another node may take a read; a change is in doubt
            self.close_socket()
            e = from_response(resp)
            e.sent = True
            e.answered = True
            raise e
        return resp

    def call(self, req, payload, keep=None):
        """Carry one request (its request_id set here) and return the
        Response, whose status is OK and payload the one named. Any other
        outcome raises; keep is a non-OK status whose answer carries the
        payload too (a RETAINED delete says what it kept): such an answer
        is returned as well. With several endpoints the request may move
        to another node (see the module's notes)."""
        req.request_id = self.next_id
        self.next_id = (self.next_id + 1) & 0xFFFFFFFFFFFFFFFF or 1
        deadline = time.monotonic() + self.timeout_ms / 1000.0
        # the deadline is part of the size (a varint): each attempt's is
        # as long as this one
        req.deadline_ms = wall_deadline_ms(deadline)
        data = req.SerializeToString()
        if len(data) > self.max_request:
            raise TooLargeError("request of %d bytes exceeds the limit of %d "
                                "bytes" % (len(data), self.max_request))
        self._begin(req)
        while True:
            try:
                attempt_deadline = self._attempt_deadline(deadline)
                req.deadline_ms = wall_deadline_ms(attempt_deadline)
                resp = self._attempt(req.SerializeToString(), req.request_id,
                                     attempt_deadline)
                self.nodes[self.cur].ok()
                break
            except (UnavailableError, TimeoutError, HandshakeError) as e:
                # the node's failures; anything else is an answer
                if len(self.nodes) < 2:
                    raise
                self._failover(req, e)
        if resp.status != pb.OK:
            if keep is not None and resp.status == keep and \
                    resp.WhichOneof("payload") == payload:
                return resp
            raise from_response(resp)
        if resp.WhichOneof("payload") != payload:
            raise ProtocolError("privd's answer does not match the request")
        return resp

    # -- several endpoints (client/endpoints.c says why) -----------------

    def _use(self, i):
        """Make node i the node in use; the socket to the old one goes."""
        if i != self.cur:
            self.close_socket()
            self.cur = i

    def _next(self, now, untried):
        """The first node in list order, other than the one in use, that is
        not set aside (and not tried in this call if untried); else the
        (untried) one whose back-off ends first; None if there is none."""
        best = None
        for i, nd in enumerate(self.nodes):
            if i == self.cur or (untried and i in self.tried):
                continue
            if nd.retry_at <= now:
                return i
            if best is None or nd.retry_at < self.nodes[best].retry_at:
                best = i
        return best

    def _server_key_now(self):
        """The server key a new socket is given now."""
        return self._server_keys[self._key_in_use]

    def _probe_close(self):
        if self.probe is not None:
            self.probe[0].close(0)
            self.probe = None

    def _begin(self, req):
        """At the start of a call carrying req: go back to an earlier node
        whose probe has completed its handshake, or start probing one
        whose back-off has passed; not for a request bound to its node."""
        self.tried = set()
        if len(self.nodes) < 2 or redo_of(req) == "node":
            return
        now = time.monotonic()
        if self.probe is not None:
            s, i, until, key = self.probe
            if i >= self.cur or key != self._server_key_now():
                self._probe_close()
            elif s.getsockopt(zmq.EVENTS) & zmq.POLLOUT:
                self.probe = None
                self._use(i)
                self.sock = s
                self.nodes[i].ok()
            elif now >= until:
                self._probe_close()
                self.nodes[i].failed(now)
        if self.probe is not None:
            return
        for i in range(self.cur):
            if self.nodes[i].retry_at <= now:
                try:
                    s = self._dealer()
                    s.connect(self.nodes[i].endpoint)
                except zmq.ZMQError:
                    self.nodes[i].failed(now)
                    break
                self.probe = (s, i, now + PROBE_S, self._server_key_now())
                break

    def _attempt_deadline(self, deadline):
        """The attempt's share of the time left: the time left divided by
        the nodes still worth trying in this call (this one, and those
        neither tried yet nor set aside)."""
        self.tried.add(self.cur)
        now = time.monotonic()
        left = sum(1 for i, nd in enumerate(self.nodes)
                   if i not in self.tried and nd.retry_at <= now)
        if left == 0 or deadline <= now:
            return deadline
        return now + (deadline - now) / (left + 1)

    def _failover(self, req, e):
        """The node in use failed with e in an attempt at req: move on
        (return: try again there), or raise what ends the call."""
        now = time.monotonic()
        failed = self.endpoint
        self.nodes[self.cur].failed(now)
        redo = redo_of(req)
        nxt = self._next(now, True)
        sent = getattr(e, "sent", False)
        if sent and redo == "never":
            if nxt is None:
                nxt = self._next(now, False)
            self._use(nxt)
            if getattr(e, "answered", False):
                raise InDoubtError(
                    "privd at %s answered the %s request UNAVAILABLE: it "
                    "may or may not have been applied (read back before "
                    "repeating it); later calls go to %s" % (
                        failed, req.WhichOneof("op").replace("_", " "),
                        self.endpoint)) from None
            raise InDoubtError(
                "privd at %s took the %s request and did not answer it (in "
                "time, or before dropping the connection); later calls go "
                "to %s" % (
                    failed, req.WhichOneof("op").replace("_", " "),
                    self.endpoint)) from None
        if redo == "node" or nxt is None:
            if redo != "node" and len(self.tried) > 1:
                e.message = (e.message or "") + " (every endpoint was tried)"
                e.args = (e.message,)
            if nxt is None:
                nxt = self._next(now, False)
            if nxt is not None:
                self._use(nxt)
            raise e
        self._use(nxt)


def _remaining(deadline):
    """Milliseconds left until deadline (time.monotonic()), never
    negative."""
    return max(0, int((deadline - time.monotonic()) * 1000))
