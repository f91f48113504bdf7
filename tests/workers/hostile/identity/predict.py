"""Report who and where this model is: its uid, its capabilities, and the kernel it talks to
(/proc/version, and the kernel's log as syslog(2) shows it: gVisor's boot messages there)."""

import ctypes
import json
import os
from pathlib import Path

status = dict(
    line.split(":\t", 1)
    for line in Path("/proc/self/status").read_text().splitlines()
    if ":\t" in line
)
buffer = ctypes.create_string_buffer(1 << 16)
read = ctypes.CDLL(None, use_errno=True).klogctl(3, buffer, len(buffer))  # SYSLOG_ACTION_READ_ALL
found = {
    "uid": os.getuid(),
    "gid": os.getgid(),
    "groups": os.getgroups(),
    "cap_effective": status.get("CapEff", "").strip(),
    "cap_bounding": status.get("CapBnd", "").strip(),
    "no_new_privs": status.get("NoNewPrivs", "").strip(),
    "proc_version": Path("/proc/version").read_text().strip(),
    "dmesg": buffer.raw[:read].decode(errors="replace")
    if read > 0
    else os.strerror(ctypes.get_errno()),
}
(Path(os.environ["HUIYAN_OUTPUT"]) / "identity.json").write_text(json.dumps(found))
