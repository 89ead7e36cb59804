"""
Real players against a running station: VLC (cvlc, run as an unprivileged user
because it refuses root) must decode pictures from the HLS playlist and from the
continuous MPEG-TS stream, and ffmpeg must read the HLS stream end to end.
"""

import os
import pwd
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def vlc_user():
    """An unprivileged account to run cvlc as, or None when we already are one."""
    if os.getuid() != 0:
        return None
    for name in ("nobody", "daemon"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    return None


class Clients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        f = harness.fixtures()
        cls.st = harness.Station({"1": {"name": "Clients", "playlist": [f["a"], f["b"]]}})
        try:
            cls.st.start()
            cls.st.wait_playlist("1", min_segments=2, timeout=20)
        except BaseException:
            cls.st.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.st.cleanup()

    def run_vlc(self, path):
        cvlc = shutil.which("cvlc")
        if cvlc is None:
            self.fail("cvlc is not installed (scripts/setup test installs vlc-bin)")
        cmd = [cvlc, "-I", "dummy", "--vout=dummy", "--aout=dummy", "--play-and-exit",
               "--run-time=5", "-vv", "http://127.0.0.1:%d" % self.st.port + path]
        user = vlc_user()
        if user is not None:
            cmd = ["runuser", "-u", user, "--"] + cmd
        env = dict(os.environ, HOME="/tmp")
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                             timeout=40).stdout.decode("utf-8", "replace")
        return out

    def test_vlc_plays_hls(self):
        out = self.run_vlc("/channel/1.m3u8")
        self.assertIn("Received first picture", out, out[-3000:])

    def test_vlc_plays_continuous_ts(self):
        out = self.run_vlc("/channel/1.ts")
        self.assertIn("Received first picture", out, out[-3000:])

    def test_ffmpeg_reads_hls(self):
        # ffmpeg as an HLS client: 6 s of the live stream decode without errors.
        r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", "http://127.0.0.1:%d" % self.st.port + "/channel/1.m3u8",
                            "-t", "6", "-f", "null", "-"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-2000:])
        self.assertEqual(r.stderr.decode().strip(), "", "decode errors: " + r.stderr.decode()[-2000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
