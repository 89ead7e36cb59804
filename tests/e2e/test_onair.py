"""
On the air: one station with one stream-copy channel of three 10 s house-format
clips, checked from the outside like a player would: the HLS playlist and its
segments, the continuous MPEG-TS stream, the JSON API, errors, and timestamp
continuity across item boundaries.

The tests share one server and run in name order; each waits for what it needs.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import STREAM_TYPE_AAC, STREAM_TYPE_H264  # noqa: E402


class OnAir(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        f = harness.fixtures()
        cls.st = harness.Station({"1": {"name": "Test One", "playlist": [f["a"], f["b"], f["c"]]}})
        cls.t_start = time.monotonic()
        try:
            cls.st.start()
            # First time the public playlist answers 200, measured from the spawn.
            cls.first_playlist = None
            end = cls.t_start + 20
            while time.monotonic() < end:
                if cls.st.playlist("1") is not None:
                    cls.first_playlist = time.monotonic() - cls.t_start
                    break
                time.sleep(0.05)
        except BaseException:
            cls.st.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.st.stop()
        cls.st.cleanup()
        if rc != 0:
            raise AssertionError("retrovue exited with %s after SIGTERM" % rc)

    def assert_json_error(self, status, headers, body, want_status):
        self.assertEqual(status, want_status, body[:300])
        self.assertTrue(headers.get("content-type", "").startswith("application/json"),
                        headers.get("content-type"))
        doc = json.loads(body.decode())
        self.assertIn("error", doc)
        self.assertIsInstance(doc["error"], str)
        self.assertTrue(doc["error"])
        return doc

    # ---------------------------------------------------------------- HLS

    def test_01_playlist_appears_within_8s(self):
        self.assertIsNotNone(self.first_playlist, "no playlist within 20 s\n" + self.st.log_tail())
        self.assertLess(self.first_playlist, 8.0, "playlist took %.2f s" % self.first_playlist)

    def test_02_playlist_follows_rfc8216(self):
        seq_of_uri = {}
        last_media_seq = None
        first_media_seq = None
        polls = 0
        t_end = time.monotonic() + 12
        while True:
            status, headers, body = self.st.get("/channel/1.m3u8")
            self.assertEqual(status, 200, body[:300])
            text = body.decode()
            pl = harness.m3u8_parse(text)
            polls += 1
            self.assertTrue(pl["extm3u"], "first line is not #EXTM3U:\n" + text)
            self.assertIsNotNone(pl["version"], "no EXT-X-VERSION:\n" + text)
            self.assertGreaterEqual(pl["version"], 3)  # float EXTINF needs version 3
            td = pl["target_duration"]
            self.assertIsNotNone(td, "no EXT-X-TARGETDURATION:\n" + text)
            self.assertRegex(td, r"^[0-9]+$", "EXT-X-TARGETDURATION must be a decimal integer")
            self.assertIsNotNone(pl["media_sequence"], "no EXT-X-MEDIA-SEQUENCE:\n" + text)
            self.assertIsNotNone(pl["discontinuity_sequence"],
                                 "no EXT-X-DISCONTINUITY-SEQUENCE:\n" + text)
            self.assertFalse(pl["endlist"], "a live playlist must not end")
            for tag in ("#EXTM3U", "#EXT-X-VERSION", "#EXT-X-TARGETDURATION",
                        "#EXT-X-MEDIA-SEQUENCE", "#EXT-X-DISCONTINUITY-SEQUENCE"):
                self.assertEqual(pl["tags"].count(tag), 1, "%s appears %d times" % (
                    tag, pl["tags"].count(tag)))
            segs = pl["segments"]
            self.assertGreater(len(segs), 0)
            for s in segs:
                self.assertIsNotNone(s["duration"], "segment without EXTINF: %s" % s["uri"])
                # RFC 8216 4.3.3.1: EXTINF rounded to the nearest integer <= target duration
                self.assertLessEqual(int(s["duration"] + 0.5), int(td),
                                     "EXTINF %.3f exceeds target %s" % (s["duration"], td))
                self.assertGreater(s["duration"], 0)
                self.assertIsNotNone(s["pdt"], "segment without EXT-X-PROGRAM-DATE-TIME: %s\n%s"
                                     % (s["uri"], text))
                self.assertRegex(s["uri"], r"^1/seg[0-9]{9}\.ts$")
                # A URI keeps its sequence number in every version of the playlist.
                if s["uri"] in seq_of_uri:
                    self.assertEqual(seq_of_uri[s["uri"]], s["seq"],
                                     "%s changed sequence number" % s["uri"])
                else:
                    seq_of_uri[s["uri"]] = s["seq"]
            self.assertEqual(len(set(s["uri"] for s in segs)), len(segs), "repeated URI")
            for a, b in zip(segs, segs[1:]):
                self.assertEqual(b["seq"], a["seq"] + 1)
                # Date-times advance by the segment durations (no restart happens here).
                self.assertAlmostEqual(b["pdt"] - a["pdt"], a["duration"], delta=0.0015,
                                       msg="PDT %s -> %s" % (a["uri"], b["uri"]))
                self.assertFalse(b["discontinuity"], "unexpected discontinuity at " + b["uri"])
            # The newest segment's date-time is close to the wall clock: it aired just now.
            newest = segs[-1]
            lag = time.time() - (newest["pdt"] + newest["duration"])
            self.assertGreater(lag, -1.0, "newest segment ends %.2f s in the future" % -lag)
            self.assertLess(lag, 8.0, "newest segment ended %.2f s ago" % lag)
            if last_media_seq is not None:
                self.assertGreaterEqual(pl["media_sequence"], last_media_seq,
                                        "media sequence went backwards")
            if first_media_seq is None:
                first_media_seq = pl["media_sequence"]
            last_media_seq = pl["media_sequence"]
            if time.monotonic() >= t_end:
                break
            time.sleep(0.5)
        newest_seen = max(seq_of_uri.values())
        first_seen = min(seq_of_uri.values())
        # 12 s at 2 s per segment: several new segments must have appeared.
        self.assertGreaterEqual(newest_seen - first_seen, 4,
                                "only segments %d..%d in 12 s" % (first_seen, newest_seen))
        # The window grows to at least 6 segments (checked once, with time to spare).
        pl = self.st.wait_playlist("1", 6, timeout=15)
        self.assertGreaterEqual(len(pl["segments"]), 6)
        type(self).first_media_seq = first_media_seq

    def test_03_content_types_and_caching(self):
        self.st.wait_playlist("1", 1)
        status, headers, body = self.st.get("/channel/1.m3u8")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-type"), "application/vnd.apple.mpegurl")
        self.assertIn("no-cache", headers.get("cache-control", ""))
        pl = harness.m3u8_parse(body.decode())
        status, headers, seg = self.st.get("/channel/" + pl["segments"][-1]["uri"])
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-type"), "video/mp2t")
        self.assertIn("immutable", headers.get("cache-control", ""))
        self.assertEqual(int(headers.get("content-length", -1)), len(seg))
        harness.ts_check(seg, want_whole=True)

    def test_04_api_channels(self):
        self.st.wait_playlist("1", 1)
        t0 = time.time()
        status, headers, body = self.st.get("/api/channels")
        t1 = time.time()
        self.assertEqual(status, 200, body[:300])
        self.assertTrue(headers.get("content-type", "").startswith("application/json"))
        doc = json.loads(body.decode())
        self.assertIsInstance(doc, list)
        self.assertEqual(len(doc), 1)
        ch = doc[0]
        self.assertEqual(ch["number"], "1")
        self.assertEqual(ch["name"], "Test One")
        self.assertEqual(ch["mode"], "copy")
        self.assertIsInstance(ch["now"], dict, body)
        start = harness.parse_pdt(ch["now"]["start"])
        end = harness.parse_pdt(ch["now"]["end"])
        self.assertLessEqual(start, t1, "now.start %s is after the request" % ch["now"]["start"])
        self.assertGreater(end, t0, "now.end %s is before the request" % ch["now"]["end"])
        self.assertAlmostEqual(end - start, harness.CLIP_SECONDS, delta=0.1)
        self.assertIn(os.path.basename(ch["now"]["path"]), ("a.ts", "b.ts", "c.ts"))
        # the per-channel document is the same channel
        status, one = self.st.get_json("/api/channels/1")
        self.assertEqual(status, 200)
        self.assertEqual(one["number"], "1")

    def test_05_healthz(self):
        self.st.wait_playlist("1", 1)
        ok = harness.wait_until(lambda: self.st.get("/healthz")[0] == 200, 5)
        status, headers, body = self.st.get("/healthz")
        self.assertTrue(ok, body)
        self.assertEqual(status, 200, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"))
        doc = json.loads(body.decode())
        self.assertEqual(doc["status"], "ok", doc)

    def test_06_segment_decodes(self):
        pl = self.st.wait_playlist("1", 2)
        seg = self.st.fetch_segment("1", pl["segments"][-1])
        types = harness.ts_check(seg, want_whole=True)
        self.assertIn(STREAM_TYPE_H264, types.values(), types)
        self.assertIn(STREAM_TYPE_AAC, types.values(), types)
        streams, packets = harness.ffprobe_packets(seg)
        codecs = sorted(s["codec_name"] for s in streams)
        self.assertEqual(codecs, ["aac", "h264"])
        video = [p for p in packets if p["codec_type"] == "video"]
        self.assertGreater(len(video), 30)
        self.assertIn("K", video[0]["flags"], "segment does not start with a keyframe")
        rc, errors = harness.decode_check(seg)
        self.assertEqual(rc, 0, errors)

    # ---------------------------------------------------------------- continuous TS

    def check_stream(self, path, seconds):
        self.st.wait_playlist("1", 1)
        status, headers, ttfb, data = harness.read_stream(self.st.port, path, seconds)
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-type"), "video/mp2t")
        self.assertIsNotNone(ttfb, "no body bytes from %s in %s s" % (path, seconds))
        self.assertLess(ttfb, 1.0, "time to first byte %.3f s" % ttfb)
        types = harness.ts_check(data)
        self.assertIn(STREAM_TYPE_H264, types.values(), types)
        self.assertIn(STREAM_TYPE_AAC, types.values(), types)
        return data

    def test_07_continuous_ts(self):
        t0 = time.monotonic()
        data = self.check_stream("/channel/1.ts", 5)
        self.assertGreaterEqual(time.monotonic() - t0, 4.5)
        # 5 s from the newest segment on: at least that one and the next must arrive.
        whole = data[:len(data) - len(data) % 188]
        streams, packets = harness.ffprobe_packets(whole)
        video = [p for p in packets if p["codec_type"] == "video"]
        self.assertIn("K", video[0]["flags"], "stream does not start on a keyframe")
        span = video[-1]["pts_time"] - video[0]["pts_time"]
        self.assertGreater(span, 3.5, "5 s of streaming carried only %.2f s of video" % span)
        dts = [p["dts_time"] for p in video]
        self.assertTrue(all(b > a for a, b in zip(dts, dts[1:])), "video DTS not increasing")

    def test_08_auto_path(self):
        self.check_stream("/auto/v1", 2)

    # ---------------------------------------------------------------- errors

    def test_09_not_found_is_json(self):
        self.st.wait_playlist("1", 1)
        for path in ("/channel/99.m3u8", "/channel/99.ts", "/channel/1/seg999999999.ts",
                     "/api/channels/99", "/auto/v99", "/nothing-here"):
            status, headers, body = self.st.get(path)
            with self.subTest(path=path):
                self.assert_json_error(status, headers, body, 404)
        # Path traversal, sent raw so no client normalises it first.
        for target in (b"/channel/1/../../etc/passwd", b"/channel/1/..%2f..%2fetc%2fpasswd",
                       b"/../../../../etc/passwd"):
            status, body = self.st.raw_request(
                b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            with self.subTest(target=target):
                self.assertEqual(status, 404, body[:300])
                self.assertNotIn(b"root:", body)
                self.assertIn("error", json.loads(body.decode()))

    def test_10_wrong_method_is_405_json(self):
        for path in ("/channel/1.m3u8", "/channel/1.ts", "/api/channels"):
            status, headers, body = self.st.get(path, method="POST")
            with self.subTest(path=path):
                self.assert_json_error(status, headers, body, 405)
                self.assertIn("GET", headers.get("allow", ""))

    # ---------------------------------------------------------------- continuity

    def test_11_timestamps_continuous_across_item_boundary(self):
        # 7 segments are 14 s: with 10 s items, at least one item boundary is inside.
        pl = self.st.wait_playlist("1", 7, timeout=30)
        segs = pl["segments"][-7:]
        data = b"".join(self.st.fetch_segment("1", s) for s in segs)
        covered_from = segs[0]["pdt"]
        covered_to = segs[-1]["pdt"] + segs[-1]["duration"]
        # Item boundaries are where an as-run entry started airing (not a clock join).
        rows = self.st.db_query(
            "SELECT path, actual_start FROM as_run WHERE channel='1' AND actual_start > ?"
            " AND actual_start < ? ORDER BY actual_start", covered_from + 0.5, covered_to - 0.5)
        self.assertTrue(rows, "no item boundary between %.3f and %.3f" % (covered_from, covered_to))
        streams, packets = harness.ffprobe_packets(data)
        video = [p for p in packets if p["codec_type"] == "video"]
        audio = [p for p in packets if p["codec_type"] == "audio"]
        self.assertGreater(len(video), 6 * 60)
        dts = [p["dts_time"] for p in video]
        for i, (a, b) in enumerate(zip(dts, dts[1:])):
            self.assertGreater(b, a, "video DTS not increasing at packet %d: %.6f -> %.6f" % (i, a, b))
        pts = [p["pts_time"] for p in video]
        gaps = [(b - a, i) for i, (a, b) in enumerate(zip(pts, pts[1:]))]
        worst = max(gaps)
        self.assertLessEqual(worst[0], 0.5, "video PTS gap of %.3f s at packet %d" % worst)
        self.assertGreaterEqual(min(gaps)[0], 0, "video PTS went backwards")
        # Audio continues too (AAC frames are 21 ms; allow the same 0.5 s).
        apts = [p["pts_time"] for p in audio]
        self.assertTrue(apts, "no audio")
        agap = max((b - a, i) for i, (a, b) in enumerate(zip(apts, apts[1:])))
        self.assertLessEqual(agap[0], 0.5, "audio PTS gap of %.3f s at packet %d" % agap)
        # The whole run of segments spans their summed durations.
        span = pts[-1] - pts[0]
        total = sum(s["duration"] for s in segs)
        self.assertAlmostEqual(span, total - 1001 / 30000, delta=0.2)


    def test_12_window_slides(self):
        # Once the window is full the oldest segment leaves and the media sequence
        # increases (the window is 30 s here, so this comes last).
        first = getattr(self, "first_media_seq", None)
        if first is None:
            first = self.st.wait_playlist("1", 1)["media_sequence"]
        pl = harness.wait_until(lambda: (lambda p: p if p and p["media_sequence"] > first else None)(
            self.st.playlist("1")), 45, 0.5)
        self.assertTrue(pl, "media sequence never moved past %d" % first)
        size = len(pl["segments"])
        later = harness.wait_until(lambda: (lambda p: p if p and p["media_sequence"] >
                                            pl["media_sequence"] else None)(self.st.playlist("1")), 6)
        self.assertTrue(later, "media sequence stuck at %d" % pl["media_sequence"])
        self.assertEqual(len(later["segments"]), size, "a full window keeps its size")


if __name__ == "__main__":
    unittest.main(verbosity=2)
