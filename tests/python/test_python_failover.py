#!/usr/bin/python3
"""The Python client given several endpoints fails over between privd
nodes as libprivd does (issue 12): reads are re-sent, a change in flight
raises InDoubtError, and calls return to the first node when it is back.

Two privd nodes, A and B, that share the server key and the master key:
A's data directory is made by privd init and copied, stopped, to B. That
makes two independent stores with the same keys - a real cluster's nodes
share one store (PostgreSQL); the client cannot tell the difference. The
data the tests read is put on both nodes, each through a client of its
own, as a shared store would have it. Hung nodes are SIGSTOPped (they keep
their connections but never answer), dead ones SIGKILLed. Nothing is
timed for pass or fail: a call with a deadline cannot take longer, so a
call that succeeds has failed over in time; the times are printed.
"""

import os
import shutil
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyharness  # noqa: E402

pyharness.skip_unless_ready()
privd = pyharness.import_privd()
InDoubtError = privd.errors.InDoubtError

TIMEOUT_S = 2.0
RETURN_WAIT_S = 15.0


class Failover(unittest.TestCase):
    def setUp(self):
        self.a = pyharness.Privd()
        self.addCleanup(self.a.cleanup)
        self.b = pyharness.Privd()
        self.addCleanup(self.b.cleanup)
        self.addCleanup(self._wake)
        self.a.init()
        shutil.copytree(self.a.data_dir, self.b.data_dir, symlinks=True)
        self.a.serve()
        self.b.serve()
        for d in (self.a, self.b):
            pyharness.wait_ready(self.direct(d), d.proc)
        self.list = "%s,%s" % (self.a.endpoint, self.b.endpoint)

    def _wake(self):
        """A stopped node would not stop on SIGTERM at cleanup."""
        for d in (self.a, self.b):
            if d.proc is not None and d.proc.poll() is None:
                d.proc.send_signal(signal.SIGCONT)

    def direct(self, d):
        """A client of node d alone (A's keys: B has the same)."""
        c = privd.Client(d.endpoint, server_key_file=self.a.server_key_file,
                         key_file=self.a.key_files["svc"],
                         purpose="invoicing")
        self.addCleanup(c.close)
        return c

    def both(self):
        c = privd.Client(self.list, server_key_file=self.a.server_key_file,
                         key_file=self.a.key_files["svc"],
                         purpose="invoicing", timeout=TIMEOUT_S)
        self.addCleanup(c.close)
        return c

    def put_both(self, subject, name):
        for d in (self.a, self.b):
            self.direct(d).put("customers", subject, {"name": name})

    @staticmethod
    def node(c):
        return c._conn.endpoint

    def kill(self, d):
        d.proc.kill()
        d.proc.wait()
        d.proc = None

    def test_endpoint_lists(self):
        bad = [
            ("", "no endpoint"),
            ("tcp://a:1,,tcp://b:1", "endpoint 2 of 3 is empty"),
            ("tcp://a:1,", "endpoint 2 of 2 is empty"),
            ("tcp://a:1,http://b:1", "endpoint 2 of 2 is neither"),
            ("tcp://host", "needs HOST:PORT"),
            ("tcp://a b:1", "host holds a character"),
            ("tcp://a:0", "port is not a number"),
            ("tcp://a:65536", "port is not a number"),
            ("tcp://a:1,tcp://b:1, tcp://a:1",
             "endpoint 3 repeats endpoint 1"),
            (",".join("tcp://h:%d" % (7700 + i) for i in range(17)),
             "17 endpoints in the list; at most 16"),
        ]
        for text, why in bad:
            with self.assertRaises(privd.InvalidError) as cm:
                privd._conn.parse_endpoints(text)
            self.assertIn(why, str(cm.exception), text)
        with self.assertRaises(privd.InvalidError) as cm:
            privd.Client("tcp://a:1,,tcp://b:1",
                         server_key_file=self.a.server_key_file,
                         key_file=self.a.key_files["svc"])
        self.assertIn("endpoint 2 of 3 is empty", str(cm.exception))
        self.assertEqual(privd._conn.parse_endpoints(
            " tcp://a:7700 ,\ttcp://[::1]:7700 , ipc:///run/p"),
            ["tcp://a:7700", "tcp://[::1]:7700", "ipc:///run/p"])
        self.assertTrue(issubclass(InDoubtError, privd.TimeoutError))

    def test_kill_a_reads_go_on(self):
        self.put_both("py-1", "Ada")
        c = self.both()
        self.assertEqual(c.get("customers", "py-1"), {"name": b"Ada"})
        self.assertEqual(self.node(c), self.a.endpoint)
        self.kill(self.a)
        t0 = time.monotonic()
        self.assertEqual(c.get("customers", "py-1"), {"name": b"Ada"})
        print("# kill -9 A: the next get answered by B after %.0f ms"
              % ((time.monotonic() - t0) * 1000))
        self.assertEqual(self.node(c), self.b.endpoint)
        self.assertEqual(c.ping().principal, "svc")
        # an unsent put moves on too
        c.put("customers", "py-1", {"name": "Grace"})
        self.assertEqual(self.direct(self.b).get("customers", "py-1"),
                         {"name": b"Grace"})

    def test_hung_a(self):
        """A SIGSTOPped: the get in flight is re-sent to B; a put in
        flight is in doubt and not re-sent."""
        self.put_both("py-2", "Ada")
        c = self.both()
        c.ping()
        self.assertEqual(self.node(c), self.a.endpoint)
        self.a.proc.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        self.assertEqual(c.get("customers", "py-2"), {"name": b"Ada"})
        print("# A hung: the get in flight answered by B after %.0f ms"
              % ((time.monotonic() - t0) * 1000))
        self.assertEqual(self.node(c), self.b.endpoint)
        self.a.proc.send_signal(signal.SIGCONT)

        c2 = self.both()
        c2.ping()
        self.assertEqual(self.node(c2), self.a.endpoint)
        self.a.proc.send_signal(signal.SIGSTOP)
        with self.assertRaises(InDoubtError) as cm:
            c2.put("customers", "py-2", {"name": "Barbara"})
        print("# in doubt: %s" % cm.exception)
        self.assertIn("took the put request", str(cm.exception))
        self.assertEqual(self.node(c2), self.b.endpoint)
        self.assertEqual(c2.get("customers", "py-2"), {"name": b"Ada"})
        self.a.proc.send_signal(signal.SIGCONT)

    def test_node_dies_in_flight(self):
        """A node that dies with a put in flight drops the connection: the
        client notices at once (not at the attempt's deadline) and the put
        is in doubt. The node is an in-process CURVE ROUTER that closes
        its socket as the request arrives."""
        import threading
        import zmq
        pub, sec = zmq.curve_keypair()
        ctx = zmq.Context()
        self.addCleanup(ctx.term)
        hole = ctx.socket(zmq.ROUTER)
        hole.setsockopt(zmq.LINGER, 0)
        hole.setsockopt(zmq.CURVE_SERVER, 1)
        hole.setsockopt(zmq.CURVE_SECRETKEY, sec)
        ep = "ipc://" + os.path.join(self.a.root, "hole")
        hole.bind(ep)

        def die():
            hole.recv_multipart()
            hole.close(0)
        t = threading.Thread(target=die)
        t.start()
        c = privd.Client("%s,%s" % (ep, self.b.endpoint),
                         server_key=pub.decode(),
                         key_file=self.a.key_files["svc"],
                         purpose="invoicing", timeout=20.0)
        self.addCleanup(c.close)
        t0 = time.monotonic()
        with self.assertRaises(InDoubtError) as cm:
            c.put("customers", "py-5", {"name": "Barbara"})
        took = time.monotonic() - t0
        t.join(10)
        print("# put in flight, node dies: in doubt after %.0f ms (%s)"
              % (took * 1000, cm.exception))
        # 20 s / 2 per attempt: had it waited for its deadline, 10 s
        self.assertLess(took, 10.0)
        self.assertEqual(self.node(c), self.b.endpoint)

    def unavailable_node(self, name):
        """An in-process node answering its first request UNAVAILABLE, as
        privd on a PostgreSQL store answers a batch whose commit the
        database did not confirm (the change may have landed): a CURVE
        ROUTER of a key of its own, so that a request that goes on to B
        fails its handshake there. Returns its endpoint, its public key
        and the thread that answers."""
        import threading
        import zmq
        pb = privd.pb
        pub, sec = zmq.curve_keypair()
        ctx = zmq.Context()
        self.addCleanup(ctx.term)
        node = ctx.socket(zmq.ROUTER)
        node.setsockopt(zmq.LINGER, 0)
        node.setsockopt(zmq.CURVE_SERVER, 1)
        node.setsockopt(zmq.CURVE_SECRETKEY, sec)
        ep = "ipc://" + os.path.join(self.a.root, name)
        node.bind(ep)
        # open until the test ends: closed at once, it would drop its
        # answer (LINGER 0); closed after the thread is done with it
        self.addCleanup(node.close, 0)

        def answer():
            # bounded: a test that failed before its request still ends
            if not node.poll(30000):
                return
            peer, body = node.recv_multipart()
            req = pb.Request.FromString(body)
            resp = pb.Response(
                request_id=req.request_id, status=pb.UNAVAILABLE,
                message="the database server is unavailable")
            node.send_multipart([peer, resp.SerializeToString()])
        t = threading.Thread(target=answer)
        t.start()
        self.addCleanup(t.join, 35)
        return ep, pub.decode(), t

    def test_unavailable_put_is_in_doubt(self):
        """A change answered UNAVAILABLE by one of several nodes is in
        doubt, not sent again to the next node (libprivd's counterpart:
        test_client_failover's test_unavailable_put_is_in_doubt); a read
        answered UNAVAILABLE goes on to the next node."""
        ep, pub, t = self.unavailable_node("unavailable-put")
        c = privd.Client("%s,%s" % (ep, self.b.endpoint), server_key=pub,
                         key_file=self.a.key_files["svc"],
                         purpose="invoicing", timeout=20.0)
        self.addCleanup(c.close)
        with self.assertRaises(InDoubtError) as cm:
            c.put("customers", "py-6", {"name": "Cecilia"})
        t.join(10)
        print("# put answered UNAVAILABLE: %s" % cm.exception)
        self.assertIn("UNAVAILABLE", str(cm.exception))
        self.assertIn(ep, str(cm.exception))
        # not re-sent: B never saw it (its handshake would have failed
        # with the fake node's key, and the error would say so)
        self.assertNotIsInstance(cm.exception, privd.HandshakeError)
        with self.assertRaises(privd.NotFoundError):
            self.direct(self.b).get("customers", "py-6")

        ep, pub, t = self.unavailable_node("unavailable-get")
        c2 = privd.Client("%s,%s" % (ep, self.b.endpoint), server_key=pub,
                          key_file=self.a.key_files["svc"],
                          purpose="invoicing", timeout=20.0)
        self.addCleanup(c2.close)
        with self.assertRaises(privd.PrivdError) as cm:
            c2.ping()
        t.join(10)
        print("# ping answered UNAVAILABLE: %s" % cm.exception)
        # it went on to B, whose handshake fails (the fake node's key)
        self.assertIsInstance(cm.exception, privd.HandshakeError)
        self.assertIn(self.b.endpoint, str(cm.exception))

    def test_a_comes_back(self):
        self.put_both("py-3", "Ada")
        c = self.both()
        self.kill(self.a)
        c.get("customers", "py-3")
        self.assertEqual(self.node(c), self.b.endpoint)
        self.a.serve()
        pyharness.wait_ready(self.direct(self.a), self.a.proc)
        t0 = time.monotonic()
        calls = 0
        while self.node(c) != self.a.endpoint:
            self.assertLess(time.monotonic() - t0, RETURN_WAIT_S,
                            "calls did not return to A")
            self.assertEqual(c.get("customers", "py-3"), {"name": b"Ada"})
            calls += 1
            time.sleep(0.02)
        print("# A back: calls return to A after %.0f ms (%d gets, all "
              "answered)" % ((time.monotonic() - t0) * 1000, calls))
        self.assertEqual(c.get("customers", "py-3"), {"name": b"Ada"})

    def test_all_dead(self):
        c = self.both()
        self.kill(self.a)
        self.kill(self.b)
        with self.assertRaises(privd.UnavailableError) as cm:
            c.ping()
        self.assertIn("every endpoint was tried", str(cm.exception))
        with self.assertRaises(privd.UnavailableError):
            c.put("customers", "py-4", {"name": "X"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
