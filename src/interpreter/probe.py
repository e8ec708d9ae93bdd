# wheelwright interpreter probe. Run as `python -I -c <this file>`; prints one JSON object
# as its last line of output. Standard library only.
#
# `tags` reproduces the order of `packaging.tags.sys_tags()` (packaging 26.x) from the
# behaviour its documentation and PEP 425 / 600 / 656 describe; no code is taken from
# packaging. Exact for CPython and PyPy on Linux (glibc and musl) and for Windows;
# macOS, iOS, Android and Emscripten follow the same rules but are untested here.
#
# No f-strings, so that Python 2 and 3.5 still reach the version check below and print a
# clear message instead of a SyntaxError.

import json
import os
import platform
import re
import struct
import subprocess
import sys
import sysconfig

if sys.version_info < (3, 6):
    sys.stderr.write("wheelwright needs Python 3.6 or newer, found %s\n" % sys.version.split()[0])
    sys.exit(3)

from importlib.machinery import EXTENSION_SUFFIXES  # noqa: E402

IS_32BIT = struct.calcsize("P") == 4
SHORT_NAMES = {"python": "py", "cpython": "cp", "pypy": "pp", "ironpython": "ip", "jython": "jy"}


def config(name):
    return sysconfig.get_config_var(name)


def nodot(version):
    return "".join(str(part) for part in version)


def underscore(text):
    return text.replace(".", "_").replace("-", "_").replace(" ", "_")


# --- PEP 508 environment markers -------------------------------------------------------


def full_version(info):
    version = "%d.%d.%d" % (info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version


def markers():
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


# --- ELF: which loader and ABI the interpreter binary was linked for -------------------


def read_elf(path):
    """Returns (elf_class, little_endian, machine, flags, interpreter) or None."""
    try:
        with open(path, "rb") as f:
            ident = f.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2):
                return None
            is64 = ident[4] == 2
            order = "<" if ident[5] == 1 else ">"
            header = f.read(48 if is64 else 36)
            if is64:
                machine, = struct.unpack(order + "H", header[2:4])
                phoff, = struct.unpack(order + "Q", header[16:24])
                flags, phentsize, phnum = struct.unpack(order + "I2xHH", header[32:42])
            else:
                machine, = struct.unpack(order + "H", header[2:4])
                phoff, = struct.unpack(order + "I", header[12:16])
                flags, phentsize, phnum = struct.unpack(order + "I2xHH", header[20:30])
            interpreter = None
            for index in range(phnum):
                f.seek(phoff + index * phentsize)
                entry = f.read(phentsize)
                if struct.unpack(order + "I", entry[:4])[0] != 3:  # PT_INTERP
                    continue
                if is64:
                    offset, = struct.unpack(order + "Q", entry[8:16])
                    size, = struct.unpack(order + "Q", entry[32:40])
                else:
                    offset, size = struct.unpack(order + "I8xI", entry[4:20])
                f.seek(offset)
                interpreter = f.read(size).rstrip(b"\0").decode("ascii", "replace")
                break
            return (2 if is64 else 1, order == "<", machine, flags, interpreter)
    except (OSError, struct.error, ValueError):
        return None


def elf_is(path, want):
    elf = read_elf(path)
    if elf is None:
        return False
    elf_class, little, machine, flags, _ = elf
    if want == "i686":  # 32-bit little-endian EM_386
        return elf_class == 1 and little and machine == 3
    # armhf: 32-bit little-endian EM_ARM, EABI version 5, hard-float
    return (
        elf_class == 1 and little and machine == 40
        and flags & 0xFF000000 == 0x05000000 and flags & 0x400 == 0x400
    )


# --- Linux: manylinux (PEP 600) and musllinux (PEP 656) --------------------------------


def glibc_version():
    text = None
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION").split()[-1]
    except (AttributeError, OSError, ValueError, IndexError):
        pass
    if not text:
        try:
            import ctypes

            func = ctypes.CDLL(None).gnu_get_libc_version
            func.restype = ctypes.c_char_p
            text = func()
            if isinstance(text, bytes):
                text = text.decode("ascii")
        except (ImportError, OSError, AttributeError):
            text = None
    match = re.match(r"(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else (-1, -1)


def manylinux_hook():
    # An installed `_manylinux` module may veto levels (PEP 600 "Package installers").
    try:
        return __import__("_manylinux")
    except ImportError:
        return None


def manylinux_allowed(hook, arch, version, glibc):
    if glibc < version:
        return False
    if hook is None:
        return True
    if hasattr(hook, "manylinux_compatible"):
        answer = hook.manylinux_compatible(version[0], version[1], arch)
        return True if answer is None else bool(answer)
    legacy = {(2, 5): "manylinux1", (2, 12): "manylinux2010", (2, 17): "manylinux2014"}
    name = legacy.get(version)
    if name and hasattr(hook, name + "_compatible"):
        return bool(getattr(hook, name + "_compatible"))
    return True


LEGACY_MANYLINUX = {(2, 5): "manylinux1", (2, 12): "manylinux2010", (2, 17): "manylinux2014"}
MANYLINUX_ARCHS = ("x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "loongarch64", "riscv64")


def manylinux_tags(archs):
    if "armv7l" in archs:
        abi_ok = elf_is(sys.executable, "armhf")
    elif "i686" in archs:
        abi_ok = elf_is(sys.executable, "i686")
    else:
        abi_ok = any(arch in MANYLINUX_ARCHS for arch in archs)
    if not abi_ok:
        return []
    glibc = glibc_version()
    # manylinux_2_5 is the oldest level on x86; other architectures start at 2_17.
    lowest_minor = 5 if set(archs) & {"x86_64", "i686"} else 17
    # Every glibc 2.x release down to the lowest level; a future glibc 3.y would also
    # accept all 2.x (assumed to end at 2.50, as packaging assumes).
    ceilings = [glibc] + [(major, 50) for major in range(glibc[0] - 1, 1, -1)]
    hook = manylinux_hook()
    tags = []
    for arch in archs:
        for major, top in ceilings:
            bottom = lowest_minor if major == 2 else 0
            for minor in range(top, bottom - 1, -1):
                if not manylinux_allowed(hook, arch, (major, minor), glibc):
                    continue
                tags.append("manylinux_%d_%d_%s" % (major, minor, arch))
                if (major, minor) in LEGACY_MANYLINUX:
                    tags.append("%s_%s" % (LEGACY_MANYLINUX[(major, minor)], arch))
    return tags


def musl_version():
    elf = read_elf(sys.executable)
    loader = elf[4] if elf else None
    if not loader or "musl" not in loader:
        return None
    try:
        # The musl loader run without arguments prints "musl libc (arch)\nVersion 1.2.4".
        proc = subprocess.run([loader], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              universal_newlines=True)
    except OSError:
        return None
    lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].startswith("musl"):
        return None
    match = re.match(r"Version (\d+)\.(\d+)", lines[1])
    return (int(match.group(1)), int(match.group(2))) if match else None


def linux_platforms():
    plat = underscore(sysconfig.get_platform())
    if not plat.startswith("linux_"):
        return [plat]
    if IS_32BIT:
        # A 32-bit interpreter on a 64-bit kernel runs 32-bit code.
        plat = {"linux_x86_64": "linux_i686", "linux_aarch64": "linux_armv8l"}.get(plat, plat)
    arch = plat[len("linux_"):]
    archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
    # packaging >= 26.3 puts the native linux_* tags first, then manylinux, then musllinux.
    tags = ["linux_" + a for a in archs]
    tags += manylinux_tags(archs)
    musl = musl_version()
    if musl:
        for a in archs:
            tags += ["musllinux_%d_%d_%s" % (musl[0], minor, a) for minor in range(musl[1], -1, -1)]
    return tags


# --- Apple, Android, Emscripten, everything else ---------------------------------------


def mac_formats(version, arch):
    """Binary formats a macOS `version` accepts for `arch`, best first."""
    formats = [arch]
    if arch in ("x86_64", "i386"):
        if version < (10, 4):
            return []
        formats += ["intel", "fat64", "fat3"] if arch == "x86_64" else ["intel", "fat3", "fat"]
    elif arch == "ppc64":
        if not (10, 4) <= version <= (10, 5):
            return []
        formats.append("fat64")
    elif arch == "ppc":
        if version > (10, 6):
            return []
        formats += ["fat3", "fat"]
    if arch in ("arm64", "x86_64"):
        formats.append("universal2")
    if arch in ("x86_64", "i386", "ppc64", "ppc", "intel"):
        formats.append("universal")
    return formats


def mac_platforms():
    release, _, machine = platform.mac_ver()
    version = tuple(int(part) for part in release.split(".")[:2])
    if version == (10, 16):
        # Interpreters built against an old SDK see 10.16; ask without the compat shim.
        env = dict(os.environ, SYSTEM_VERSION_COMPAT="0")
        release = subprocess.run(
            [sys.executable, "-sS", "-c", "import platform; print(platform.mac_ver()[0])"],
            stdout=subprocess.PIPE, universal_newlines=True, env=env, check=True,
        ).stdout
        version = tuple(int(part) for part in release.split(".")[:2])
    arch = machine
    if IS_32BIT:
        arch = "ppc" if machine.startswith("ppc") else "i386"
    tags = []
    if (10, 0) <= version < (11, 0):
        for minor in range(version[1], -1, -1):
            tags += ["macosx_10_%d_%s" % (minor, fmt) for fmt in mac_formats((10, minor), arch)]
    if version >= (11, 0):
        # From macOS 11 on, the major number is the yearly release and the minor is 0.
        for major in range(version[0], 10, -1):
            tags += ["macosx_%d_0_%s" % (major, fmt) for fmt in mac_formats((major, 0), arch)]
        # 10.x binaries still run: all formats on x86_64, universal2 (x86_64 half) on arm64.
        for minor in range(16, 3, -1):
            if arch == "x86_64":
                tags += ["macosx_10_%d_%s" % (minor, fmt) for fmt in mac_formats((10, minor), arch)]
            else:
                tags.append("macosx_10_%d_universal2" % minor)
    return tags


def ios_platforms():
    release = platform.ios_ver().release
    major, minor = (int(part) for part in release.split(".")[:2])
    multiarch = sys.implementation._multiarch.replace("-", "_")
    if major < 12:
        return []
    versions = [(major, m) for m in range(minor, -1, -1)]
    versions += [(older, m) for older in range(major - 1, 11, -1) for m in range(9, -1, -1)]
    return ["ios_%d_%d_%s" % (a, b, multiarch) for a, b in versions]


def android_platforms():
    level = platform.android_ver().api_level
    abi = underscore(sysconfig.get_platform().split("-")[-1])
    return ["android_%d_%s" % (api, abi) for api in range(level, 15, -1)]


def platform_tags():
    system = platform.system()
    if system == "Darwin":
        return mac_platforms()
    if system == "iOS":
        return ios_platforms()
    if system == "Android":
        return android_platforms()
    if system == "Linux":
        return linux_platforms()
    tags = []
    if system == "Emscripten" and config("PYEMSCRIPTEN_PLATFORM_VERSION"):
        tags.append("pyemscripten_%s_wasm32" % config("PYEMSCRIPTEN_PLATFORM_VERSION"))
    return tags + [underscore(sysconfig.get_platform())]


# --- Interpreter and ABI tags (PEP 425, PEP 3149 ABI flags) ----------------------------


def cpython_abis(version):
    """The version-specific CPython ABIs, best first (e.g. cp311, cp37m, cp313t, cp38d)."""
    py_debug = config("Py_DEBUG")
    debug = "d" if py_debug or (
        py_debug is None and (hasattr(sys, "gettotalrefcount") or "_d.pyd" in EXTENSION_SUFFIXES)
    ) else ""
    threading = "t" if version >= (3, 13) and config("Py_GIL_DISABLED") else ""
    pymalloc = ucs4 = ""
    if version < (3, 8):
        with_pymalloc = config("WITH_PYMALLOC")
        pymalloc = "m" if with_pymalloc or with_pymalloc is None else ""
        if version < (3, 3):
            size = config("Py_UNICODE_SIZE")
            ucs4 = "u" if size == 4 or (size is None and sys.maxunicode == 0x10FFFF) else ""
    base = "cp" + nodot(version)
    abis = [base + threading + debug + pymalloc + ucs4]
    if version >= (3, 8) and debug:
        abis.append(base + threading)  # debug builds load release extensions too
    return abis


def generic_abis():
    """The ABI named by EXT_SUFFIX (`.pypy310-pp73-x86_64-linux-gnu.so` → pypy310_pp73)."""
    suffix = config("EXT_SUFFIX")
    if not isinstance(suffix, str) or not suffix.startswith("."):
        raise SystemError("invalid sysconfig.get_config_var('EXT_SUFFIX')")
    parts = suffix.split(".")
    if len(parts) < 3:
        return cpython_abis(sys.version_info[:2])  # old Windows CPython: plain ".pyd"
    soabi = parts[1]
    if soabi.startswith("cpython"):
        pieces = soabi.split("-")
        if len(pieces) < 2 or not pieces[1]:
            raise SystemError("invalid sysconfig.get_config_var('EXT_SUFFIX')")
        abi = "cp" + pieces[1]
    elif soabi.startswith("cp"):
        abi = soabi.split("-")[0]
    elif soabi.startswith("pypy"):
        abi = "-".join(soabi.split("-")[:2])
    elif soabi.startswith("graalpy"):
        abi = "-".join(soabi.split("-")[:3])
    elif soabi:
        abi = soabi
    else:
        return []
    return [underscore(abi)]


def interpreter_version():
    return str(config("py_version_nodot") or "") or nodot(sys.version_info[:2])


def sys_tags():
    """Supported tags, most preferred first, as (python, abi, platform) triples."""
    name = SHORT_NAMES.get(sys.implementation.name) or sys.implementation.name
    version = tuple(sys.version_info[:2])
    platforms = platform_tags()
    tags = []
    if name == "cp":
        interpreter = "cp" + nodot(version)
        abis = cpython_abis(version)
        # A free-threaded build (abi flag "t") uses the abi3t stable ABI instead of abi3.
        threaded = "t" in abis[0][len(interpreter):]
        stable = "abi3t" if threaded else "abi3"
        for abi in abis:
            if abi not in ("abi3", "abi3t", "none"):
                tags += [(interpreter, abi, p) for p in platforms]
        tags += [(interpreter, stable, p) for p in platforms]
        tags += [(interpreter, "none", p) for p in platforms]
        # Stable-ABI wheels built for an older 3.x (down to 3.2, PEP 384) still load.
        for minor in range(version[1] - 1, 1, -1):
            tags += [("cp%d%d" % (version[0], minor), stable, p) for p in platforms]
        own = "cp" + interpreter_version()
    else:
        interpreter = name + interpreter_version()
        abis = generic_abis()
        if "none" not in abis:
            abis.append("none")
        for abi in abis:
            tags += [(interpreter, abi, p) for p in platforms]
        own = "pp3" if name == "pp" else None
    pythons = ["py" + nodot(version), "py%d" % version[0]]
    pythons += ["py%d%d" % (version[0], minor) for minor in range(version[1] - 1, -1, -1)]
    for python in pythons:
        tags += [(python, "none", p) for p in platforms]
    if own:
        tags.append((own, "none", "any"))
    tags += [(python, "none", "any") for python in pythons]
    return interpreter, ["-".join(tag).lower() for tag in tags]


def main():
    interpreter, tags = sys_tags()
    info = sys.version_info
    result = {
        "markers": markers(),
        "sys_executable": sys.executable,
        "sys_prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "version_info": [info.major, info.minor, info.micro, info.releaselevel, info.serial],
        "interpreter_tag": interpreter,
        "tags": tags,
    }
    sys.stdout.write("\n" + json.dumps(result) + "\n")


main()
