"""
The XMLTV guide at /xmltv.xml on a real station: the example schedule channels
(examples/schedule, its library pointed at the test clips under the demo's file
names), a long-horizon off-air channel, and two playlist channels, one of them named
with & and < in it. Under a warped clock (20x):

- the guide passes tv_validate_file, names its channels the way lineups match them,
  and covers at least three days;
- it never lies: at several instants the programme on air in the guide is
  /api/channels[].program, and the item actually airing (the fine log, or the
  playlist's item) lies inside it;
- a schedule edit (JSON + SIGHUP) changes the guide with it;
- a client that hangs up after 1 KB of a guide larger than the socket buffers (a
  horizon raised to 40 days) does not hurt the server, which goes on serving it.
"""

import datetime
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

RATE = 20
CLOCK_START = "2026-11-24T10:50:00Z"  # a Tuesday, 05:50 in New York: channel 4 signs on at 06:00
DTD = "/usr/share/xmltv/xmltv.dtd"
WEIRD_NAME = "Tom & Jerry's <Retro>"
LONG_DAYS = 4   # channel 6's horizon: the playlists follow the longest one
HUGE_DAYS = 40  # ... raised, so the guide outgrows the kernel's socket buffers (4 MiB)

# The demo library's file names (examples/schedule's globs), played by the test clips.
DEMO_FILES = {
    "shows/nebula-patrol-s01e01.ts": "a", "shows/nebula-patrol-s01e02.ts": "b",
    "shows/retro-racers-s01e01.ts": "c", "shows/retro-racers-s01e02.ts": "a",
    "shows/cooking-with-carol-s01e01.ts": "b", "shows/cooking-with-carol-s01e02.ts": "c",
    "movies/space-movie.ts": "a", "ads/zap-cola-30.ts": "b", "ads/glow-gum-15.ts": "c",
    "bumpers/right-back.ts": "a", "bumpers/back-to-show.ts": "b",
    "bumpers/coming-up-next.ts": "c", "ids/retrovue-id.ts": "a", "filler/color-bars.ts": "b",
}


def xmltv_time(s):
    return int(datetime.datetime.strptime(s, "%Y%m%d%H%M%S %z").timestamp())


def whole(t):
    """Seconds as the guide writes them (milliseconds first, then down to the second)."""
    return math.floor(round(t * 1000) / 1000)


def parse_guide(body):
    """(root, {channel id: [programme dicts in order]})"""
    root = ET.fromstring(body)
    progs = {}
    for p in root.iter("programme"):
        progs.setdefault(p.get("channel"), []).append({
            "start": xmltv_time(p.get("start")), "stop": xmltv_time(p.get("stop")),
            "title": p.findtext("title"), "elem": p})
    return root, progs


def covering(progs, t):
    for p in progs:
        if p["start"] <= t < p["stop"]:
            return p
    return None


class Guide(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        f = harness.fixtures()
        cls.st = st = harness.Station({}, log_level="debug")
        try:
            cls._configure(st, f)
            st.extra_args = ["--clock-start", CLOCK_START, "--clock-rate", str(RATE)]
            st.start()
            cls.ready = harness.wait_until(cls._all_on, 60, 0.25)
        except BaseException:
            st.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()
        cls.st.cleanup()

    @classmethod
    def _configure(cls, st, f):
        demo = os.path.join(st.tmp, "demo", "media")  # config/../demo/media, as in examples/
        for rel, clip in DEMO_FILES.items():
            os.makedirs(os.path.dirname(os.path.join(demo, rel)), exist_ok=True)
            os.symlink(f[clip], os.path.join(demo, rel))
        # A 6-minute show, made by copying a clip 36 times (no encoding).
        os.makedirs(st.media_dir, exist_ok=True)
        listing = os.path.join(st.media_dir, "concat.txt")
        with open(listing, "w") as fp:
            fp.write("".join("file '%s'\n" % f["a"] for _ in range(36)))
        cls.long_show = os.path.join(st.media_dir, "space-show-s02e05-the-last-orbit.ts")
        subprocess.run([harness.FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error",
                        "-f", "concat", "-safe", "0", "-i", listing, "-c", "copy",
                        "-f", "mpegts", cls.long_show], check=True)
        examples = os.path.join(harness.SOURCE_DIR, "examples", "schedule")
        main = os.path.join(st.config_dir, "retrovue.json")
        with open(main) as fp:
            server = json.load(fp)["server"]
        with open(os.path.join(examples, "retrovue.json")) as fp:
            doc = json.load(fp)
        doc["server"] = server
        doc["library"]["pools"]["long-pattern"] = [cls.long_show]
        with open(main, "w") as fp:
            json.dump(doc, fp, indent=2)
        for n in ("4", "5"):
            shutil.copyfile(os.path.join(examples, "channels", "%s.json" % n), st.channel_file(n))
        with open(st.channel_file("6"), "w") as fp:
            json.dump({"number": "6", "name": "Night Owl", "mode": "copy",
                       "schedule": {"days_ahead": LONG_DAYS, "breaks": {"filler": "filler"},
                                    "blocks": [{"days": "daily", "start": "00:00", "end": "24:00",
                                                "off_air": {"pattern": "long-pattern"}}]}}, fp)
        st.write_channel("1", {"name": WEIRD_NAME, "mode": "copy",
                               "playlist": [f["a"], f["b"], f["c"]]})
        doc = st.write_channel("2", {"name": "Space Two", "mode": "copy",
                                     "playlist": [cls.long_show, f["b"], f["c"]]})
        doc["logo"] = "logos/two.png"  # a missing logo file is only a warning
        with open(st.channel_file("2"), "w") as fp:
            json.dump(doc, fp, indent=2)

    @classmethod
    def _all_on(cls):
        try:
            status, chans = cls.st.get_json("/api/channels")
        except OSError:
            return False
        return status == 200 and len(chans) == 5 and all(
            c.get("program") and c.get("now") for c in chans) and chans

    def guide(self):
        status, headers, body = self.st.get("/xmltv.xml", timeout=30)
        self.assertEqual(status, 200, body[:300])
        return headers, body

    def reload(self):
        """SIGHUP, and wait until the new configuration is in force."""
        mark = "configuration reloaded"
        count = self.st.log().count(mark)
        self.st.signal(signal.SIGHUP)
        self.assertTrue(harness.wait_until(lambda: self.st.log().count(mark) > count, 20, 0.2),
                        self.st.log_tail())

    def station_time(self):
        status, doc = self.st.get_json("/healthz")
        return harness.parse_pdt(doc["time"])

    # ---------------------------------------------------------------- the document

    def test_1_document(self):
        self.assertTrue(self.ready, "channels never all had a program\n" + self.st.log_tail())
        headers, body = self.guide()
        self.assertEqual(headers.get("content-type"), "application/xml; charset=utf-8")
        self.assertEqual(headers.get("cache-control"), "no-cache")
        self.assertTrue(body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n'
                                        b'<!DOCTYPE tv SYSTEM "xmltv.dtd">\n<tv '), body[:200])
        path = os.path.join(self.st.tmp, "guide.xml")
        with open(path, "wb") as fp:
            fp.write(body)
        r = subprocess.run(["tv_validate_file", "--dtd-file", DTD, path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout.decode(errors="replace")[-3000:])

        root, progs = parse_guide(body)
        self.assertEqual(root.get("generator-info-name"), "Retrovue")
        chans = {c.get("id"): [d.text for d in c.findall("display-name")]
                 for c in root.findall("channel")}
        self.assertEqual(list(chans), ["retrovue.1", "retrovue.2", "retrovue.4", "retrovue.5",
                                       "retrovue.6"])
        self.assertEqual(chans["retrovue.4"], ["Retro Four", "4", "4 Retro Four", "WRTV"])
        self.assertEqual(chans["retrovue.5"], ["Retro Movies", "5", "5 Retro Movies", "KRVM"])
        # Escaped on the wire, the name itself once parsed.
        self.assertEqual(chans["retrovue.1"], [WEIRD_NAME, "1", "1 " + WEIRD_NAME])
        self.assertIn(b"<display-name>Tom &amp; Jerry&apos;s &lt;Retro&gt;</display-name>", body)
        icons = {c.get("id"): [i.get("src") for i in c.findall("icon")] for c in root.findall("channel")}
        self.assertEqual(icons["retrovue.2"], ["http://127.0.0.1:%d/logos/2" % self.st.port])
        self.assertEqual(icons["retrovue.1"], [])

        now = self.station_time()
        for cid, plist in progs.items():
            for a, b in zip(plist, plist[1:]):
                self.assertEqual(a["stop"], b["start"], "%s: a gap or overlap after %r" % (cid, a))
            self.assertLessEqual(plist[0]["start"], now - 2 * 3600 + 60, cid)
        # Channel 4: at least three days of programs, sign-off nights included.
        ch4 = progs["retrovue.4"]
        self.assertGreaterEqual(ch4[-1]["stop"] - now, 3 * 86400 - 3600)
        self.assertGreaterEqual(len(ch4), 3 * 37)
        titles = {p["title"] for p in ch4}
        self.assertTrue({"Nebula Patrol", "Retro Racers", "Cooking With Carol", "Off Air"} <= titles,
                        titles)
        ep = next(p["elem"] for p in ch4 if p["title"] == "Nebula Patrol")
        self.assertRegex(ep.findtext("sub-title"), r"^Nebula Patrol S01E0[12]$")
        nums = {e.get("system"): e.text for e in ep.findall("episode-num")}
        self.assertRegex(nums["xmltv_ns"], r"^0\.[01]\.$")
        self.assertRegex(nums["onscreen"], r"^S01E0[12]$")
        self.assertEqual(ep.find("rating").get("system"), "VCHIP")
        self.assertEqual(ep.findtext("rating/value"), "TV-Y7")
        self.assertIsNotNone(ep.find("previously-shown"))
        # Playlists follow the longest schedule horizon (channel 6's).
        for cid in ("retrovue.1", "retrovue.2", "retrovue.6"):
            self.assertGreaterEqual(progs[cid][-1]["stop"] - now, LONG_DAYS * 86400 - 3600, cid)
        # Channel 2: the 6-minute show and the clips after it are one programme.
        show = [p for p in progs["retrovue.2"] if p["title"] == "Space Show"]
        self.assertGreater(len(show), 100)
        self.assertTrue(all(p["elem"].findtext("sub-title") == "The Last Orbit" for p in show))
        # Channel 1: ten-second clips merged into programmes of two minutes or more.
        short = [p for p in progs["retrovue.1"][1:-1] if p["stop"] - p["start"] < 120]
        self.assertEqual(short, [])

        status, headers, head_body = self.st.get("/xmltv.xml", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(head_body, b"")
        self.assertEqual(headers.get("content-type"), "application/xml; charset=utf-8")
        status, headers, err = self.st.get("/xmltv.xml", method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(json.loads(err)["status"], 405)

    # ---------------------------------------------------------------- never lies

    def check_agrees(self, progs, before, after, t0, t1):
        """/api/channels[].program (asked between station times t0 and t1, and again
        after the guide) is in the guide, is what the guide has on the air then, and
        holds the item on air."""
        for chans in (before, after):
            for c in chans:
                cid = "retrovue." + c["number"]
                p = c["program"]
                self.assertIsNotNone(p, c)
                a = harness.parse_pdt(p["start"])
                b = harness.parse_pdt(p["end"])
                listed = [g for g in progs[cid] if g["start"] == whole(a) and g["stop"] == whole(b)]
                self.assertEqual(len(listed), 1, "%s: program %r is not in the guide" % (cid, p))
                self.assertEqual(listed[0]["title"], p["title"], cid)
                now = c["now"]
                self.assertIsNotNone(now, c)
                self.assertLessEqual(a, harness.parse_pdt(now["start"]) + 0.001, (cid, p, now))
                self.assertLessEqual(harness.parse_pdt(now["end"]), b + 0.001, (cid, p, now))
        for c in before:
            cid = "retrovue." + c["number"]
            p = c["program"]
            a = whole(harness.parse_pdt(p["start"]))
            b = whole(harness.parse_pdt(p["end"]))
            # Asked at some instant between t0 and t1: the guide's programme then.
            self.assertTrue(a <= t1 + 1 and b > t0 - 1, (cid, p, t0, t1))
            on = covering(progs[cid], max(t0, a))
            self.assertIsNotNone(on, "%s: nothing in the guide at %s" % (cid, t0))
            self.assertEqual((on["start"], on["stop"], on["title"]), (a, b, p["title"]), cid)
            if c["programming"] == "schedule":
                # The fine log's item on air lies inside the guide's programme.
                status, items = self.st.get_json("/api/channels/%s/log?hours=0.1" % c["number"])
                self.assertEqual(status, 200)
                first = items[0]
                s, e = harness.parse_pdt(first["start"]), harness.parse_pdt(first["end"])
                prog = covering(progs[cid], s)
                self.assertIsNotNone(prog, (cid, first))
                self.assertLessEqual(prog["start"], s, (cid, first, prog))
                self.assertLessEqual(e, prog["stop"] + 0.001, (cid, first, prog))

    def test_2_never_lies(self):
        self.assertTrue(self.ready)
        seen = {}
        sign_on = harness.parse_pdt("2026-11-24T11:00:00Z")  # channel 4, 06:00 in New York
        first = None
        i = 0
        # At least four instants, and on past channel 4's sign-on when it is near.
        while i < 4 or (first < sign_on and t0 < sign_on + 30 and i < 12):
            if i:
                time.sleep(4)
            i += 1
            t0 = self.station_time()
            if first is None:
                first = t0
            _, before = self.st.get_json("/api/channels")
            t1 = self.station_time()
            _, body = self.guide()
            _, after = self.st.get_json("/api/channels")
            _, progs = parse_guide(body)
            self.check_agrees(progs, before, after, t0, t1)
            for c in before + after:
                seen.setdefault(c["number"], set()).add((c["program"]["title"], c["program"]["start"]))
        # The instants span programme changes: the playlist's programmes of a few
        # minutes, and channel 4's sign-on (unless the station started too late for it).
        self.assertGreaterEqual(len(seen["1"]), 2, seen["1"])
        if first < sign_on:
            self.assertGreaterEqual(len(seen["4"]), 2, seen["4"])
            self.assertIn("Off Air", {t for t, _ in seen["4"]})

    # ---------------------------------------------------------------- a schedule edit

    def test_3_schedule_edit(self):
        self.assertTrue(self.ready)
        _, body = self.guide()
        _, progs = parse_guide(body)
        _, ch = self.st.get_json("/api/channels/4")
        on_end = whole(harness.parse_pdt(ch["program"]["end"]))
        later = [p for p in progs["retrovue.4"] if p["start"] >= on_end]
        self.assertIn("Nebula Patrol", {p["title"] for p in later})
        # Weekdays from 06:00 become Cooking With Carol.
        path = self.st.channel_file("4")
        with open(path) as fp:
            doc = json.load(fp)
        self.assertEqual(doc["schedule"]["blocks"][1]["series"], ["nebula-patrol", "retro-racers"])
        doc["schedule"]["blocks"][1]["series"] = "cooking-with-carol"
        with open(path, "w") as fp:
            json.dump(doc, fp, indent=2)
        self.reload()
        t0 = self.station_time()
        _, before = self.st.get_json("/api/channels")
        t1 = self.station_time()
        _, body = self.guide()
        _, after = self.st.get_json("/api/channels")
        _, progs = parse_guide(body)
        ch = next(c for c in before if c["number"] == "4")
        on_end = whole(harness.parse_pdt(ch["program"]["end"]))
        later = [p for p in progs["retrovue.4"] if p["start"] >= on_end]
        titles = {p["title"] for p in later}
        self.assertNotIn("Nebula Patrol", titles)
        self.assertNotIn("Retro Racers", titles)
        self.assertIn("Cooking With Carol", titles)
        self.check_agrees(progs, before, after, t0, t1)

    # ---------------------------------------------------------------- a client hangs up

    def test_4_client_hangs_up(self):
        path = self.st.channel_file("6")
        with open(path) as fp:
            doc = json.load(fp)
        doc["schedule"]["days_ahead"] = HUGE_DAYS
        with open(path, "w") as fp:
            json.dump(doc, fp, indent=2)
        self.reload()
        _, body = self.guide()
        self.assertGreater(len(body), 6 << 20, "the guide should outgrow the socket buffers")
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(10)
        s.connect(("127.0.0.1", self.st.port))
        s.sendall(b"GET /xmltv.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got = b""
        while len(got) < 1024:
            chunk = s.recv(1024)
            self.assertTrue(chunk, "the guide ended after %d bytes" % len(got))
            got += chunk
        self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:100])
        time.sleep(1)  # the server fills the socket buffers and waits for the reader
        s.close()      # unread data: the peer gets a reset mid-response
        self.assertTrue(self.st.wait_log("guide: the client left after", 10),
                        "the guide's generator was not stopped\n" + self.st.log_tail())
        self.assertIsNone(self.st.proc.poll(), "retrovue exited")
        _, body = self.guide()
        root, progs = parse_guide(body)
        self.assertEqual(len(root.findall("channel")), 5)
        self.assertEqual(self.st.get("/healthz")[0], 200)

if __name__ == "__main__":
    unittest.main(verbosity=2)
