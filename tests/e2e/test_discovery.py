"""
Tuner discovery: SiliconDust's protocol (UDP 65001) and SSDP (UDP 1900), checked with
the real clients (`hdhomerun_config discover`, `gssdp-discover`) and with a small
client here that builds requests byte by byte, including ones that must be ignored.

Where the traffic goes:
- LoopbackDiscovery, SwitchedOff, PortBusy run in the machine's own network namespace
  and send only unicast to 127.0.0.1. Their stations bind discovery to 127.0.0.1 (the
  harness's listen host): the sockets are on 0.0.0.0, as broadcasts need, but answer
  only what was sent to 127.0.0.1, and their SSDP NOTIFYs go to 239.255.255.250
  through lo only, on a random SSDP port rather than 1900. Nothing is broadcast.
  LoopbackDiscovery needs UDP 65001 free, because `hdhomerun_config discover
  127.0.0.1` always asks on 65001.
- NetnsDiscovery makes two network namespaces of its own, rvtest-PID-st and
  rvtest-PID-cl, joined only by a veth pair (10.199.77.1/24 in -st, 10.199.77.2/24 in
  -cl), each with its own lo; neither has any link to the machine's interfaces. The
  station runs in -st bound to 0.0.0.0 (so on lo and the veth); the clients run in
  -cl. Every broadcast (hdhomerun_config's and ours to 255.255.255.255:65001) and
  every multicast (M-SEARCH, NOTIFY ssdp:alive/byebye to 239.255.255.250:1900) stays
  on that veth pair or a namespace's lo. Both namespaces are deleted at the end, after
  killing any process still inside them (all of them started by this test). It needs
  root and `ip netns`; without them it is skipped with the reason printed. As root it
  must run (CI); RETROVUE_E2E_NO_NETNS=1 skips it explicitly.
"""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

DISCOVER_REQ, DISCOVER_RPY, GETSET_REQ = 0x0002, 0x0003, 0x0004
TAG_DEVICE_TYPE, TAG_DEVICE_ID, TAG_TUNER_COUNT = 0x01, 0x02, 0x10
TAG_LINEUP_URL, TAG_BASE_URL, TAG_DEVICE_AUTH, TAG_MULTI_TYPE = 0x27, 0x2A, 0x2B, 0x2D
TYPE_TUNER, TYPE_STORAGE, WILDCARD = 0x00000001, 0x00000005, 0xFFFFFFFF
MEDIA_SERVER = "urn:schemas-upnp-org:device:MediaServer:1"

NS_ST_ADDR, NS_CL_ADDR = "10.199.77.1", "10.199.77.2"


# ---------------------------------------------------------------- a hand-made client

def tlv(tag, value):
    n = len(value)
    length = bytes([n]) if n < 128 else bytes([0x80 | (n & 0x7F), n >> 7])
    return bytes([tag]) + length + value


def frame(ptype, payload, bad_crc=False):
    """type and length (big-endian), payload, then the Ethernet CRC-32 little-endian."""
    body = struct.pack(">HH", ptype, len(payload)) + payload
    crc = zlib.crc32(body) ^ (0xDEADBEEF if bad_crc else 0)
    return body + struct.pack("<I", crc)


def discover_request(device_type=WILDCARD, device_id=WILDCARD, types=None, bad_crc=False):
    if types is not None:
        payload = tlv(TAG_MULTI_TYPE, b"".join(struct.pack(">I", t) for t in types))
    else:
        payload = tlv(TAG_DEVICE_TYPE, struct.pack(">I", device_type))
    if device_id is not None:
        payload += tlv(TAG_DEVICE_ID, struct.pack(">I", device_id))
    return frame(DISCOVER_REQ, payload, bad_crc)


def parse_reply(data):
    """{tag: bytes} of a DISCOVER_RPY; raises when the frame or its CRC is wrong."""
    ptype, n = struct.unpack(">HH", data[:4])
    assert len(data) == n + 8, "frame length %d, payload %d" % (len(data), n)
    assert zlib.crc32(data[:4 + n]) == struct.unpack("<I", data[4 + n:])[0], "bad reply CRC"
    assert ptype == DISCOVER_RPY, "reply type 0x%04x" % ptype
    tags, i = {}, 4
    while i < 4 + n:
        tag, length = data[i], data[i + 1]
        i += 2
        if length & 0x80:
            length = (length & 0x7F) | data[i] << 7
            i += 1
        tags[tag] = data[i:i + length]
        i += length
    return tags


def exchange(packets, addr, port, wait=1.0, bind=("0.0.0.0", 0), broadcast=False):
    """Sends each packet from one socket, then collects every answer for `wait` s."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        if broadcast:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.bind(bind)
        if addr.startswith("239.") and bind[0] != "0.0.0.0":
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(bind[0]))
        for p in packets:
            s.sendto(p, (addr, port))
        out, end = [], time.monotonic() + wait
        while time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                data, src = s.recvfrom(2048)
            except socket.timeout:
                break
            out.append((data, src))
        return out
    finally:
        s.close()


def msearch(st, mx=None):
    lines = ["M-SEARCH * HTTP/1.1", "HOST: 239.255.255.250:1900", 'MAN: "ssdp:discover"',
             "ST: " + st]
    if mx is not None:
        lines.append("MX: %d" % mx)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def ssdp_headers(data):
    lines = data.decode().split("\r\n")
    heads = {}
    for ln in lines[1:]:
        k, sep, v = ln.partition(":")
        if sep:
            heads[k.strip().upper()] = v.strip()
    return lines[0], heads


def free_udp_port():
    return harness.free_port(socket.SOCK_DGRAM, "0.0.0.0")


def udp_port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("0.0.0.0", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def need(program, package):
    path = shutil.which(program)
    if path is None:
        raise AssertionError("%s is not installed (scripts/setup test installs %s)" % (
            program, package))
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def identity(st):
    rows = dict(st.db_query("SELECT key, value FROM station_meta"))
    return rows["device_id"], rows["device_auth"], rows["device_udn"]


def channels():
    return {"1": [harness.fixtures()["a"]]}


# ---------------------------------------------------------------- loopback

class LoopbackDiscovery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not udp_port_free(65001):
            raise AssertionError(
                "UDP port 65001 is in use on this machine (another retrovue, an HDHomeRun "
                "app?); `hdhomerun_config discover 127.0.0.1` only asks on 65001, so this "
                "test needs it free. `ss -ulpn sport = :65001` shows who holds it.")
        cls.ssdp_port = free_udp_port()
        cls.st = harness.Station(channels(), log_level="debug", main={
            "tuner": {"discover": True, "ssdp": True, "discover_port": 65001,
                      "ssdp_port": cls.ssdp_port, "count": 3}})
        try:
            cls.st.start()
            cls.base = "http://127.0.0.1:%d" % cls.st.port
            cls.id_hex, cls.auth, cls.udn = identity(cls.st)
        except BaseException:
            cls.st.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.st.cleanup()

    def ask(self, *packets, wait=0.7):
        return exchange(packets, "127.0.0.1", 65001, wait)

    def test_hdhomerun_config_finds_the_tuner(self):
        prog = need("hdhomerun_config", "hdhomerun-config")
        r = subprocess.run([prog, "discover", "127.0.0.1"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=20)
        out = r.stdout.decode(errors="replace")
        self.assertIn("hdhomerun device %s found at 127.0.0.1" % self.id_hex, out,
                      out + self.st.log_tail())

    def test_reply_carries_id_urls_and_auth(self):
        replies = self.ask(discover_request())
        self.assertEqual(len(replies), 1, replies)
        data, src = replies[0]
        self.assertEqual(src, ("127.0.0.1", 65001))
        tags = parse_reply(data)
        self.assertEqual(struct.unpack(">I", tags[TAG_DEVICE_TYPE])[0], TYPE_TUNER)
        self.assertEqual("%08X" % struct.unpack(">I", tags[TAG_DEVICE_ID])[0], self.id_hex)
        self.assertEqual(tags[TAG_TUNER_COUNT], bytes([3]))
        self.assertEqual(tags[TAG_DEVICE_AUTH].decode(), self.auth)
        self.assertEqual(tags[TAG_BASE_URL].decode(), self.base)
        self.assertEqual(tags[TAG_LINEUP_URL].decode(), self.base + "/lineup.json")
        # The HTTP side names the same device at the same place.
        status, doc = self.st.get_json("/discover.json")
        self.assertEqual(status, 200)
        self.assertEqual((doc["DeviceID"], doc["BaseURL"]), (self.id_hex, self.base))

    def test_answers_its_own_id_and_a_type_list_with_tuner(self):
        ours = int(self.id_hex, 16)
        self.assertEqual(len(self.ask(discover_request(TYPE_TUNER, ours))), 1)
        self.assertEqual(len(self.ask(discover_request(types=[TYPE_STORAGE, TYPE_TUNER],
                                                       device_id=None))), 1)

    def test_ignores_bad_crc_other_devices_and_other_types(self):
        ours = int(self.id_hex, 16)
        other = ours ^ 0x00010000
        ignored = [
            discover_request(bad_crc=True),
            discover_request(TYPE_TUNER, other),
            discover_request(TYPE_STORAGE, WILDCARD),
            frame(GETSET_REQ, tlv(0x03, b"/sys/model\0")),
            discover_request()[:-1],  # cut short
        ]
        # One socket, in order: only the last, good request may be answered.
        replies = self.ask(*ignored, discover_request(), wait=1.0)
        self.assertEqual(len(replies), 1, "expected one answer (to the good request), got %d\n%s"
                         % (len(replies), self.st.log_tail(20)))
        self.assertEqual(replies[0][0], self.ask(discover_request())[0][0])

    def test_ssdp_unicast_search(self):
        def search(target):
            return [ssdp_headers(d) for d, _ in exchange([msearch(target)], "127.0.0.1",
                                                         self.ssdp_port, 0.7)]

        got = search("ssdp:all")
        self.assertEqual(sorted(h["ST"] for _, h in got),
                         sorted(["upnp:rootdevice", self.udn, MEDIA_SERVER]))
        for first, h in got:
            self.assertEqual(first, "HTTP/1.1 200 OK")
            self.assertEqual(h["LOCATION"], self.base + "/device.xml")
            self.assertEqual(h["CACHE-CONTROL"], "max-age=1800")
            self.assertIn("EXT", h)
            self.assertIn("UPnP/1.0", h["SERVER"])
            usn = self.udn if h["ST"] == self.udn else self.udn + "::" + h["ST"]
            self.assertEqual(h["USN"], usn)
        for target in ("upnp:rootdevice", self.udn, MEDIA_SERVER):
            self.assertEqual([h["ST"] for _, h in search(target)], [target])
        self.assertEqual(search("urn:schemas-upnp-org:device:Printer:1"), [])
        status, _, body = self.st.get("/device.xml")
        self.assertEqual(status, 200)
        self.assertIn("<UDN>%s</UDN>" % self.udn, body.decode())


# ---------------------------------------------------------------- switched off, port busy

class SwitchedOff(unittest.TestCase):
    def test_nothing_answers(self):
        dport, sport = free_udp_port(), free_udp_port()
        st = harness.Station(channels(), main={"tuner": {
            "discover": False, "ssdp": False, "discover_port": dport, "ssdp_port": sport}})
        try:
            st.start()
            self.assertEqual(exchange([discover_request()], "127.0.0.1", dport, 0.5), [])
            self.assertEqual(exchange([msearch("ssdp:all")], "127.0.0.1", sport, 0.5), [])
            self.assertTrue(udp_port_free(dport) and udp_port_free(sport),
                            "the station holds a discovery port while switched off")
            self.assertNotIn("answering discovery", st.log())
            self.assertEqual(st.stop(), 0)
        finally:
            st.cleanup()


class PortBusy(unittest.TestCase):
    def test_station_runs_without_the_responders(self):
        holders = []
        for _ in range(2):  # held without SO_REUSEADDR, as a daemon that will not share
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            holders.append(s)
        dport, sport = (s.getsockname()[1] for s in holders)
        st = harness.Station(channels(), main={"tuner": {
            "discover": True, "ssdp": True, "discover_port": dport, "ssdp_port": sport}})
        try:
            st.start()
            status, doc = st.get_json("/discover.json")
            self.assertEqual(status, 200, doc)
            log = st.log()
            self.assertIn("unable to answer HDHomeRun discovery on UDP port %d" % dport, log)
            self.assertIn("unable to answer SSDP on UDP port %d" % sport, log)
            self.assertIn('"discover": false', log)
            self.assertIsNone(st.proc.poll())
            # The ports are freed: a SIGHUP, even without a change, retries them.
            for s in holders:
                s.close()
            st.signal(signal.SIGHUP)
            self.assertTrue(st.wait_log("answering discovery", 10), st.log_tail())
            replies = exchange([discover_request()], "127.0.0.1", dport, 1.0)
            self.assertEqual(len(replies), 1, replies)
            self.assertTrue(exchange([msearch("ssdp:all")], "127.0.0.1", sport, 1.5))
            self.assertEqual(st.stop(), 0)
        finally:
            st.cleanup()
            for s in holders:
                s.close()


class BindMismatch(unittest.TestCase):
    def test_warns_when_http_is_not_where_discovery_answers(self):
        """HTTP on 127.0.0.1 only, discovery on every address: found but unreachable,
        which the log says, with the settings that fix it."""
        dport, sport = free_udp_port(), free_udp_port()
        st = harness.Station(channels(), main={"tuner": {
            "discover": True, "ssdp": False, "bind": "0.0.0.0", "discover_port": dport,
            "ssdp_port": sport}})
        try:
            st.start()
            self.assertIn("tuner: discovery answers on 0.0.0.0 but HTTP listens only on "
                          "127.0.0.1", st.log())
            self.assertIn('"bind": "127.0.0.1"', st.log())
            self.assertEqual(st.stop(), 0)
        finally:
            st.cleanup()


# ---------------------------------------------------------------- network namespaces

def netns_unavailable():
    """Why the namespace test cannot run here, or None."""
    if os.environ.get("RETROVUE_E2E_NO_NETNS"):
        return "RETROVUE_E2E_NO_NETNS is set"
    if os.geteuid() != 0:
        return "not running as root (ip netns needs it)"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    return None


def sh(*cmd, timeout=10):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(cmd), r.returncode,
                                                      r.stdout.decode(errors="replace")))
    return r.stdout.decode(errors="replace")


class NetnsDiscovery(unittest.TestCase):
    """Makes the namespaces and runs NetnsInner inside the station's one."""

    def test_broadcast_and_multicast_discovery(self):
        why = netns_unavailable()
        if why:
            print("\nskipping the network-namespace discovery test: " + why, file=sys.stderr)
            self.skipTest(why)
        harness.fixtures()  # made out here, so the inner run's time goes to the test
        st_ns, cl_ns = "rvtest-%d-st" % os.getpid(), "rvtest-%d-cl" % os.getpid()
        made = []
        inner = None
        try:
            for ns in (st_ns, cl_ns):
                sh("ip", "netns", "add", ns)
                made.append(ns)
                sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", st_ns, "link", "add", "rvst0", "type", "veth", "peer", "name", "rvcl0",
               "netns", cl_ns)
            for ns, dev, addr in ((st_ns, "rvst0", NS_ST_ADDR), (cl_ns, "rvcl0", NS_CL_ADDR)):
                sh("ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev)
                sh("ip", "-n", ns, "link", "set", dev, "up")
            env = dict(os.environ, RETROVUE_E2E_CLIENT_NS=cl_ns)
            inner = subprocess.Popen(
                ["ip", "netns", "exec", st_ns, sys.executable, os.path.abspath(__file__), "-v",
                 "NetnsInner"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            try:
                out, _ = inner.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                inner.send_signal(signal.SIGTERM)  # NetnsInner stops its station on SIGTERM
                out, _ = inner.communicate(timeout=15)
            text = out.decode(errors="replace")
            sys.stderr.write(text)
            self.assertEqual(inner.returncode, 0, "the test inside the namespace failed")
            self.assertIn("OK", text)
            self.assertNotIn("skipped", text)
        finally:
            if inner is not None and inner.poll() is None:
                inner.kill()
                inner.wait()
            for ns in made:
                self.kill_inside(ns)
                subprocess.run(["ip", "netns", "del", ns])

    @staticmethod
    def kill_inside(ns):
        """Every process in a namespace this test made was started by this test."""
        r = subprocess.run(["ip", "netns", "pids", ns], stdout=subprocess.PIPE, text=True)
        for pid in r.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass


# Listens for SSDP NOTIFYs on the client side of the veth and writes each to a file.
LISTENER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 1900))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton("239.255.255.250") + socket.inet_aton(sys.argv[1]))
with open(sys.argv[2], "ab", buffering=0) as f:
    f.write(b"READY\n")
    while True:
        data, src = s.recvfrom(4096)
        f.write(("FROM %s:%d\n" % src).encode() + data + b"\n----\n")
"""

def probe(kind, addr, bind_addr):
    """What a client at bind_addr hears back from addr: [[source ip, base URL]] for a
    discover request ("hdhr"), [[source ip, LOCATION]] for an M-SEARCH ("ssdp", or
    "ssdp-bigmx" with an MX far beyond any integer type)."""
    if kind == "hdhr":
        replies = exchange([discover_request()], addr, 65001, 1.0, bind=(bind_addr, 0),
                           broadcast=True)
        return [[src[0], parse_reply(d)[TAG_BASE_URL].decode()] for d, src in replies]
    mx = 10 ** 20 if kind == "ssdp-bigmx" else 1
    replies = exchange([msearch("ssdp:all", mx)], addr, 1900, 1.5, bind=(bind_addr, 0))
    return [[src[0], ssdp_headers(d)[1]["LOCATION"]] for d, src in replies]


# Runs probe() in the client namespace.
CLIENT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import test_discovery as t
print(json.dumps(t.probe(*sys.argv[2:])))
"""


@unittest.skipUnless(os.environ.get("RETROVUE_E2E_CLIENT_NS"), "runs inside NetnsDiscovery")
class NetnsInner(unittest.TestCase):
    def test_inside(self):
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))  # so cleanup still runs
        cl = os.environ["RETROVUE_E2E_CLIENT_NS"]
        self.in_cl = ["ip", "netns", "exec", cl]
        st = harness.Station(channels(), log_level="debug",
                             main={"tuner": {"bind": "0.0.0.0"}})
        st.extra_args = ["--listen", "0.0.0.0:%d" % st.port]  # the last --listen wins
        notes = os.path.join(st.tmp, "notify.txt")
        listener = subprocess.Popen(self.in_cl + [sys.executable, "-c", LISTENER, NS_CL_ADDR,
                                                  notes])
        try:
            self.assertTrue(harness.wait_until(lambda: os.path.exists(notes), 5), "no listener")
            st.start()
            self.st = st
            self.base = "http://%s:%d" % (NS_ST_ADDR, st.port)
            self.id_hex, _, self.udn = identity(st)
            self.check_alive(notes)
            self.check_gssdp()
            self.check_hdhomerun_config()
            self.check_our_clients()
            self.check_location_from_client()
            self.check_rebind_to_loopback(notes)
            heard = len(read(notes))
            self.assertEqual(st.stop(), 0)
            time.sleep(0.5)
            self.assertEqual(read(notes)[heard:], b"",
                             "bound to 127.0.0.1, the station's byebye still reached the veth")
            self.assertNotIn("tuner: unable", st.log())
        finally:
            listener.kill()
            listener.wait()
            st.cleanup()

    def client(self, kind, addr):
        r = subprocess.run(self.in_cl + [sys.executable, "-c", CLIENT, HERE, kind, addr,
                                         NS_CL_ADDR], stdout=subprocess.PIPE, timeout=20)
        return json.loads(r.stdout)

    def check_alive(self, notes):
        want = ("LOCATION: %s/device.xml" % self.base).encode()
        got = harness.wait_until(lambda: want in read(notes), 5)
        self.assertTrue(got, "no ssdp:alive with %r reached the client namespace:\n%s" % (
            want, read(notes).decode(errors="replace")))
        self.assertIn(b"NTS: ssdp:alive", read(notes))

    def check_gssdp(self):
        prog = need("gssdp-discover", "gupnp-tools")
        r = subprocess.run(self.in_cl + [prog, "-i", "rvcl0", "-t", MEDIA_SERVER, "-n", "3"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        out = r.stdout.decode(errors="replace")
        sys.stderr.write("\n-- gssdp-discover in %s:\n%s" % (self.in_cl[3], out))
        self.assertIn(self.udn + "::" + MEDIA_SERVER, out, out)
        self.assertIn(self.base + "/device.xml", out, out)

    def check_hdhomerun_config(self):
        prog = need("hdhomerun_config", "hdhomerun-config")
        r = subprocess.run(self.in_cl + [prog, "discover"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=20)
        out = r.stdout.decode(errors="replace")
        sys.stderr.write("-- hdhomerun_config discover in %s:\n%s" % (self.in_cl[3], out))
        self.assertIn("hdhomerun device %s found at %s" % (self.id_hex, NS_ST_ADDR), out, out)

    def check_our_clients(self):
        # From the other namespace the veth address is the base URL...
        self.assertEqual(self.client("hdhr", "255.255.255.255"), [[NS_ST_ADDR, self.base]])
        location = self.base + "/device.xml"
        self.assertEqual(self.client("ssdp", "239.255.255.250"), [[NS_ST_ADDR, location]] * 3)
        self.assertEqual(self.client("ssdp-bigmx", "239.255.255.250"),
                         [[NS_ST_ADDR, location]] * 3)
        # ...and from inside the station's namespace, 127.0.0.1 is: bound to 0.0.0.0,
        # the station names the address each request reached.
        self.assertEqual(probe("hdhr", "127.0.0.1", "127.0.0.1"),
                         [["127.0.0.1", "http://127.0.0.1:%d" % self.st.port]])

    def check_location_from_client(self):
        code = ("import urllib.request, sys; "
                "print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())")
        r = subprocess.run(self.in_cl + [sys.executable, "-c", code, self.base + "/device.xml"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        self.assertIn("<UDN>%s</UDN>" % self.udn, r.stdout.decode(errors="replace"))

    def check_rebind_to_loopback(self, notes):
        """SIGHUP with "bind": "127.0.0.1": the responders restart (byebye on the veth)
        and from then on answer only what reaches 127.0.0.1."""
        self.st.main["tuner"] = {"bind": "127.0.0.1"}
        self.st._write_main()
        self.st.signal(signal.SIGHUP)
        self.assertTrue(self.st.wait_log("configuration reloaded", 10), self.st.log_tail())
        self.assertTrue(harness.wait_until(lambda: b"NTS: ssdp:byebye" in read(notes), 3),
                        "no ssdp:byebye reached the client namespace on the rebind")
        self.assertEqual(self.client("hdhr", "255.255.255.255"), [])
        self.assertEqual(self.client("hdhr", NS_ST_ADDR), [])
        self.assertEqual(self.client("ssdp", "239.255.255.250"), [])
        self.assertEqual(probe("hdhr", "127.0.0.1", "127.0.0.1"),
                         [["127.0.0.1", "http://127.0.0.1:%d" % self.st.port]])


def load_tests(loader, tests, pattern):
    """NetnsInner only runs when NetnsDiscovery starts it inside the namespace."""
    if os.environ.get("RETROVUE_E2E_CLIENT_NS"):
        return tests
    suite = unittest.TestSuite()
    for case in (LoopbackDiscovery, SwitchedOff, PortBusy, NetnsDiscovery):
        suite.addTests(loader.loadTestsFromTestCase(case))
    return suite


if __name__ == "__main__":
    unittest.main(verbosity=2)
