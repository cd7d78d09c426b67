#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""footprint.py - netbe-host's footprint: idle RSS, start-up to serving, and loading and
connecting 64 backends, each next to QEMU doing the same forwarding job in the same run
(when qemu-system-x86_64 is installed) and to the floor of starting any process.

Usage: bench/core/footprint.py [--build BUILD] [--runs N] [--json FILE]
"""
import argparse, json, os, shutil, socket, statistics, subprocess, tempfile, time

BASE_PORT = 21000


def wait_unix(path, timeout=10.0, request=None):
    """Connect to a UNIX socket until it answers; returns seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            if request:
                s.sendall(request)
            data = s.recv(4096)
            s.close()
            if data:
                return time.monotonic() - t0
        except OSError:
            time.sleep(0.0005)
    raise RuntimeError(f"{path} did not answer within {timeout}s")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def netbe_config(n, port):
    lines = []
    for i in range(n):
        lines += [f"[netdev.n{i}]", "type = socket",
                  f"localaddr = 127.0.0.1:{port + i}", f"udp = 127.0.0.1:{port + 500 + i}"]
    lines += ["[hub.h]", "ports = " + ", ".join(f"n{i}" for i in range(n))]
    return "\n".join(lines) + "\n"


def qemu_args(n, port, qmp):
    args = ["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none",
            "-monitor", "none", "-qmp", f"unix:{qmp},server=on,wait=off"]
    for i in range(n):
        args += ["-netdev", f"dgram,id=n{i},local.type=inet,local.host=127.0.0.1,"
                 f"local.port={port + i},remote.type=inet,remote.host=127.0.0.1,"
                 f"remote.port={port + 500 + i}",
                 "-netdev", f"hubport,id=p{i},hubid=0,netdev=n{i}"]
    return args


def run_netbe(build, tmp, n, port):
    """Start netbe-host with n backends on a hub; returns (startup s, rss KiB, load ms)."""
    ini = os.path.join(tmp, f"bench-{n}.ini")
    ctl = os.path.join(tmp, f"ctl-{n}.sock")
    with open(ini, "w") as f:
        f.write(netbe_config(n, port))
    t0 = time.monotonic()
    p = subprocess.Popen([os.path.join(build, "host", "netbe-host"), "-c", ini, "--control", ctl],
                         stderr=subprocess.PIPE, text=True)
    try:
        wait_unix(ctl, request=b"{\"command\":\"status\"}\n")
        startup = time.monotonic() - t0
        time.sleep(0.3)
        rss = rss_kib(p.pid)
    finally:
        p.terminate()
        _, err = p.communicate(timeout=10)
    load_ms = None
    for line in err.splitlines():
        if "serving" in line and " in " in line:
            load_ms = float(line.rsplit(" in ", 1)[1].split()[0])
    return startup, rss, load_ms


def run_qemu(tmp, n, port):
    qmp = os.path.join(tmp, f"qmp-{n}.sock")
    t0 = time.monotonic()
    p = subprocess.Popen(qemu_args(n, port, qmp), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        wait_unix(qmp)
        startup = time.monotonic() - t0
        time.sleep(0.3)
        rss = rss_kib(p.pid)
    finally:
        p.terminate()
        p.wait(timeout=10)
    return startup, rss


def run_floor():
    t0 = time.monotonic()
    subprocess.run(["/bin/true"], check=True)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--json", default="bench-results/footprint.json")
    a = ap.parse_args()
    have_qemu = shutil.which("qemu-system-x86_64") is not None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (2, 64):
            nb = [run_netbe(a.build, tmp, n, BASE_PORT + 1000 * (n == 64)) for _ in range(a.runs)]
            qm = [run_qemu(tmp, n, BASE_PORT + 2000 + 1000 * (n == 64)) for _ in range(a.runs)] \
                if have_qemu else []
            floor = statistics.median(run_floor() for _ in range(a.runs))
            row = {
                "backends": n,
                "netbe_startup_ms": statistics.median(x[0] for x in nb) * 1e3,
                "netbe_rss_kib": statistics.median(x[1] for x in nb),
                "netbe_load_connect_ms": statistics.median(x[2] for x in nb if x[2] is not None),
                "process_floor_ms": floor * 1e3,
            }
            if qm:
                row["qemu_startup_ms"] = statistics.median(x[0] for x in qm) * 1e3
                row["qemu_rss_kib"] = statistics.median(x[1] for x in qm)
                row["rss_ratio_netbe_qemu"] = row["netbe_rss_kib"] / row["qemu_rss_kib"]
                row["startup_ratio_netbe_qemu"] = row["netbe_startup_ms"] / row["qemu_startup_ms"]
            row["startup_ratio_netbe_floor"] = row["netbe_startup_ms"] / row["process_floor_ms"]
            rows.append(row)
    print(f"netbe-host footprint: hub + N socket (udp) backends, median of {a.runs} runs")
    print(f"{'N':>3} {'netbe RSS':>10} {'QEMU RSS':>9} {'ratio':>6} {'netbe start':>12} "
          f"{'QEMU start':>11} {'ratio':>6} {'floor':>7} {'load+connect':>13}")
    for r in rows:
        q_rss = f"{r['qemu_rss_kib'] / 1024:.1f}M" if "qemu_rss_kib" in r else "n/a"
        q_st = f"{r['qemu_startup_ms']:.1f}ms" if "qemu_startup_ms" in r else "n/a"
        print(f"{r['backends']:>3} {r['netbe_rss_kib'] / 1024:>9.1f}M {q_rss:>9} "
              f"{r.get('rss_ratio_netbe_qemu', float('nan')):>6.2f} "
              f"{r['netbe_startup_ms']:>10.1f}ms {q_st:>11} "
              f"{r.get('startup_ratio_netbe_qemu', float('nan')):>6.2f} "
              f"{r['process_floor_ms']:>5.1f}ms {r['netbe_load_connect_ms']:>11.2f}ms")
    print("start = spawn until the control socket (netbe) / QMP socket (QEMU) answers;"
          " floor = spawn and reap /bin/true; load+connect = netbe-host's own measure from"
          " reading the config to serving (plugins loaded, backends initialised and connected)")
    os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"benchmark": "footprint", "runs": a.runs, "rows": rows}, f, indent=2)
    print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
