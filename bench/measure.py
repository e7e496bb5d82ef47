"""Whole-process-tree figures: CPU time (per process and per thread), PSS/USS, thread wake-ups (context switches)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import psutil


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants that still exist."""
    try:
        root = psutil.Process(pid)
        return [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _switches(pid: int) -> int:
    """Voluntary plus involuntary context switches of every thread of one process."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as status:
                for line in status:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


@dataclass
class Snapshot:
    """CPU seconds and context switches per process (and CPU seconds per thread) at one moment."""

    when: float
    cpu: dict[int, float]
    switches: dict[int, int]
    created: dict[int, float]
    # (pid, tid) -> (role of the process, the thread's name, CPU seconds)
    threads: dict[tuple[int, int], tuple[str, str, float]] = field(default_factory=dict)


def _thread_name(pid: int, tid: int) -> str:
    try:
        with open(f"/proc/{pid}/task/{tid}/comm") as comm:
            return comm.read().strip()
    except OSError:
        return "?"


def snapshot(pid: int, when: float) -> Snapshot:
    cpu, switches, created, threads = {}, {}, {}, {}
    for proc in tree(pid):
        try:
            times = proc.cpu_times()
            cpu[proc.pid] = times.user + times.system
            created[proc.pid] = proc.create_time()
            switches[proc.pid] = _switches(proc.pid)
            kind = "main" if proc.pid == pid else role(proc)
            for thread in proc.threads():
                threads[(proc.pid, thread.id)] = (kind, _thread_name(proc.pid, thread.id),
                                                  thread.user_time + thread.system_time)
        except psutil.NoSuchProcess:
            pass
    return Snapshot(when, cpu, switches, created, threads)


def thread_usage(before: Snapshot, after: Snapshot, top: int = 10) -> list[dict]:
    """The busiest threads between two snapshots, summed by process role and thread name, in % of one core."""
    seconds = after.when - before.when
    summed: dict[tuple[str, str], float] = {}
    for key, (kind, name, value) in after.threads.items():
        # Numbered pools (llvmpipe-0, ThreadPoolForegroundWorker…) are one entry per name; digits stay.
        previous = before.threads.get(key, (kind, name, 0.0))[2]
        summed[(kind, name)] = summed.get((kind, name), 0.0) + value - previous
    busiest = sorted(summed.items(), key=lambda item: -item[1])[:top]
    return [{"role": kind, "thread": name, "cpu": round(100.0 * value / seconds, 1)} for (kind, name), value in busiest]


def usage(before: Snapshot, after: Snapshot, wall_start: float) -> tuple[float, float]:
    """CPU % of one core and wake-ups per second of the tree between two snapshots.

    A process that appeared in between counts from zero when it was created after the first snapshot; processes that
    ended in between are lost (none do while a page just sits there).
    """
    seconds = after.when - before.when
    cpu = switches = 0.0
    for pid, value in after.cpu.items():
        if pid in before.cpu:
            cpu += value - before.cpu[pid]
            switches += after.switches[pid] - before.switches[pid]
        elif after.created[pid] >= wall_start:
            cpu += value
            switches += after.switches[pid]
    return 100.0 * cpu / seconds, switches / seconds


def _memory_infos(pid: int):
    """(process, psutil's full memory info) for each process of the tree that can still be read."""
    for proc in tree(pid):
        try:
            yield proc, proc.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue


def memory(pid: int) -> tuple[float, float, int]:
    """PSS and USS of the whole tree in MiB, and the number of processes."""
    pss = uss = count = 0
    for _, info in _memory_infos(pid):
        pss += info.pss
        uss += info.uss
        count += 1
    return pss / 2**20, uss / 2**20, count


def role(proc: psutil.Process) -> str:
    """What a helper process is: Chromium's --type= (and --utility-sub-type=); zygote children are renderers."""
    kind = sub = ""
    for arg in proc.cmdline():
        if arg.startswith("--type="):
            kind = arg.split("=", 1)[1]
        elif arg.startswith("--utility-sub-type="):
            sub = arg.split("=", 1)[1].rsplit(".", 1)[-1]
    parent = proc.parent()
    if kind == "zygote" and parent is not None and "--type=zygote" in parent.cmdline():
        return "renderer"  # forked from the zygote, so it still carries the zygote's command line
    return f"{kind}:{sub}" if sub else kind or "other"


def roles(pid: int) -> dict[str, tuple[float, float]]:
    """PSS and USS in MiB per role of the tree ('kiosk' is the root process; one role's processes are summed)."""
    found: dict[str, tuple[int, int]] = {}
    for proc, info in _memory_infos(pid):
        try:
            name = "kiosk" if proc.pid == pid else role(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        pss, uss = found.get(name, (0, 0))
        found[name] = (pss + info.pss, uss + info.uss)
    return {name: (round(pss / 2**20, 1), round(uss / 2**20, 1)) for name, (pss, uss) in found.items()}


def _mib(value: int) -> float:
    return round(value / 2**20, 1)


ROLLUP_FIELDS = {"Pss_Anon": "pss_anon", "Pss_File": "pss_file", "Pss_Shmem": "pss_shmem"}


def rollup(pid: int) -> dict[str, int]:
    """PSS split by kind from /proc/<pid>/smaps_rollup, in bytes: anonymous memory (heaps, JIT code, stacks), file
    pages (libraries and data files: what depends on how the files got into the page cache) and shared memory."""
    found = dict.fromkeys(ROLLUP_FIELDS.values(), 0)
    try:
        with open(f"/proc/{pid}/smaps_rollup") as lines:
            for line in lines:
                name, _, value = line.partition(":")
                if name in ROLLUP_FIELDS:
                    found[ROLLUP_FIELDS[name]] = int(value.split()[0]) * 1024
    except (OSError, ValueError):
        pass
    return found


def tree_memory(pid: int) -> dict:
    """The whole tree: PSS, USS and RSS in MiB and the number of processes, and PSS split into Pss_Anon, Pss_File and
    Pss_Shmem (smaps_rollup). RSS counts shared pages in every process that maps them (an upper bound); PSS divides
    them among all processes on the machine that map them."""
    pss = uss = rss = count = 0
    kinds = dict.fromkeys(ROLLUP_FIELDS.values(), 0)
    for proc, info in _memory_infos(pid):
        pss, uss, rss, count = pss + info.pss, uss + info.uss, rss + info.rss, count + 1
        for key, value in rollup(proc.pid).items():
            kinds[key] += value
    return {"pss": _mib(pss), "uss": _mib(uss), "rss": _mib(rss), "procs": count,
            **{key: _mib(value) for key, value in kinds.items()}}


def roles_memory(pid: int) -> dict[str, dict]:
    """PSS, USS and RSS in MiB and the process count per role of the tree: 'main' is the root process (the kiosk's
    Python + Qt + Chromium's browser side; Chromium's browser process), the others Chromium's --type= (see role());
    one role's processes are summed."""
    found: dict[str, list[int]] = {}
    for proc, info in _memory_infos(pid):
        try:
            name = "main" if proc.pid == pid else role(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        sums = found.setdefault(name, [0, 0, 0, 0])
        sums[0] += info.pss
        sums[1] += info.uss
        sums[2] += info.rss
        sums[3] += 1
    return {name: {"pss": _mib(p), "uss": _mib(u), "rss": _mib(r), "procs": n} for name, (p, u, r, n) in found.items()}
