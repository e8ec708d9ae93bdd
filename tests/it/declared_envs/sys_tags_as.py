# Runs packaging's own `packaging.tags.sys_tags()` as if on a foreign machine: every probe
# packaging makes of the running interpreter and OS is answered with what that machine's
# interpreter would answer, and packaging's code computes the list. Reads a JSON list of
# machines on stdin, prints a JSON list of tag lists.
#
# The answers, and where packaging asks for them:
#   sys.implementation.name, sys.version_info  interpreter name and version
#   sysconfig.get_config_var                   Py_DEBUG (release build), Py_GIL_DISABLED,
#                                              WITH_PYMALLOC, py_version_nodot, EXT_SUFFIX
#   platform.system                            which platform ladder
#   sysconfig.get_platform                     win-amd64, linux-aarch64, ...
#   platform.mac_ver                           the macOS release and machine
#   _manylinux._get_glibc_version              glibc of the machine ((-1, -1): none)
#   _manylinux._have_compatible_abi            the interpreter's ELF matches its architecture
#   _manylinux._get_manylinux_module           no `_manylinux` override module installed
#   _musllinux._get_musl_version               musl of the machine (None: not musl)
import json
import platform
import sys
import sysconfig
import types

from packaging import _manylinux, _musllinux, tags

machines = json.load(sys.stdin)
results = []
for m in machines:
    config = {
        "Py_DEBUG": 0,
        "Py_GIL_DISABLED": 1 if m["free_threaded"] else 0,
        "WITH_PYMALLOC": None if m["system"] == "Windows" else 1,
        "py_version_nodot": "%d%d" % tuple(m["python"]),
        "EXT_SUFFIX": m["ext_suffix"],
    }
    tags._get_config_var = lambda name, warn=False, config=config: config.get(name)
    sys.implementation = types.SimpleNamespace(name=m["implementation"])
    sys.version_info = (m["python"][0], m["python"][1], 0, "final", 0)
    platform.system = lambda m=m: m["system"]
    sysconfig.get_platform = lambda m=m: m["sysconfig_platform"]
    mac = m.get("mac_ver") or ["", ""]
    platform.mac_ver = lambda mac=mac: (mac[0], ("", "", ""), mac[1])
    glibc = m.get("glibc") or [-1, -1]
    _manylinux._get_glibc_version = lambda glibc=glibc: _manylinux._GLibCVersion(*glibc)
    _manylinux._have_compatible_abi = lambda executable, archs: True
    _manylinux._get_manylinux_module = lambda: None
    musl = m.get("musl")
    _musllinux._get_musl_version = lambda executable, musl=musl: (
        _musllinux._MuslVersion(*musl) if musl else None
    )
    results.append([str(tag) for tag in tags.sys_tags()])
print(json.dumps(results))
