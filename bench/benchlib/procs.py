"""
Reading /proc: CPU ticks, memory (PSS/RSS), I/O and context-switch counters, and a
CPU accounting that stays exact when child processes come and go during a window.

CPU of a running process: utime+stime from /proc/PID/stat (clock ticks, all its
threads). cutime/cstime only count children that have already been waited for, so
the children's CPU is read from each live child; a child that exits during the
window is caught through the parent's cutime+cstime (its whole life) minus what it
had already used when the window began.
"""

import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def read_stat(pid):
    """dict of a process's /proc/PID/stat fields we use, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    comm = data[data.index("(") + 1:data.rindex(")")]
    rest = data[data.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); field N is rest[N - 3].
    return {
        "comm": comm,
        "state": rest[0],
        "ppid": int(rest[1]),
        "ticks": int(rest[11]) + int(rest[12]),    # utime + stime
        "sys": int(rest[12]),                      # stime alone
        "cticks": int(rest[13]) + int(rest[14]),   # cutime + cstime (reaped children)
        "start": int(rest[19]),                    # starttime: tells a reused pid apart
    }


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def alive(pid):
    st = read_stat(pid)
    return st is not None and st["state"] != "Z"


def children(ppid):
    """Direct children of ppid (zombies included), found by scanning /proc."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = read_stat(int(name))
            if st is not None and st["ppid"] == ppid:
                out.append(int(name))
    return sorted(out)


def memory(pid):
    """(pss_kib, rss_kib) from /proc/PID/smaps_rollup, or None."""
    pss = rss = None
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    if pss is None or rss is None:
        return None
    return pss, rss


def counters(pid):
    """I/O and scheduling counters: syscr, syscw, rchar, wchar, vcs, nvcs (None if gone)."""
    out = {}
    try:
        with open("/proc/%d/io" % pid) as f:
            for line in f:
                k, v = line.split(":")
                if k in ("syscr", "syscw", "rchar", "wchar"):
                    out[k] = int(v)
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches:"):
                    out["vcs"] = int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches:"):
                    out["nvcs"] = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
        return None
    return out


def thread_ticks(pid):
    """{"comm": ticks} summed over the threads of pid, by thread name."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid), "rb") as f:
                data = f.read().decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        comm = data[data.index("(") + 1:data.rindex(")")]
        rest = data[data.rindex(")") + 2:].split()
        out[comm] = out.get(comm, 0) + int(rest[11]) + int(rest[12])
    return out


def machine_ticks():
    """(busy, total) jiffies over all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    vals = [int(x) for x in parts[:8]]  # user nice system idle iowait irq softirq steal
    total = sum(vals)
    busy = total - vals[3] - vals[4]
    return busy, total


class Snapshot:
    """CPU state of one side: an optional parent (retrovue) and a set of processes."""

    def __init__(self, root, pids):
        self.root = read_stat(root) if root else None
        self.procs = {}
        self.counters = {}
        for pid in pids:
            st = read_stat(pid)
            if st is not None:
                self.procs[pid] = st
                c = counters(pid)
                if c is not None:
                    self.counters[pid] = c
        self.root_counters = counters(root) if root else None
        self.root_threads = thread_ticks(root) if root else {}


def sys_delta(s0, s1):
    """stime ticks used between two snapshots by the processes alive at both (not the root)."""
    out = 0
    for pid, st in s1.procs.items():
        before = s0.procs.get(pid)
        if before is not None and before["start"] == st["start"]:
            out += st["sys"] - before["sys"]
    return out


def cpu_delta(s0, s1):
    """Ticks used between two snapshots: (root's own, processes'), plus a list of notes."""
    notes = []
    own = 0
    reaped = 0
    if s0.root is not None and s1.root is not None:
        own = s1.root["ticks"] - s0.root["ticks"]
        reaped = s1.root["cticks"] - s0.root["cticks"]
    procs = 0
    for pid, st in s1.procs.items():
        before = s0.procs.get(pid)
        if before is not None and before["start"] == st["start"]:
            procs += st["ticks"] - before["ticks"]
        else:
            procs += st["ticks"]  # started during the window
            notes.append("pid %d (%s) started during the window" % (pid, st["comm"]))
    gone_before = 0
    for pid, st in s0.procs.items():
        after = s1.procs.get(pid)
        if after is None or after["start"] != st["start"]:
            gone_before += st["ticks"]
            notes.append("pid %d (%s) exited during the window" % (pid, st["comm"]))
    if s0.root is not None:
        # Children reaped in the window: their lifetime ticks minus the part before it.
        procs += reaped - gone_before
    elif gone_before:
        notes.append("a process without a parent to account it exited: its CPU is lost")
    return own, procs, notes


def counter_delta(c0, c1):
    """Summed counter deltas over the pids present in both maps."""
    out = {}
    for pid, a in c0.items():
        b = c1.get(pid)
        if b is None:
            continue
        for k, v in b.items():
            out[k] = out.get(k, 0) + v - a.get(k, 0)
    return out
