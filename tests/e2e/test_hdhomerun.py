"""
The station as Plex and other HDHomeRun clients see it, over real HTTP on loopback:
Plex's own request sequence (discover -> lineup_status -> lineup -> each lineup URL),
the scan endpoints, the UPnP device description, the tuner limit with the answer a
real tuner gives, DeviceID stability across restarts, the M3U playlist and logos; and
the station asking Plex to reload its guide, against a small HTTP server on loopback
that answers like Plex from a recorded-style DVR list (no Plex server runs here).
"""

import http.server
import json
import os
import signal
import sys
import threading
import time
import unittest
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

LUT = [0xA, 0x5, 0xF, 0x6, 0x7, 0xC, 0x1, 0xB, 0x9, 0x2, 0x8, 0xD, 0x4, 0x3, 0xE, 0x0]


def device_id_valid(hex_id):
    """libhdhomerun's check: alternate nibbles through a table, all XOR to zero."""
    v = int(hex_id, 16)
    c = 0
    for i, shift in enumerate(range(28, -4, -4)):
        n = (v >> shift) & 0xF
        c ^= LUT[n] if i % 2 == 0 else n
    return c == 0


class HDHomeRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        f = harness.fixtures()
        cls.st = harness.Station({
            "2": {"name": "Two & <Co>", "playlist": [f["a"], f["b"]]},
            "3": {"name": "Three", "playlist": [f["b"], f["c"]]},
            "5.1": {"name": "Five One", "playlist": [f["c"], f["a"]]},
        }, main={"tuner": {"count": 3, "friendly_name": "Test Tuner", "discover": False,
                           "ssdp": False}})
        # A logo for channel 3: any small file with a .png name will do for serving.
        cls.logo = os.path.join(cls.st.tmp, "logo3.png")
        with open(cls.logo, "wb") as fh:
            fh.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
        with open(cls.st.channel_file("3")) as fh:
            doc = json.load(fh)
        doc["logo"] = cls.logo
        with open(cls.st.channel_file("3"), "w") as fh:
            json.dump(doc, fh)
        try:
            cls.st.start()
            for n in ("2", "3", "5.1"):
                cls.st.wait_playlist(n, min_segments=2, timeout=30)
        except BaseException:
            cls.st.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()
        cls.st.check_sanitizers()
        cls.st.cleanup()

    def base(self):
        return "http://127.0.0.1:%d" % self.st.port

    def test_plex_sequence(self):
        """discover -> lineup_status -> lineup -> 10 s of valid MPEG-TS from each URL."""
        status, disc = self.st.get_json("/discover.json")
        self.assertEqual(status, 200)
        for key in ("FriendlyName", "Manufacturer", "ModelNumber", "FirmwareName",
                    "FirmwareVersion", "DeviceID", "DeviceAuth", "BaseURL", "LineupURL",
                    "TunerCount"):
            self.assertIn(key, disc)
        self.assertEqual(disc["FriendlyName"], "Test Tuner")
        self.assertEqual(disc["TunerCount"], 3)
        self.assertRegex(disc["DeviceID"], r"^[0-9A-F]{8}$")
        self.assertTrue(device_id_valid(disc["DeviceID"]), disc["DeviceID"])
        self.assertEqual(disc["BaseURL"], self.base())
        self.assertEqual(disc["LineupURL"], self.base() + "/lineup.json")

        status, ls = self.st.get_json("/lineup_status.json")
        self.assertEqual(status, 200)
        self.assertEqual(ls["ScanInProgress"], 0)
        self.assertEqual(ls["ScanPossible"], 1)
        self.assertIn(ls["Source"], ls["SourceList"])

        status, _, body = self.st.get(urllib.parse.urlparse(disc["LineupURL"]).path)
        self.assertEqual(status, 200)
        lineup = json.loads(body)
        self.assertEqual([c["GuideNumber"] for c in lineup], ["2", "3", "5.1"])
        self.assertEqual(lineup[0]["GuideName"], "Two & <Co>")
        for c in lineup:
            self.assertIsInstance(c["GuideNumber"], str)
            self.assertEqual(c["VideoCodec"], "H264")
            self.assertEqual(c["AudioCodec"], "AAC")
            self.assertNotIn("HD", c)  # the test house format is SD
            self.assertNotIn("?", c["URL"])  # Plex appends its own query
            self.assertEqual(c["URL"], self.base() + "/auto/v" + c["GuideNumber"])
        status, _, body = self.st.get("/lineup.json?show=found")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), lineup)

        # Every channel at once (three tuners): 10 s each, as Plex does when scanning.
        results = {}

        def watch(c):
            path = urllib.parse.urlparse(c["URL"]).path + "?transcode=native"
            results[c["GuideNumber"]] = harness.read_stream(self.st.port, path, 10)

        threads = [threading.Thread(target=watch, args=(c,)) for c in lineup]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for c in lineup:
            status, headers, ttfb, data = results[c["GuideNumber"]]
            self.assertEqual(status, 200, c)
            self.assertEqual(headers["content-type"], "video/mp2t")
            streams = harness.ts_check(data)
            self.assertEqual(sorted(streams.values()),
                             sorted([harness.STREAM_TYPE_H264, harness.STREAM_TYPE_AAC]))
            _, probe = harness.ffprobe_streams(data)
            self.assertEqual(sorted(s["codec_name"] for s in probe), ["aac", "h264"])
            self.assertEqual(harness.decode_check(data)[0], 0)
            print("channel %s: first byte after %.1f ms, %d bytes in 10 s"
                  % (c["GuideNumber"], ttfb * 1000, len(data)))
            self.assertLess(ttfb, 1.0)
            self.assertGreater(len(data), 100 * 1024)

    def test_scan_endpoints(self):
        for action in ("start", "abort"):
            status, _, body = self.st.get("/lineup.post?scan=" + action, method="POST")
            self.assertEqual(status, 200, body)
            _, ls = self.st.get_json("/lineup_status.json")
            self.assertEqual(ls["ScanInProgress"], 0)
        status, _, body = self.st.get("/lineup.post?scan=sideways", method="POST")
        self.assertEqual(status, 400)
        self.assertIn("scan=start", json.loads(body)["error"])
        status, headers, body = self.st.get("/lineup.json", method="DELETE")
        self.assertEqual(status, 405)
        self.assertEqual(json.loads(body)["status"], 405)

    def test_device_xml(self):
        status, headers, body = self.st.get("/device.xml")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/xml"))
        ns = {"u": "urn:schemas-upnp-org:device-1-0"}
        root = ET.fromstring(body)
        # Plex rejects URLBase nested inside <device>: it must be a child of <root>.
        self.assertEqual(root.find("u:URLBase", ns).text, self.base())
        self.assertIsNone(root.find("u:device/u:URLBase", ns))
        dev = root.find("u:device", ns)
        self.assertEqual(dev.find("u:deviceType", ns).text,
                         "urn:schemas-upnp-org:device:MediaServer:1")
        self.assertEqual(dev.find("u:friendlyName", ns).text, "Test Tuner")
        _, disc = self.st.get_json("/discover.json")
        self.assertEqual(dev.find("u:serialNumber", ns).text, disc["DeviceID"])
        self.assertRegex(dev.find("u:UDN", ns).text, r"^uuid:[0-9a-f-]{36}$")

    def test_tuner_limit(self):
        """The (TunerCount+1)-th stream gets 503 with HDHomeRun's error; a viewer who
        leaves frees the tuner at once."""
        import socket
        socks = []
        try:
            for n in ("2", "3", "5.1"):
                s = socket.create_connection(("127.0.0.1", self.st.port), timeout=5)
                s.sendall(("GET /auto/v%s HTTP/1.1\r\nHost: x\r\n\r\n" % n).encode())
                head = s.recv(4096)
                self.assertIn(b" 200 ", head.split(b"\r\n")[0])
                socks.append(s)
            status, headers, body = self.st.get("/auto/v2")
            self.assertEqual(status, 503)
            self.assertEqual(headers.get("x-hdhomerun-error"), "805 All Tuners In Use")
            self.assertIn("tuners", json.loads(body)["error"])
            # HEAD asks nothing of a tuner.
            status, _, _ = self.st.get("/auto/v2", method="HEAD")
            self.assertEqual(status, 200)
            socks.pop().close()
            t0 = time.monotonic()
            while True:
                with socket.create_connection(("127.0.0.1", self.st.port), timeout=5) as s:
                    s.sendall(b"GET /channel/3.ts HTTP/1.1\r\nHost: x\r\n\r\n")
                    if b" 200 " in s.recv(4096).split(b"\r\n")[0]:
                        break
                self.assertLess(time.monotonic() - t0, 0.5, "the tuner was not freed at once")
                time.sleep(0.005)
            print("tuner freed %.1f ms after the viewer left" % ((time.monotonic() - t0) * 1000))
        finally:
            for s in socks:
                s.close()

    def test_m3u(self):
        status, headers, body = self.st.get("/iptv.m3u")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("audio/x-mpegurl"))
        lines = body.decode().splitlines()
        self.assertEqual(lines[0], '#EXTM3U url-tvg="%s/xmltv.xml" x-tvg-url="%s/xmltv.xml"'
                         % (self.base(), self.base()))
        entries = [(lines[i], lines[i + 1]) for i in range(1, len(lines), 2)]
        self.assertEqual(len(entries), 3)
        extinf, url = entries[1]
        self.assertTrue(extinf.startswith("#EXTINF:-1 "))
        for attr in ('tvg-id="retrovue.3"', 'tvg-name="Three"', 'tvg-chno="3"',
                     'channel-number="3"', 'group-title="Test Tuner"',
                     'tvg-logo="%s/logos/3"' % self.base()):
            self.assertIn(attr, extinf)
        self.assertTrue(extinf.endswith(",Three"))
        self.assertEqual(url, self.base() + "/channel/3.ts")
        self.assertNotIn("tvg-logo", entries[0][0])  # channel 2 has no logo
        status, _, body = self.st.get("/iptv.m3u?format=hls")
        self.assertEqual(body.decode().splitlines()[4], self.base() + "/channel/3.m3u8")
        status, _, body = self.st.get("/iptv.m3u?format=dash")
        self.assertEqual(status, 400)
        # The stream URL plays.
        status, _, _, data = harness.read_stream(self.st.port, "/channel/3.ts", 2)
        self.assertEqual(status, 200)
        harness.ts_check(data)

    def test_logo(self):
        status, headers, body = self.st.get("/logos/3")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "image/png")
        with open(self.logo, "rb") as fh:
            self.assertEqual(body, fh.read())
        status, _, body = self.st.get("/logos/2")
        self.assertEqual(status, 404)
        self.assertIn("no logo", json.loads(body)["error"])

    def test_host_header_and_base_url(self):
        """Links follow the Host the client used (Plex on another machine must get an
        address it can reach)."""
        status, body = self.st.raw_request(
            b"GET /discover.json HTTP/1.1\r\nHost: 192.0.2.7:8080\r\nConnection: close\r\n\r\n")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["BaseURL"], "http://192.0.2.7:8080")
        # A Host with characters no host has is not echoed.
        status, body = self.st.raw_request(
            b"GET /discover.json HTTP/1.1\r\nHost: a\"b<c>\r\nConnection: close\r\n\r\n")
        self.assertEqual(json.loads(body)["BaseURL"], self.base())


class Identity(unittest.TestCase):
    def test_device_id_stable_and_base_url(self):
        """DeviceID, DeviceAuth and UDN survive restarts (Plex keys its DVR on them);
        a configured base_url wins over the Host header."""
        f = harness.fixtures()
        st = harness.Station({"1": [f["a"]]}, main={
            "server": {"base_url": "http://tv.example.net:8080/"}})
        try:
            seen = []
            for _ in range(2):
                st.start()
                _, disc = st.get_json("/discover.json")
                _, _, xml = st.get("/device.xml")
                udn = ET.fromstring(xml).find(
                    "{urn:schemas-upnp-org:device-1-0}device/{urn:schemas-upnp-org:device-1-0}UDN").text
                seen.append((disc["DeviceID"], disc["DeviceAuth"], udn))
                self.assertEqual(disc["BaseURL"], "http://tv.example.net:8080")
                _, _, body = st.get("/lineup.json")
                self.assertEqual(json.loads(body)[0]["URL"], "http://tv.example.net:8080/auto/v1")
                st.stop()
            self.assertEqual(seen[0], seen[1])
            self.assertTrue(device_id_valid(seen[0][0]))
            st.check_sanitizers()
        finally:
            st.cleanup()


PLEX_TOKEN = "e2e-plex-token-4567"


class FakePlex(http.server.BaseHTTPRequestHandler):
    """Plex's Live TV endpoints: the DVR list (tests/fixtures/plex/livetv-dvrs.json,
    with the station's DeviceID where Plex would have it) and reloadGuide. Like
    Plex, it knows the tuner from the tuner's own /discover.json."""

    station_port = None
    requests = []  # (method, path, token)
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def _token_ok(self):
        token = self.headers.get("X-Plex-Token")
        with self.lock:
            FakePlex.requests.append((self.command, self.path, token))
        if token == PLEX_TOKEN:
            return True
        body = b"<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>"
        self.send_response(401)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return False

    def do_GET(self):
        if not self._token_ok():
            return
        if self.path != "/livetv/dvrs" or "json" not in self.headers.get("Accept", ""):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with urllib.request.urlopen("http://127.0.0.1:%d/discover.json" % self.station_port,
                                    timeout=5) as r:
            device_id = json.load(r)["DeviceID"]
        with open(os.path.join(harness.SOURCE_DIR, "tests", "fixtures", "plex",
                               "livetv-dvrs.json")) as f:
            body = f.read().replace("@DEVICE_ID@", device_id)
        body = body.replace("@device_id@", device_id.lower()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if not self._token_ok():
            return
        ok = self.path in ("/livetv/dvrs/16/reloadGuide", "/livetv/dvrs/22/reloadGuide",
                           "/livetv/dvrs/9/reloadGuide")
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()


class PlexGuideReload(unittest.TestCase):
    def test_reload_guide(self):
        """At start and after a reload, the station asks exactly the Plex DVRs that use
        this tuner (16 and 22, not 9, which is another HDHomeRun) to reload the guide,
        once per burst of changes; a refused token or a Plex that is down is logged
        once, and the station stays on the air."""
        plex = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakePlex)
        threading.Thread(target=plex.serve_forever, daemon=True).start()
        f = harness.fixtures()
        plex_conf = {"url": "http://127.0.0.1:%d" % plex.server_address[1], "token": PLEX_TOKEN,
                     "ingest": False, "reload_guide_delay": 2}
        st = harness.Station({"1": [f["a"], f["b"]]}, main={"plex": plex_conf})
        FakePlex.station_port = st.port
        FakePlex.requests = []

        def calls():
            with FakePlex.lock:
                return [(m, p) for m, p, _ in FakePlex.requests]

        def wait_calls(n, timeout=10):
            harness.wait_until(lambda: len(calls()) >= n, timeout, 0.1)
            time.sleep(0.5)  # nothing more should follow
            return calls()

        def reload_with(conf):
            with open(os.path.join(st.config_dir, "retrovue.json")) as fh:
                doc = json.load(fh)
            doc["plex"] = conf
            with open(os.path.join(st.config_dir, "retrovue.json"), "w") as fh:
                json.dump(doc, fh)
            mark = st.log().count("configuration reloaded")
            st.signal(signal.SIGHUP)
            harness.wait_until(lambda: st.log().count("configuration reloaded") > mark, 15, 0.1)

        try:
            st.start()
            # Ingest is off: Plex is asked about Live TV only, never its libraries.
            want = [("GET", "/livetv/dvrs"), ("POST", "/livetv/dvrs/16/reloadGuide"),
                    ("POST", "/livetv/dvrs/22/reloadGuide")]
            self.assertEqual(wait_calls(3), want)
            self.assertTrue(all(t == PLEX_TOKEN for _, _, t in FakePlex.requests))
            self.assertTrue(st.wait_log("plex: Plex DVR 16, 22 reloading the guide (station started)", 5),
                            st.log_tail())

            # Three quick reloads (0.3 s, well inside the 2 s delay; one that comes while
            # another is being applied is refused, which changes nothing here) make one
            # request to Plex, after the delay.
            FakePlex.requests = []
            for _ in range(3):
                st.signal(signal.SIGHUP)
                time.sleep(0.15)
            harness.wait_until(lambda: st.log().count("configuration reloaded") >= 1, 15, 0.1)
            self.assertEqual(wait_calls(3, timeout=15), want)

            # A media root appears: after its ingest, Plex is asked again (new titles).
            media = os.path.join(st.tmp, "media-root")
            os.makedirs(media)
            with open(os.path.join(st.config_dir, "retrovue.json")) as fh:
                doc = json.load(fh)
            doc["media"] = [{"path": media, "holds": "episodes"}]
            doc["conform"] = {"jobs": 0}
            with open(os.path.join(st.config_dir, "retrovue.json"), "w") as fh:
                json.dump(doc, fh)
            st.signal(signal.SIGHUP)
            self.assertTrue(st.wait_log("reloading the guide (library ingested)", 15),
                            st.log_tail())
            time.sleep(2.5)  # a round still due (the reload's own) passes before the next part

            # A wrong token: one warning naming the cause, whatever the number of tries.
            FakePlex.requests = []
            reload_with(dict(plex_conf, token="wrong-token"))
            wait_calls(1)
            reload_with(dict(plex_conf, token="wrong-token", reload_guide_delay=0))
            wait_calls(2)
            self.assertEqual(calls(), [("GET", "/livetv/dvrs")] * 2)
            self.assertEqual(st.log().count("Plex refused the token (401"), 1, st.log_tail())

            # Plex gone: a warning, and the channel keeps airing.
            plex.shutdown()
            plex.server_close()
            reload_with(dict(plex_conf, reload_guide_delay=0))
            self.assertTrue(st.wait_log("plex: listing Plex's DVRs: unable to connect to "
                                        "127.0.0.1:%d: Connection refused" % plex.server_address[1],
                                        10), st.log_tail())

            # Switched off: nothing is sent.
            FakePlex.requests = []
            reload_with(dict(plex_conf, reload_guide=False, reload_guide_delay=0))
            time.sleep(1.5)
            self.assertEqual(calls(), [])
            status, health = st.get_json("/healthz")
            self.assertEqual(status, 200, health)
            st.stop()
            st.check_sanitizers()
        finally:
            st.cleanup()
            plex.server_close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
