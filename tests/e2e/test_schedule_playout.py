"""
Real playout of schedules under a warped clock: two scheduled stream-copy channels
air 20 simulated minutes, across the top of an hour, at 20 times real speed. Every item the as-run log records
after the first join must start within one segment duration of its fine-log start,
and no fine-log item in that hour may be skipped.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

RATE = 20
# 20 simulated minutes from 00:50 local, so the top of the hour (station ID, new
# slots) is in the middle; the sanitizer build airs 15 of them, since the same playout
# has just been checked by the normal build.
SIM_SECONDS = 900 if os.environ.get("RETROVUE_SANITIZED") == "1" else 1200
SEGMENT = 2.002
CLOCK_START = "2026-03-08T05:50:00Z"  # 00:50 in New York: crosses the top of an hour


class SchedulePlayout(unittest.TestCase):
    def test_warped_hour_on_two_channels(self):
        f = harness.fixtures()
        st = harness.Station({}, log_level=os.environ.get("RETROVUE_E2E_LOG_LEVEL"))
        try:
            lib = {"series": {"show-a": {"title": "Show A", "files": [f["a"], f["b"]]},
                              "show-b": {"title": "Show B", "files": [f["c"], f["a"]]}},
                   "pools": {"ads": [f["b"], f["c"]], "ids": [f["c"]], "filler": [f["a"]]}}
            main = os.path.join(st.config_dir, "retrovue.json")
            with open(main) as fp:
                doc = json.load(fp)
            doc["library"] = lib
            with open(main, "w") as fp:
                json.dump(doc, fp, indent=2)
            for n, series in (("1", "show-a"), ("2", "show-b")):
                with open(st.channel_file(n), "w") as fp:
                    json.dump({"number": n, "name": "Warp %s" % n, "timezone": "America/New_York",
                               "mode": "copy",
                               "schedule": {"seed": int(n),
                                            "breaks": {"commercials": "ads", "station_id": "ids",
                                                       "filler": "filler", "per_half_hour": 2},
                                            "blocks": [{"days": "daily", "start": "00:00",
                                                        "end": "24:00", "slot": "30m",
                                                        "series": series}]}}, fp)
            st.extra_args = ["--clock-start", CLOCK_START, "--clock-rate", str(RATE)]
            st.start()
            st.wait_playlist("1", min_segments=1, timeout=20)
            st.wait_playlist("2", min_segments=1, timeout=20)
            started = time.monotonic()
            # The API speaks of the schedule: the program on now (not a commercial),
            # the coarse and fine logs, and the as-run log.
            status, ch = st.get_json("/api/channels/1")
            self.assertEqual(status, 200)
            self.assertEqual(ch["programming"], "schedule")
            self.assertIn(ch["now"]["title"], ("Show A", "A", "B"), ch)
            status, coarse = st.get_json("/api/channels/1/schedule?hours=2")
            self.assertEqual(status, 200)
            self.assertGreaterEqual(len(coarse), 4)
            self.assertTrue(all(e["kind"] == "program" for e in coarse), coarse[:3])
            status, fine = st.get_json("/api/channels/2/log?hours=1")
            self.assertEqual(status, 200)
            self.assertIn("commercial", {e["kind"] for e in fine})
            status, day = st.get_json("/api/channels/1/schedule?date=2026-03-08")
            self.assertEqual(status, 200, day)
            status, err = st.get_json("/api/channels/1/schedule?date=March")
            self.assertEqual(status, 400)
            self.assertIn("error", err)
            status, err = st.get_json("/api/channels/99/schedule")
            self.assertEqual(status, 404)
            time.sleep(max(0, SIM_SECONDS / RATE + 2 - (time.monotonic() - started)))
            status, asrun = st.get_json("/api/asrun?channel=2&limit=5")
            self.assertEqual(status, 200)
            self.assertEqual(len(asrun), 5)
            self.assertTrue(all(r["channel"] == "2" for r in asrun))
            st.stop()
            for n in ("1", "2"):
                rows = st.db_query("SELECT scheduled_start, actual_start, note, path FROM as_run"
                                   " WHERE channel = ? ORDER BY id", n)
                self.assertGreater(len(rows), SIM_SECONDS // 80, "channel %s aired too few items" % n)
                joins = [r for r in rows if r[2] == "joined in progress"]
                self.assertEqual(len(joins), 1, "channel %s rejoined the clock mid-run: %r" % (n, joins))
                aired = rows[1:-1]  # the join, and the last item (cut by the stop)
                late = [(r[0], r[1] - r[0]) for r in aired if abs(r[1] - r[0]) > SEGMENT]
                self.assertEqual(late, [], "channel %s: items off their fine-log start by more"
                                 " than a segment: %r" % (n, late[:10]))
                # Nothing skipped: every fine-log item between the first and the last one
                # aired is in the as-run log, in order.
                first_ms = round(rows[1][0] * 1000)
                last_ms = round(rows[-1][0] * 1000)
                fine = st.db_query("SELECT f.start, a.path FROM fine_log f JOIN sched_assets a"
                                   " ON a.id = f.asset WHERE f.channel = ? AND f.start >= ? AND"
                                   " f.start <= ? ORDER BY f.start", n, first_ms, last_ms)
                self.assertEqual([(s, p) for s, p in fine],
                                 [(round(r[0] * 1000), r[3]) for r in rows[1:]],
                                 "channel %s: as-run differs from the fine log" % n)
                span = rows[-1][0] - rows[0][0]
                self.assertGreater(span, SIM_SECONDS * 0.9, "channel %s covered only %.0f s" % (n, span))
        finally:
            st.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
