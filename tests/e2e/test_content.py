"""
The content manager end to end: `retrovue ingest` over a library laid out like a real
one (TinyMediaManager sidecars, a broken sidecar, a truncated file, a program with
black-and-silent act breaks), Plex as a source through recorded responses served by a
small HTTP server on loopback (no Plex server runs here), the catalog through
`retrovue assets` and /api/assets, manual break points, and a station that conforms a
non-house file in the background and then airs it by stream copy.
"""

import http.server
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

NFO_FIXTURES = os.path.join(harness.SOURCE_DIR, "tests", "fixtures", "nfo")
PLEX_FIXTURES = os.path.join(harness.SOURCE_DIR, "tests", "fixtures", "plex")
TOKEN = "e2e-plex-token-0123"
SHOW = "Harbor Lights (1984)"


def ffmpeg(*args):
    subprocess.run([harness.FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    *args], check=True, timeout=120)


def make_clip(path, seconds=6, size="640x360", rate="25", audio=True):
    """A small non-house clip (16:9, 25 fps, mp4/mkv by extension)."""
    args = ["-f", "lavfi", "-i", "testsrc2=size=%s:rate=%s:duration=%g" % (size, rate, seconds)]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=%g" % seconds]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-ac", "1"]
    ffmpeg(*args, path)


def make_program_with_gaps(path, seconds=40, gaps=(14.0, 27.0), gap_len=1.0):
    """A program whose picture goes black and sound silent for gap_len at each gap."""
    black = "+".join("between(t,%g,%g)" % (g, g + gap_len) for g in gaps)
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=%g" % seconds,
           "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000:duration=%g" % seconds,
           "-vf", "drawbox=color=black:t=fill:enable='%s'" % black,
           "-af", "volume=0:enable='%s'" % black,
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", path)


class PlexHandler(http.server.BaseHTTPRequestHandler):
    """Answers like Plex from the recorded responses; 401 without the right token."""

    routes = {
        "/library/sections": "sections.json",
        "/library/metadata/2001/allLeaves": "metadata-2001-allLeaves.json",
        "/library/metadata/2002/allLeaves": "metadata-2002-allLeaves.json",
    }
    requests = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        params = dict(p.partition("=")[::2] for p in query.split("&") if p)
        token = self.headers.get("X-Plex-Token") or params.get("X-Plex-Token")
        PlexHandler.requests.append(self.path)
        if token != TOKEN:
            with open(os.path.join(PLEX_FIXTURES, "unauthorized.html"), "rb") as f:
                body = f.read()
            self.send_response(401)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        start = self.headers.get("X-Plex-Container-Start") or params.get(
            "X-Plex-Container-Start", "0")
        name = self.routes.get(path)
        if path in ("/library/sections/1/all", "/library/sections/2/all"):
            name = "section-%s-all-%s.json" % (path.split("/")[3], start)
        if name is None or not os.path.exists(os.path.join(PLEX_FIXTURES, name)):
            self.send_response(404)
            self.end_headers()
            return
        with open(os.path.join(PLEX_FIXTURES, name), "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def run(*args, timeout=180):
    r = subprocess.run([harness.RETROVUE_BIN, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


class Content(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.plex = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PlexHandler)
        threading.Thread(target=cls.plex.serve_forever, daemon=True).start()
        cls.st = harness.Station({}, main={})
        try:
            cls.build_library()
        except BaseException:
            cls.st.cleanup()
            cls.plex.shutdown()
            raise

    @classmethod
    def build_library(cls):
        root = cls.st.tmp
        cls.tv = os.path.join(root, "tv")
        cls.ads = os.path.join(root, "ads")
        cls.movies = os.path.join(root, "plexmovies")
        shutil.copytree(os.path.join(NFO_FIXTURES, "TV"), cls.tv)
        os.makedirs(cls.ads)
        # One clip per episode sidecar, named like the sidecar.
        clip = os.path.join(root, "clip.mp4")
        make_clip(clip)
        cls.episodes = []
        for season in sorted(os.listdir(os.path.join(cls.tv, SHOW))):
            d = os.path.join(cls.tv, SHOW, season)
            if not os.path.isdir(d):
                continue
            for name in sorted(os.listdir(d)):
                if name.endswith(".nfo"):
                    media = os.path.join(d, name[:-4] + ".mp4")
                    shutil.copyfile(clip, media)
                    cls.episodes.append(media)
        # A program with two act breaks, and its sidecar-less neighbour.
        cls.program = os.path.join(cls.tv, SHOW, "Season 01", "Harbor Lights - S01E09 - Acts.mkv")
        make_program_with_gaps(cls.program)
        # Commercials: one good, one cut short by a failed copy.
        cls.ad = os.path.join(cls.ads, "zap-cola.mp4")
        make_clip(cls.ad, seconds=4)
        with open(cls.ad, "rb") as f:
            head = f.read(3000)
        cls.truncated = os.path.join(cls.ads, "truncated.mp4")
        with open(cls.truncated, "wb") as f:
            f.write(head)
        # What Plex serves: two of its movies exist here under the mapped folder.
        for rel in ("Midnight Freeway (1987)/Midnight Freeway (1987).mkv",
                    "Static (1985)/Static (1985).mkv"):
            p = os.path.join(cls.movies, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            make_clip(p, seconds=5)
        cls.st.main = {
            "media": [{"path": cls.tv, "holds": "episodes"},
                      {"path": cls.ads, "holds": "commercials"}],
            "plex": {"url": "http://127.0.0.1:%d" % cls.plex.server_address[1], "token": TOKEN,
                     "path_map": {"/data/movies": cls.movies}},
            "conform": {"jobs": 1},
        }
        cls.st._write_main()
        cls.conformed_episode = [m for m in cls.episodes if "S01E03" in m][0]
        cls.st.write_channel("7", {"name": "Conformed", "playlist": [cls.conformed_episode]})

    @classmethod
    def tearDownClass(cls):
        cls.plex.shutdown()
        cls.st.cleanup()

    def ingest(self, *extra):
        rc, out, err = run("ingest", "--config", self.st.config_dir, "--state", self.st.state_dir,
                           *extra)
        self.assertEqual(rc, 0, out + err)
        return out, err

    def assets(self, *args):
        rc, out, err = run("assets", *args, "--config", self.st.config_dir, "--state",
                           self.st.state_dir)
        self.assertEqual(rc, 0, out + err)
        return out

    def test_1_ingest(self):
        t0 = time.monotonic()
        out, err = self.ingest()
        print("first ingest: %.1f s: %s" % (time.monotonic() - t0, out.strip()))
        # Two Plex movies are here; the other Plex files are not, and say so.
        self.assertIn("not reachable here", err)
        self.assertIn("no plex.path_map entry matches", err)
        # The malformed sidecar is named with its line; its episode still ingests.
        self.assertRegex(err, r"Season 02/Harbor Lights - S02E02[^:]*\.nfo:\d+: nfo: ")
        self.assertIn("truncated.mp4", err)
        doc = json.loads(self.assets("list", "--json", "--limit", "100"))
        by_path = {a["path"]: a for a in doc["assets"]}
        for media in self.episodes + [self.program, self.ad, self.truncated]:
            self.assertIn(media, by_path)
        self.assertEqual(by_path[self.truncated]["state"], "error")
        self.assertEqual(by_path[self.ad]["kind"], "commercials")
        movies = [a for a in doc["assets"] if a["kind"] == "movies"]
        self.assertEqual(len(movies), 2, movies)
        self.assertTrue(all(a["root"].startswith("plex:") for a in movies))

        # Sidecar metadata, including a multi-episode file and CDATA with entities.
        two = [m for m in self.episodes if "S01E01E02" in m][0]
        show = json.loads(self.assets("show", two, "--json"))
        meta = show["metadata"]
        self.assertEqual(meta["source"], "nfo")
        self.assertEqual(meta["show"], "Harbor Lights")
        self.assertEqual((meta["season"], meta["episode"], meta["episode_last"]), (1, 1, 2))
        self.assertEqual(show["media"]["width"], 640)
        self.assertEqual(show["media"]["dar"], "16:9")
        self.assertEqual(show["media"]["audio_layout"], "mono")
        cdata = [m for m in self.episodes if "S01E04" in m][0]
        meta = json.loads(self.assets("show", cdata, "--json"))["metadata"]
        self.assertIn("&", meta["plot"])
        self.assertIn("Salt & Vinegar", meta["title"])
        # Plex metadata for a movie, with its ratingKey as the source reference.
        movie = json.loads(self.assets("show", movies[0]["path"], "--json"))
        self.assertEqual(movie["metadata"]["source"], "plex")
        self.assertTrue(movie["metadata"]["source_ref"])
        self.assertIsNotNone(movie["metadata"]["year"])

        # Break points found in the program's black, silent gaps (14 s and 27 s).
        prog = json.loads(self.assets("show", self.program, "--json"))
        found = sorted(b["at"] for b in prog["break_points"] if b["source"] == "detected")
        self.assertEqual(len(found), 2, prog["break_points"])
        for got, want in zip(found, (14.5, 27.5)):
            self.assertLess(abs(got - want), 0.6, found)
        # A program without gaps has none.
        plain = json.loads(self.assets("show", self.episodes[0], "--json"))
        self.assertEqual(plain["break_points"], [])

        # Text forms for people.
        listing = self.assets("list")
        self.assertIn("Harbor Lights S01E01-E02", listing)
        self.assertIn("ID  KIND", listing)
        text = self.assets("show", self.program)
        self.assertIn("break points: 2", text)

    def test_2_incremental(self):
        out, _ = self.ingest()
        self.assertRegex(out, r" 0 new, 0 changed, \d+ unchanged, 0 gone")
        gone = self.ad
        os.rename(gone, gone + ".bak")
        try:
            out, _ = self.ingest()
            self.assertIn(" 1 gone", out)
            doc = json.loads(self.assets("list", "--json", "--all"))
            states = {a["path"]: a["state"] for a in doc["assets"]}
            self.assertEqual(states[gone], "gone")  # kept, not deleted
            doc = json.loads(self.assets("list", "--json"))
            self.assertNotIn(gone, [a["path"] for a in doc["assets"]])
        finally:
            os.rename(gone + ".bak", gone)
        out, _ = self.ingest()
        self.assertIn(" 0 gone", out)
        self.assertEqual(json.loads(self.assets("show", gone, "--json"))["state"], "ok")

    def test_3_breaks_override_file(self):
        with open(os.path.join(self.st.config_dir, "breaks.json"), "w") as f:
            json.dump({self.program: ["0:10", 30.25]}, f)
        try:
            self.ingest()
            prog = json.loads(self.assets("show", self.program, "--json"))
            manual = [b["at"] for b in prog["break_points"] if b["source"] == "manual"]
            self.assertEqual(manual, [10.0, 30.25])
        finally:
            os.unlink(os.path.join(self.st.config_dir, "breaks.json"))

    def test_4_plex_token_refused(self):
        main = dict(self.st.main)
        main["plex"] = dict(main["plex"], token="wrong-token-xxxxxx")
        saved = self.st.main
        self.st.main = main
        self.st._write_main()
        try:
            out, err = self.ingest()
            self.assertIn("refused the token", err)
            self.assertIn("nothing from Plex is marked gone", err)
            self.assertIn(" 0 gone", out)
        finally:
            self.st.main = saved
            self.st._write_main()

    def test_5_station_api_and_conform(self):
        """serve ingests in the background, conforms the non-house episode, and the
        channel airing it switches to stream copy; /api/assets serves the catalog."""
        self.st.start()
        try:
            _, health = self.st.get_json("/healthz")
            self.assertIn(health["library"], ("idle", "ingesting", "conforming"))
            # Channels appear once the station has looked at its library.
            self.assertTrue(harness.wait_until(
                lambda: self.st.get_json("/api/channels/7")[0] == 200, 20))
            t0 = time.monotonic()

            def conformed():
                _, d = self.st.get_json("/api/assets?q=S01E03")
                return d["assets"] and d["assets"][0]["conform"] == "done"

            self.assertTrue(harness.wait_until(conformed, 150), "no conform finished:\n" +
                            self.st.log_tail(40))
            print("conformed %.1f s after start" % (time.monotonic() - t0))
            self.assertTrue(harness.wait_until(
                lambda: self.st.get_json("/api/channels/7")[1]["mode"] == "copy", 30),
                "the channel did not switch to stream copy:\n" + self.st.log_tail(40))
            # The switch is planned: logged as such, not as a failed ffmpeg.
            self.assertTrue(self.st.wait_log("ffmpeg stopped to switch to stream copy", 10))
            self.assertNotIn("ffmpeg exited with status", self.st.log())
            _, d = self.st.get_json("/api/assets?q=S01E03")
            aid = d["assets"][0]["id"]
            status, asset = self.st.get_json("/api/assets/%d" % aid)
            self.assertEqual(status, 200)
            self.assertEqual(asset["conform"]["state"], "done")
            # Keyframes of the conformed copy on every GOP (60 frames at 29.97).
            _, packets = harness.ffprobe_packets(asset["conform"]["path"])
            keys = [p["pts_time"] for p in packets if p["codec_type"] == "video" and "K" in p["flags"]]
            start = keys[0]
            for i, k in enumerate(keys):
                self.assertAlmostEqual(k - start, i * 2.002, delta=0.002)
            # The channel airs the copy: its newest segments come from stream copy.
            self.assertTrue(harness.wait_until(lambda: self.st.newest_seq("7") >= 2, 30))

            # Manual break points through the API; bad ones get a JSON error.
            prog = [a for a in self.st.get_json("/api/assets?q=S01E09")[1]["assets"]][0]
            status, _, body = self.st.get("/api/assets/%d/breaks" % prog["id"], method="PUT",
                                          headers={"Content-Type": "application/json"},
                                          body=json.dumps({"break_points": [12.0, 26.0]}))
            self.assertEqual(status, 200, body)
            manual = [b["at"] for b in json.loads(body)["break_points"] if b["source"] == "manual"]
            self.assertEqual(manual, [12.0, 26.0])
            status, _, body = self.st.get("/api/assets/%d/breaks" % prog["id"], method="PUT",
                                          body=json.dumps({"break_points": [26.0, 12.0]}))
            self.assertEqual(status, 400)
            self.assertIn("ascend", json.loads(body)["error"])
            status, _, body = self.st.get("/api/assets/%d/breaks" % prog["id"], method="PUT",
                                          body="not json")
            self.assertEqual(status, 400)
            status, _, body = self.st.get("/api/assets/999999")
            self.assertEqual(status, 404)
            self.assertEqual(json.loads(body)["status"], 404)
            # The guide and the API describe it from its sidecar, not its file name.
            _, ch = self.st.get_json("/api/channels/7")
            self.assertEqual(ch["program"]["title"], "Harbor Lights")
            self.assertEqual(ch["program"].get("sub_title"), "Fog Bound")
            status, _, guide = self.st.get("/xmltv.xml", timeout=30)
            self.assertEqual(status, 200)
            import xml.etree.ElementTree as ET
            progs = [p for p in ET.fromstring(guide).findall("programme")
                     if p.get("channel") == "retrovue.7"]
            self.assertTrue(progs)
            self.assertEqual(progs[0].findtext("title"), "Harbor Lights")
            self.assertEqual(progs[0].findtext("sub-title"), "Fog Bound")
            self.assertTrue(progs[0].findtext("desc"))
            self.assertEqual(progs[0].findtext("date"), "19841002")
            status, _, body = self.st.get("/api/assets?kind=movies")
            self.assertEqual(json.loads(body)["total"], 2)
        finally:
            self.st.stop()
        self.st.check_sanitizers()

    def test_6_stale_conforms_swept(self):
        """At start the conform cache is swept: a copy made by an older encoder (its
        name is no longer the one the current encoder gives) is made again, and files
        no row speaks for (a crash's .part, an orphan) are removed; the good copies stay."""
        rows = self.st.db_query("SELECT c.path FROM conforms c JOIN assets a ON a.id = c.asset_id"
                                " WHERE c.state = 'done' AND a.path LIKE '%S01E03%'")
        self.assertEqual(len(rows), 1, rows)
        good = rows[0][0]
        cache = os.path.dirname(good)
        # An older encoder's copy of S01E03: same content, another name.
        old = os.path.join(cache, "0123456789abcdef-01234567.ts")
        os.rename(good, old)
        con = sqlite3.connect(os.path.join(self.st.state_dir, "retrovue.db"), timeout=5)
        con.execute("UPDATE conforms SET path = ? WHERE path = ?", (old, good))
        con.commit()
        con.close()
        part = os.path.join(cache, "fedcba9876543210-76543210.ts.part")
        orphan = os.path.join(cache, "00000000000000aa-000000bb.ts")
        notes = os.path.join(cache, "README.txt")  # not a name the cache makes: left alone
        for path in (part, orphan, notes):
            with open(path, "wb") as f:
                f.write(b"\0" * 1000)
        kept = [p for p in os.listdir(cache) if p.endswith(".ts") and
                os.path.join(cache, p) not in (old, orphan)]
        self.st.start()
        try:
            self.assertTrue(self.st.wait_log("made again)", 10), self.st.log_tail())
            # Those three at least (a conform cut short by the last stop removes its own).
            self.assertTrue(self.st.wait_log("conform: removed ", 10), self.st.log_tail())
            self.assertGreaterEqual(int(re.search(r"conform: removed (\d+) stale files",
                                                  self.st.log()).group(1)), 3)
            for path in (old, part, orphan):
                self.assertFalse(os.path.exists(path), path)
            self.assertTrue(os.path.exists(notes))
            for name in kept:
                self.assertTrue(os.path.exists(os.path.join(cache, name)), name)

            def remade():
                r = self.st.db_query("SELECT c.state, c.path FROM conforms c JOIN assets a ON"
                                     " a.id = c.asset_id WHERE a.path LIKE '%S01E03%'")
                return r and r[0][0] == "done" and r[0][1] == good and os.path.exists(good)

            self.assertTrue(harness.wait_until(remade, 120), self.st.log_tail(40))
        finally:
            self.st.stop()
        self.st.check_sanitizers()


if __name__ == "__main__":
    unittest.main(verbosity=2)
