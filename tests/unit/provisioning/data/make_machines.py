"""Writes the trees in machines/ for test_check.py (run: python make_machines.py machines; the output is committed).

Figures are those of real models (memory, CPU, disks, panels); the files are laid out as the kernel shows them.
"""
import sys
from pathlib import Path

BASE = Path(sys.argv[1])

def edid(w_cm, h_cm):
    b = bytearray(128)
    b[:8] = b"\x00\xff\xff\xff\xff\xff\xff\x00"
    b[8:10] = b"\x30\xae"  # manufacturer LEN
    b[18], b[19] = 1, 4    # EDID 1.4
    b[21], b[22] = w_cm, h_cm
    b[127] = (-sum(b[:127])) % 256
    return bytes(b)

def word(*bits):
    v = 0
    for bit in bits:
        v |= 1 << bit
    return f"{v:x}"

MT = word(0, 1, 47, 53, 54, 57)  # ABS_X, ABS_Y, ABS_MT_SLOT, ABS_MT_POSITION_X/Y, ABS_MT_TRACKING_ID

def inputs(touch_name=None):
    blocks = ['I: Bus=0011 Vendor=0001 Product=0001 Version=ab41\nN: Name="AT Translated Set 2 keyboard"\n'
              'P: Phys=isa0060/serio0/input0\nH: Handlers=sysrq kbd event0\nB: PROP=0\nB: EV=120013\n',
              'I: Bus=0018 Vendor=06cb Product=7e7e Version=0100\nN: Name="SYNA8004:00 06CB:CD8B Touchpad"\n'
              f'H: Handlers=mouse0 event5\nB: PROP=5\nB: EV=1b\nB: ABS={MT}\n']
    if touch_name:
        blocks.append(f'I: Bus=0018 Vendor=056a Product=5146 Version=0100\nN: Name="{touch_name}"\n'
                      f'H: Handlers=mouse1 event7\nB: PROP=2\nB: EV=1b\nB: ABS={MT}\n')
    return "\n".join(blocks)

def cpuinfo(model, threads, flags):
    return "\n".join(f"processor\t: {i}\nvendor_id\t: GenuineIntel\nmodel name\t: {model}\nflags\t\t: {flags}\n"
                     for i in range(threads))

MODERN = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht " \
         "syscall nx lm constant_tsc pni pclmulqdq ssse3 cx16 sse4_1 sse4_2 popcnt aes xsave avx avx2"
OLD32 = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat clflush dts acpi mmx fxsr sse sse2 ss " \
        "ht tm pbe nx constant_tsc arch_perfmon pebs bts pni dtes64 monitor ds_cpl est tm2 ssse3 xtpr pdcm movbe"

MACHINES = {
    "good-laptop": dict(
        vendor="LENOVO", product="20JH002QGE", version="ThinkPad Yoga 370", bios="06/12/2017", mem=8019284,
        cpu=("Intel(R) Core(TM) i5-7300U CPU @ 2.60GHz", 4, MODERN), online="0-3",
        disks={"nvme0n1": (500118192, 0)}, video=[("Integrated Camera: Integrated C", 0), ("Integrated Camera: Integrated C", 1)],
        pcm="00-00: ALC3268 Analog : ALC3268 Analog : playback 1 : capture 1\n00-03: HDMI 0 : HDMI 0 : playback 1\n",
        battery=dict(kind="energy", design=51000000, full=45400000, cycles=212),
        panel=("card0-eDP-1", "1920x1080", edid(29, 17)), touch="Wacom Pen and multitouch sensor Finger",
        pci={"0000:00:02.0": ("0x030000", "8086:5916", "i915", "card0"),
             "0000:00:1f.3": ("0x040300", "8086:9d71", "snd_hda_intel", None),
             "0000:04:00.0": ("0x028000", "8086:24fd", "iwlwifi", "wlp4s0")}),
    "worn-tablet": dict(
        vendor="LENOVO", product="20E3001NGE", version="ThinkPad 10 2nd Gen", bios="03/22/2016", mem=3926116,
        cpu=("Intel(R) Atom(TM) x7-Z8750  CPU @ 1.60GHz", 4, MODERN), online="0-3",
        disks={"mmcblk0": (122142720, 0), "mmcblk0boot0": (8192, 0), "sda": (31260672, 0)},
        removable={"sda": 1}, video=[("USB2.0 HD UVC WebCam: USB2.0 HD", 0), ("USB2.0 HD UVC WebCam: USB2.0 HD", 1)],
        pcm="00-00: Audio (*) :  : playback 1 : capture 1\n",
        battery=dict(kind="charge", design=4700000, full=1650000, cycles=951),
        panel=("card0-DSI-1", "1920x1200", edid(22, 14)), touch="ATML1000:00 03EB:8C0E",
        pci={"0000:00:02.0": ("0x030000", "8086:22b0", "i915", "card0"),
             "0000:01:00.0": ("0x028000", "8086:095a", "iwlwifi", "wlp1s0")}),
    "netbook": dict(
        vendor="ASUSTeK Computer INC.", product="1005HA", version="x.x", bios="08/21/2009", mem=1016620,
        cpu=("Intel(R) Atom(TM) CPU N280   @ 1.66GHz", 2, OLD32), online="0-1",
        disks={"sda": (312581808, 1), "loop0": (100000, 0)}, video=[("USB 2.0 Camera", 0)],
        pcm="00-00: ALC269 Analog : ALC269 Analog : playback 1 : capture 1\n",
        battery=dict(kind="charge", design=4400000, full=1900000, cycles=None),
        panel=("card0-LVDS-1", "1024x600", edid(22, 13)), touch=None,
        pci={"0000:00:02.0": ("0x030000", "8086:27ae", "i915", "card0"),
             "0000:00:02.1": ("0x038000", "8086:27a6", None, None),  # the GMA 950's second head: no driver takes it
             "0000:00:1b.0": ("0x040300", "8086:27d8", "snd_hda_intel", None),
             "0000:01:00.0": ("0x028000", "168c:002b", "ath9k", "wlan0"),
             "0000:02:00.0": ("0x020000", "1969:1062", "atl1c", "eth0")}),
}

for name, m in MACHINES.items():
    root = BASE / name
    def put(rel, content):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    dmi = "sys/class/dmi/id"
    put(f"{dmi}/sys_vendor", m["vendor"] + "\n")
    put(f"{dmi}/product_name", m["product"] + "\n")
    put(f"{dmi}/product_version", m["version"] + "\n")
    put(f"{dmi}/bios_date", m["bios"] + "\n")
    put("proc/meminfo", f"MemTotal:       {m['mem']} kB\nMemFree:         {m['mem'] // 3} kB\n")
    put("proc/cpuinfo", cpuinfo(*m["cpu"]))
    put("sys/devices/system/cpu/online", m["online"] + "\n")
    for disk, (sectors, rot) in m["disks"].items():
        put(f"sys/block/{disk}/size", f"{sectors}\n")
        put(f"sys/block/{disk}/removable", f"{m.get('removable', {}).get(disk, 0)}\n")
        put(f"sys/block/{disk}/queue/rotational", f"{rot}\n")
    for i, (vname, index) in enumerate(m["video"]):
        put(f"sys/class/video4linux/video{i}/name", vname + "\n")
        put(f"sys/class/video4linux/video{i}/index", f"{index}\n")
    put("proc/asound/pcm", m["pcm"])
    put("sys/class/power_supply/AC/type", "Mains\n")
    put("sys/class/power_supply/AC/online", "1\n")
    b = m["battery"]
    put("sys/class/power_supply/BAT0/type", "Battery\n")
    put(f"sys/class/power_supply/BAT0/{b['kind']}_full_design", f"{b['design']}\n")
    put(f"sys/class/power_supply/BAT0/{b['kind']}_full", f"{b['full']}\n")
    if b["cycles"] is not None:
        put("sys/class/power_supply/BAT0/cycle_count", f"{b['cycles']}\n")
    connector, mode, edid_bytes = m["panel"]
    put(f"sys/class/drm/{connector}/status", "connected\n")
    put(f"sys/class/drm/{connector}/modes", mode + "\n")
    put(f"sys/class/drm/{connector}/edid", edid_bytes)
    put("sys/class/drm/card0-HDMI-A-1/status", "disconnected\n")
    put("proc/bus/input/devices", inputs(m["touch"]))
    # PCI devices with their driver, DRM card and network interface; sysfs's links are written as folders (what a
    # copy of /sys holds), so the driver is the DRIVER= of a uevent.
    put("sys/class/net/lo/type", "772\n")
    for slot, (klass, ident, driver, child) in m["pci"].items():
        dev = f"sys/bus/pci/devices/{slot}"
        vendor, device = ident.split(":")
        put(f"{dev}/class", klass + "\n")
        put(f"{dev}/vendor", f"0x{vendor}\n")
        put(f"{dev}/device", f"0x{device}\n")
        uevent = (f"DRIVER={driver}\n" if driver else "") + f"PCI_CLASS={klass[2:].lstrip('0')}\nPCI_SLOT_NAME={slot}\n"
        put(f"{dev}/uevent", uevent)
        if child and child.startswith("card"):
            put(f"{dev}/drm/{child}/dev", "226:0\n")
            put(f"sys/class/drm/{child}/device/uevent", uevent)
        elif child:
            put(f"{dev}/net/{child}/type", "1\n")
            put(f"sys/class/net/{child}/type", "1\n")
            put(f"sys/class/net/{child}/device/uevent", uevent)
            if klass.startswith("0x0280"):
                put(f"sys/class/net/{child}/uevent", f"DEVTYPE=wlan\nINTERFACE={child}\n")
                put(f"sys/class/net/{child}/phy80211/name", "phy0\n")
            else:
                put(f"sys/class/net/{child}/uevent", f"INTERFACE={child}\n")
print("ok")
