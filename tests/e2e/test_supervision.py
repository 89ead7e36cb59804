"""
Supervision: what happens when ffmpeg dies or stalls, when retrovue itself is
stopped, killed or restarted, when a media file disappears, when the configuration
is reloaded, and when a channel's media is not in the house format.

Each test runs its own station (they kill things), so one test's damage cannot
leak into the next. Every process is killed by PID in tearDown.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import STREAM_TYPE_AAC, STREAM_TYPE_H264  # noqa: E402


def segment_start_time(data):
    """ffprobe's start_time of a segment (the first PTS, in seconds)."""
    fmt, _ = harness.ffprobe_streams(data)
    return float(fmt["start_time"])


class Supervision(unittest.TestCase):
    def setUp(self):
        self.fx = harness.fixtures()
        self.stations = []
        self.stopped_pids = []  # pids we SIGSTOPped: resumed and killed in tearDown

    def tearDown(self):
        for pid in self.stopped_pids:
            if harness.pid_alive(pid):
                cmd = harness.proc_cmdline(pid) or []
                if any(st.tmp in a for st in self.stations for a in cmd):
                    try:
                        os.kill(pid, signal.SIGCONT)
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        for st in self.stations:
            st.cleanup()

    def station(self, channels=None, **kw):
        if channels is None:
            channels = {"1": [self.fx["a"], self.fx["b"], self.fx["c"]]}
        st = harness.Station(channels, **kw)
        self.stations.append(st)
        return st

    def newest(self, st, number="1"):
        try:
            return st.newest_seq(number)
        except OSError:
            return None

    # ---------------------------------------------------------------- ffmpeg dies

    def test_killed_ffmpeg_is_replaced_and_output_continues(self):
        st = self.station().start()
        st.wait_playlist("1", 2, timeout=30)
        old_pid = st.ffmpeg_pid_for("1")
        self.assertIsNotNone(old_pid, "no ffmpeg child found")
        before = st.playlist("1")
        os.kill(old_pid, signal.SIGKILL)
        t_kill = time.monotonic()
        # Segments the old ffmpeg had finished may still be published a moment later.
        self.assertTrue(harness.wait_until(lambda: not harness.pid_alive(old_pid), 2))
        time.sleep(0.2)
        last_old = st.playlist("1")["segments"][-1]
        self.assertGreaterEqual(last_old["seq"], before["segments"][-1]["seq"])
        after = harness.wait_until(
            lambda: (lambda p: p if p and p["segments"][-1]["seq"] > last_old["seq"] else None)(
                st.playlist("1")), 15, 0.02)
        elapsed = time.monotonic() - t_kill
        self.assertTrue(after, "no new segment within 15 s of killing ffmpeg\n" + st.log_tail())
        new_pid = st.ffmpeg_pid_for("1")
        self.assertIsNotNone(new_pid)
        self.assertNotEqual(new_pid, old_pid)
        self.assertLessEqual(elapsed, 3.0, "first new segment %.2f s after the kill (%s)\n%s" % (
            elapsed, harness.load_note(), st.log_tail(12)))
        sys.stderr.write("[kill → new segment in %.2f s] " % elapsed)
        if os.environ.get("RETROVUE_E2E_VERBOSE"):
            sys.stderr.write("\n%s\n" % "\n".join(
                "%d %.3f %s" % (s["seq"], s["duration"], s["pdt"]) for s in after["segments"]))
        # The playlist stays continuous: the sequence keeps increasing, no repeat and
        # no discontinuity is needed because numbers and timestamps both continue.
        self.assertGreaterEqual(after["media_sequence"], before["media_sequence"])
        segs = after["segments"]
        for a, b in zip(segs, segs[1:]):
            self.assertEqual(b["seq"], a["seq"] + 1)
        self.assertFalse(any(s["discontinuity"] for s in segs), "discontinuity after a restart")
        self.assertEqual(after["discontinuity_sequence"], before["discontinuity_sequence"])
        uris = {s["uri"]: s["seq"] for s in before["segments"]}
        for s in segs:
            if s["uri"] in uris:
                self.assertEqual(uris[s["uri"]], s["seq"])
        first_new = [s for s in segs if s["seq"] > last_old["seq"]][0]
        old_seg = [s for s in segs if s["seq"] == last_old["seq"]]
        self.assertTrue(old_seg, "the last segment before the kill left the window")
        old_seg = old_seg[0]
        self.assertEqual(first_new["seq"], old_seg["seq"] + 1)
        # PTS continue: the first new segment starts where the last old one ended.
        old_start = segment_start_time(st.fetch_segment("1", old_seg))
        new_start = segment_start_time(st.fetch_segment("1", first_new))
        if os.environ.get("RETROVUE_E2E_VERBOSE"):
            sys.stderr.write("old %.3f + %.3f, new %.3f\n" % (old_start, old_seg["duration"], new_start))
        self.assertAlmostEqual(new_start, old_start + old_seg["duration"], delta=0.1,
                               msg="old segment %d starts %.3f (+%.3f s); new segment %d starts %.3f"
                               % (old_seg["seq"], old_start, old_seg["duration"], first_new["seq"],
                                  new_start))
        self.assertIn("ffmpeg killed by signal 9", st.log())
        status, doc = st.get_json("/api/channels/1")
        self.assertGreaterEqual(doc["restarts"], 1)

    def test_stalled_ffmpeg_is_killed_and_replaced(self):
        st = self.station().start()
        st.wait_playlist("1", 1, timeout=30)
        old_pid = st.ffmpeg_pid_for("1")
        self.assertIsNotNone(old_pid)
        os.kill(old_pid, signal.SIGSTOP)
        self.stopped_pids.append(old_pid)
        t_stop = time.monotonic()
        time.sleep(0.2)
        last_old = st.playlist("1")["segments"][-1]["seq"]
        new_pid = harness.wait_until(
            lambda: (lambda p: p if p and p != old_pid else None)(st.ffmpeg_pid_for("1", 0)),
            15, 0.1)
        t_new_pid = time.monotonic() - t_stop
        self.assertTrue(new_pid, "ffmpeg was not replaced within 15 s of SIGSTOP\n" + st.log_tail())
        # The stall limit is 3 x the target duration (3 s) = 9 s without a new segment,
        # checked once a second, then a 0.5 s backoff: about 10 s after the stall.
        self.assertLessEqual(t_new_pid, 11.0, "replaced only %.1f s after the stall (%s)\n%s" % (
            t_new_pid, harness.load_note(), st.log_tail(12)))
        # The stalled process was killed, not left stopped.
        gone = harness.wait_until(lambda: not harness.pid_alive(old_pid), 2)
        self.assertTrue(gone, "the stalled ffmpeg %d is still there (state %s)" % (
            old_pid, harness.proc_stat(old_pid)))
        fresh = harness.wait_until(lambda: (self.newest(st) or -1) > last_old, 8, 0.1)
        t_seg = time.monotonic() - t_stop
        self.assertTrue(fresh, "no new segment after the replacement\n" + st.log_tail())
        self.assertLessEqual(t_seg, 14.0, "new segment only %.1f s after the stall (%s)\n%s" % (
            t_seg, harness.load_note(), st.log_tail(12)))
        sys.stderr.write("[stall → new pid %.1f s, new segment %.1f s] " % (t_new_pid, t_seg))
        self.assertRegex(st.log(), r"ffmpeg stalled: no new segment for [0-9.]+ s; killing pid %d"
                         % old_pid)
        rows = st.db_query("SELECT kind FROM events WHERE channel='1' AND kind='stall'")
        self.assertTrue(rows, "no stall event in the database")

    # ---------------------------------------------------------------- retrovue stops

    def test_sigterm_exits_zero_and_leaves_no_ffmpeg(self):
        st = self.station().start()
        st.wait_playlist("1", 1)
        pids = st.ffmpeg_pids()
        self.assertTrue(pids, "no ffmpeg child")
        t0 = time.monotonic()
        st.signal(signal.SIGTERM)
        try:
            rc = st.proc.wait(10)
        except Exception:
            self.fail("retrovue did not exit within 10 s of SIGTERM\n" + st.log_tail())
        self.assertEqual(rc, 0, st.log_tail())
        sys.stderr.write("[SIGTERM → exit in %.2f s] " % (time.monotonic() - t0))
        left = [p for p in pids if harness.pid_alive(p)]
        self.assertEqual(left, [], "ffmpeg still running after retrovue exited")
        self.assertIn("stopped (exit 0)", st.log())

    def test_sigkill_of_retrovue_takes_ffmpeg_down(self):
        st = self.station().start()
        st.wait_playlist("1", 1)
        pids = st.ffmpeg_pids()
        self.assertTrue(pids, "no ffmpeg child")
        st.signal(signal.SIGKILL)
        st.proc.wait(5)
        t0 = time.monotonic()
        gone = harness.wait_until(lambda: not any(harness.pid_alive(p) for p in pids), 2, 0.02)
        self.assertTrue(gone, "ffmpeg %s outlived retrovue by 2 s" % [
            p for p in pids if harness.pid_alive(p)])
        sys.stderr.write("[children gone %.2f s after SIGKILL] " % (time.monotonic() - t0))

    def test_restart_continues_media_sequence(self):
        st = self.station().start()
        st.wait_playlist("1", 2)
        last = st.playlist("1")["segments"][-1]["seq"]
        self.assertEqual(st.stop(), 0)
        saved = st.db_query("SELECT next_seq FROM channel_state WHERE channel='1'")
        self.assertTrue(saved, "no channel_state row")
        self.assertGreater(saved[0][0], last)
        # SIGTERM, then start again with the same state dir
        st.start()
        pl = st.wait_playlist("1", 1)
        self.assertGreater(pl["media_sequence"], last, "sequence reused after a restart")
        self.assertGreater(pl["segments"][0]["seq"], last)
        # SIGKILL, then start again: still above everything published before
        pl = st.wait_playlist("1", 2)
        last = pl["segments"][-1]["seq"]
        st.signal(signal.SIGKILL)
        st.proc.wait(5)
        st.start()
        pl = st.wait_playlist("1", 1)
        self.assertGreater(pl["segments"][0]["seq"], last,
                           "sequence reused after retrovue was killed")

    # ---------------------------------------------------------------- media

    def test_missing_media_file_keeps_channel_on_air(self):
        st = self.station(copy_media=True).start()
        st.wait_playlist("1", 1)
        # Delete the next item while the current one has time left.
        while True:
            status, ch = st.get_json("/api/channels/1")
            self.assertEqual(status, 200)
            left = harness.parse_pdt(ch["now"]["end"]) - time.time()
            if left > 3:
                break
            time.sleep(left + 0.2)
        doomed = ch["next"]["path"]
        slot_start = harness.parse_pdt(ch["next"]["start"])
        slot_end = harness.parse_pdt(ch["next"]["end"])
        self.assertTrue(doomed.startswith(st.media_dir), doomed)
        os.unlink(doomed)
        self.assertLess(slot_end, time.time() + 25)
        # New segments keep coming through the missing item's time.
        t_end = time.monotonic() + 25
        newest = self.newest(st)
        first = newest
        t_last_new = time.monotonic()
        worst = 0.0
        while time.monotonic() < t_end:
            self.assertIsNone(st.proc.poll(), "retrovue exited\n" + st.log_tail())
            n = self.newest(st)
            now = time.monotonic()
            if n is not None and n > newest:
                newest = n
                t_last_new = now
            worst = max(worst, now - t_last_new)
            time.sleep(0.2)
        self.assertLess(worst, 6.0, "no new segment for %.1f s\n%s" % (worst, st.log_tail()))
        self.assertGreaterEqual(newest - first, 9, "only %d new segments in 25 s" % (newest - first))
        self.assertIn("%s is missing at air time" % doomed, st.log())
        rows = st.db_query("SELECT message FROM events WHERE kind='missing'")
        self.assertIn((doomed,), rows)
        # What aired in the missing item's slot is real, decodable video.
        pl = st.playlist("1")
        inside = [s for s in pl["segments"] if slot_start + 1 < s["pdt"] < slot_end - 3]
        self.assertTrue(inside, "no segment in the missing item's slot")
        seg = st.fetch_segment("1", inside[0])
        rc, errors = harness.decode_check(seg)
        self.assertEqual(rc, 0, errors)

    def test_live_encode_for_non_house_media(self):
        st = self.station({"1": [self.fx["odd"]]}).start()
        pl = st.wait_playlist("1", 2, timeout=25)
        status, ch = st.get_json("/api/channels/1")
        self.assertEqual(ch["mode"], "live")
        self.assertIn("encoding live", st.log())
        seg = st.fetch_segment("1", pl["segments"][-1])
        types = harness.ts_check(seg, want_whole=True)
        self.assertEqual(sorted(types.values()), [STREAM_TYPE_AAC, STREAM_TYPE_H264])
        streams, packets = harness.ffprobe_packets(seg)
        v = [s for s in streams if s["codec_type"] == "video"][0]
        a = [s for s in streams if s["codec_type"] == "audio"][0]
        self.assertEqual((v["codec_name"], v["width"], v["height"]), ("h264", 640, 480))
        self.assertEqual(v["r_frame_rate"], "30000/1001")
        self.assertEqual((a["codec_name"], int(a["sample_rate"]), a["channels"]), ("aac", 48000, 2))
        video = [p for p in packets if p["codec_type"] == "video"]
        self.assertIn("K", video[0]["flags"])
        self.assertAlmostEqual(pl["segments"][-1]["duration"], harness.SEGMENT_SECONDS, delta=0.05)
        rc, errors = harness.decode_check(seg)
        self.assertEqual(rc, 0, errors)

    def test_live_runs_end_where_the_decoders_change(self):
        """Live encoding a playlist that mixes containers and codecs (house MPEG-TS with
        H.264, then an MP4 with MPEG-4 video and 44.1 kHz audio): one ffmpeg run cannot
        decode both (the concat input keeps the first file's parameters), so each run
        ends at the item boundary and the next opens the other file with fresh
        decoders. The channel never stalls and every segment decodes cleanly."""
        st = self.station({"1": {"playlist": [self.fx["a"], self.fx["odd"]], "mode": "live"}})
        st.start()
        st.wait_playlist("1", 2, timeout=25)
        self.assertTrue(st.wait_log("needs other decoders", 30), st.log_tail())
        # Clients reading across the break: no corrupt packets, no timestamps going back,
        # in HLS and in the continuous MPEG-TS. They start as the run ends, so the new
        # run's first segments (about 3 s later) fall inside what they read.
        base = "http://127.0.0.1:%d" % st.port
        readers = [subprocess.Popen([harness.FFMPEG, "-nostdin", "-v", "warning", "-i", base + path,
                                     "-t", "10", "-f", "null", "-"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                   for path in ("/channel/1.m3u8", "/channel/1.ts")]
        for r, path in zip(readers, ("HLS", "TS")):
            _, err = r.communicate(timeout=60)
            self.assertEqual((r.returncode, err.decode(errors="replace").strip()), (0, ""), path)
        self.assertTrue(st.wait_log("for a change of decoder; the next run starts now", 10),
                        st.log_tail())
        # Both directions: into the MP4 and back into the house file.
        self.assertTrue(harness.wait_until(
            lambda: st.log().count("needs other decoders") >= 2, 30), st.log_tail())
        pl = st.wait_playlist("1", 6, timeout=20)
        log = st.log()
        self.assertNotIn("stalled", log)
        self.assertNotIn("killed by signal", log)
        self.assertNotIn("Error while decoding", log)
        for seg in pl["segments"][-6:]:
            rc, errors = harness.decode_check(st.fetch_segment("1", seg))
            self.assertEqual(rc, 0, errors)
        status, ch = st.get_json("/api/channels/1")
        self.assertEqual((status, ch["mode"]), (200, "live"))

    def test_scheduled_channels_choose_copy_or_live_each(self):
        """The encode decision is per channel: a scheduled channel whose schedule airs
        only house-format media copies, while one that can air a non-house file
        encodes live (until that file is conformed), from the same library."""
        fx = self.fx
        library = {"series": {"house-show": {"title": "House Show", "files": [fx["a"], fx["b"]]},
                              "odd-show": {"title": "Odd Show", "files": [fx["odd"]]}},
                   "pools": {"filler": [fx["c"]]}}
        st = self.station({}, main={"library": library, "conform": {"jobs": 0}})
        for number, series in (("10", "house-show"), ("11", "odd-show")):
            with open(st.channel_file(number), "w") as f:
                json.dump({"number": number, "name": series, "schedule": {
                    "days_ahead": 3, "breaks": {"filler": "filler"},
                    "blocks": [{"days": "daily", "start": "00:00", "end": "24:00", "slot": "30m",
                                "series": series}]}}, f)
        st.start()
        for number in ("10", "11"):
            st.wait_playlist(number, 1, timeout=25)
        self.assertEqual(st.get_json("/api/channels/10")[1]["mode"], "copy")
        self.assertEqual(st.get_json("/api/channels/11")[1]["mode"], "live")
        self.assertRegex(st.log(), r"\[ch 11\].*live encode: not in the house format yet: .*%s"
                         % re.escape(os.path.basename(fx["odd"])))

    # ---------------------------------------------------------------- reload

    def test_sighup_reload(self):
        st = self.station().start()
        st.wait_playlist("1", 1)
        pid = st.pid
        # A broken channel file: the running configuration stays, the error is located.
        with open(st.channel_file("2"), "w") as f:
            f.write('{\n  "number": "2",\n  "name": 42,\n  "playlist": ["%s"]\n}\n' % self.fx["b"])
        st.signal(signal.SIGHUP)
        self.assertTrue(st.wait_log("reload failed", 5), st.log_tail())
        self.assertRegex(st.log(), r"channels/2\.json:3:11: \$\.name: expected a string")
        self.assertIsNone(st.proc.poll(), "retrovue exited on a bad reload")
        self.assertEqual(st.pid, pid)
        n = self.newest(st)
        self.assertTrue(harness.wait_until(lambda: (self.newest(st) or -1) > n, 6),
                        "channel 1 stopped airing after a failed reload")
        status, chans = st.get_json("/api/channels")
        self.assertEqual([c["number"] for c in chans], ["1"])
        # Fixed: the next SIGHUP starts channel 2.
        st.write_channel("2", {"name": "Two", "playlist": [self.fx["b"], self.fx["c"]]})
        st.signal(signal.SIGHUP)
        self.assertTrue(st.wait_log("configuration reloaded: 2 channels", 5), st.log_tail())
        st.wait_playlist("2", 1, timeout=15)
        status, chans = st.get_json("/api/channels")
        self.assertEqual([(c["number"], c["name"]) for c in chans], [("1", "Test 1"), ("2", "Two")])
        self.assertEqual(len(st.ffmpeg_pids()), 2)
        n = self.newest(st)
        self.assertTrue(harness.wait_until(lambda: (self.newest(st) or -1) > n, 6),
                        "channel 1 stopped airing after the reload")


if __name__ == "__main__":
    unittest.main(verbosity=2)
