"""
The command line without a running station: `retrovue check`, `--help`,
`--version`, and `serve` refusing a broken configuration.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BIN = harness.RETROVUE_BIN
LOCATED = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<path>\$[^ :]*): (?P<msg>.+)$")


def run(*args, timeout=20):
    return subprocess.run([BIN, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, text=True)


class Check(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="retrovue-e2e-check-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, rel, text):
        path = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def broken_config(self):
        """A config with one syntax error and several schema errors at known places."""
        cfg = os.path.join(self.tmp, "cfg")
        self.write("cfg/retrovue.json", '{\n  "server": {\n    "listen": 8080\n  }\n}\n')
        self.write("cfg/channels/1.json",
                   '{\n  "number": "1",\n  "name": 42,\n  "playlist": ["a.ts"]\n}\n')
        self.write("cfg/channels/2.json",
                   '{\n  "number": "2",\n  "name": "Two",\n  "playlist": ["a.ts",]\n}\n')
        self.write("cfg/channels/3.json",
                   '{\n  "number": "3",\n  "name": "Three",\n  "mode": "fast",\n'
                   '  "playlist": ["a.ts"],\n  "colour": "red"\n}\n')
        return cfg

    # ---- check

    def test_demo_config_passes(self):
        demo = os.path.join(harness.SOURCE_DIR, "examples", "demo")
        self.assertTrue(os.path.isdir(demo), "no demo config at %s" % demo)
        chans = os.path.join(demo, "channels")
        jsons = [n for n in os.listdir(chans) if n.endswith(".json")] if os.path.isdir(chans) else []
        if not jsons:
            self.fail("%s has no channel files: the demo configuration that README.md and "
                      "scripts/demo use (retrovue.json + channels/*.json) is not in the tree" % demo)
        r = run("check", "--config", demo)
        self.assertEqual(r.returncode, 0, "check of the demo config failed:\n%s%s" % (
            r.stdout, r.stderr))
        self.assertIn("OK", r.stdout)
        m = re.search(r"OK, (\d+) channels?, (\d+) playlist items", r.stdout)
        self.assertTrue(m, r.stdout)
        self.assertGreaterEqual(int(m.group(1)), 1)
        # Media not generated yet is only a warning, one line per missing file.
        for line in r.stderr.splitlines():
            self.assertIn("warning", line, "unexpected output: " + line)

    def test_missing_media_only_warns(self):
        cfg = os.path.join(self.tmp, "ok")
        self.write("ok/retrovue.json", json.dumps({"server": {"listen": "127.0.0.1:1"}}))
        self.write("ok/channels/7.json", json.dumps(
            {"number": "7", "name": "Seven", "playlist": ["media/nothing-here.ts",
                                                          harness.fixtures()["a"]]}))
        r = run("check", "--config", cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("OK, 1 channel, 2 playlist items (1 missing media file)", r.stdout)
        self.assertRegex(r.stderr, r"warning: channel 7: media file .*/media/nothing-here\.ts is missing")

    def test_broken_config_is_located(self):
        cfg = self.broken_config()
        r = run("check", "--config", cfg)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stderr.splitlines()
        self.assertTrue(lines)
        summary = lines[-1]
        located = lines[:-1]
        self.assertRegex(summary, r"^%s: \d+ errors?$" % re.escape(cfg))
        self.assertEqual(int(re.search(r"(\d+) error", summary).group(1)), len(located))
        for line in located:
            self.assertRegex(line, LOCATED, "not FILE:LINE:COL: $.path: message")
        got = set(located)
        expect = [
            "%s/retrovue.json:3:15: $.server.listen: expected a string like \"0.0.0.0:8080\", "
            "found a number" % cfg,
            "%s/channels/1.json:3:11: $.name: expected a string, found a number" % cfg,
            "%s/channels/2.json:4:22: $.playlist: trailing comma is not allowed" % cfg,
            "%s/channels/3.json:4:11: $.mode: expected one of: auto, copy, live; found \"fast\""
            % cfg,
        ]
        for want in expect:
            self.assertIn(want, got, "\n".join(located))
        unknown = [ln for ln in located if "channels/3.json:6:3: $.colour: unknown key" in ln]
        self.assertTrue(unknown, "\n".join(located))
        self.assertEqual(r.stdout, "")

    def test_usage_errors(self):
        r = run("check")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--config", r.stderr)
        r = run("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("frobnicate", r.stderr)
        r = run()
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)
        r = run("check", "--config", os.path.join(self.tmp, "does-not-exist"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("does-not-exist", r.stderr)

    # ---- help and version

    def test_help_and_version(self):
        for args in (["--help"], ["-h"], ["help"]):
            r = run(*args)
            with self.subTest(args=args):
                self.assertEqual(r.returncode, 0)
                self.assertIn("usage: retrovue", r.stdout)
                self.assertIn("serve", r.stdout)
                self.assertIn("check", r.stdout)
        for args in (["serve", "--help"], ["check", "--help"]):
            r = run(*args)
            with self.subTest(args=args):
                self.assertEqual(r.returncode, 0)
                self.assertIn("usage", r.stdout)
        for args in (["--version"], ["-V"]):
            r = run(*args)
            with self.subTest(args=args):
                self.assertEqual(r.returncode, 0)
                self.assertRegex(r.stdout, r"^retrovue \d+\.\d+\.\d+\n$")

    # ---- serve

    def test_serve_refuses_broken_config(self):
        cfg = self.broken_config()
        port = harness.free_port()
        r = run("serve", "--config", cfg, "--listen", "127.0.0.1:%d" % port,
                "--state", os.path.join(self.tmp, "state"), timeout=15)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"%s/channels/1\.json:3:11: \$\.name: expected a string"
                         % re.escape(cfg))
        self.assertIn("retrovue.json:3:15: $.server.listen", r.stderr)
        # It did not start airing anything.
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "state", "channels")))

    def test_serve_refuses_bad_options(self):
        cfg = os.path.join(self.tmp, "ok")
        self.write("ok/channels/1.json", json.dumps(
            {"number": "1", "name": "One", "playlist": [harness.fixtures()["a"]]}))
        r = run("serve", "--config", cfg, "--listen", "nonsense", timeout=15)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--listen nonsense", r.stderr)
        r = run("serve", "--config", cfg, "--clock-rate", "0", timeout=15)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--clock-rate", r.stderr)
        r = run("serve", timeout=15)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--config", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
