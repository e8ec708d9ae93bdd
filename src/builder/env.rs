//! Build environments: a minimal virtual environment per (interpreter, exact wheel set), made by
//! unpacking wheels (PEP 427) — no pip, no package code runs — and shared read-only by every
//! build that needs the same set.
//!
//! The environment is a venv in all but name (`pyvenv.cfg` with
//! `include-system-site-packages = false`, `bin/python` linking the base interpreter), so a
//! backend that starts `sys.executable` in a subprocess also stays away from the base
//! interpreter's site-packages.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::interpreter::Interpreter;

/// A wheel to install, already hash-verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvWheel {
    pub path: PathBuf,
    pub sha256: String,
}

/// A wheel installed into a build environment, as provenance records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstalledWheel {
    /// The wheel's file name (its name in the wheel source).
    pub filename: String,
    /// sha256 of the file that was unpacked (verified before installing).
    pub sha256: String,
}

/// A ready build environment.
#[derive(Debug, Clone)]
pub struct BuildEnv {
    pub root: PathBuf,
    pub python: PathBuf,
    pub site_packages: PathBuf,
    pub bin: PathBuf,
    /// Every wheel installed into it, in file-name order.
    pub installed: Vec<InstalledWheel>,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("build environment {}: {what}: {source}", root.display())]
    Io {
        root: PathBuf,
        what: String,
        source: io::Error,
    },
    #[error("cannot install {wheel} into a build environment: {message}")]
    Wheel { wheel: String, message: String },
}

/// sha256 over the interpreter (path and version) and the sorted wheel hashes.
pub fn env_key(interpreter: &Interpreter, wheels: &[EnvWheel]) -> String {
    let mut hashes: Vec<&str> = wheels.iter().map(|w| w.sha256.as_str()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    let mut h = Sha256::new();
    h.update(interpreter.executable.as_os_str().as_encoded_bytes());
    h.update(b"\0");
    h.update(
        interpreter
            .markers
            .python_full_version()
            .to_string()
            .as_bytes(),
    );
    for hash in hashes {
        h.update(b"\0");
        h.update(hash.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Return the environment for `wheels`, creating it under `<cache>/build-envs/<key>/` if needed.
/// Creation is atomic: built in a temporary sibling and renamed; a lost race uses the winner.
pub fn provision_env(
    cache_dir: &Path,
    interpreter: &Interpreter,
    wheels: &[EnvWheel],
) -> Result<BuildEnv, EnvError> {
    let envs = cache_dir.join("build-envs");
    let key = env_key(interpreter, wheels);
    let root = envs.join(&key);
    let layout = Layout::new(&root, interpreter);
    let installed = installed(wheels);
    if root.join("pyvenv.cfg").is_file() {
        return Ok(layout.env(installed));
    }
    let io_err = |what: &str| {
        let root = root.clone();
        let what = what.to_string();
        move |source| EnvError::Io { root, what, source }
    };
    fs::create_dir_all(&envs).map_err(io_err("create build-envs dir"))?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".tmp-{}-", &key[..16]))
        .tempdir_in(&envs)
        .map_err(io_err("create temporary dir"))?;
    // Paths written into files (shebangs) name the final location, not the temporary one.
    let staging = Layout::new(tmp.path(), interpreter);
    staging
        .create(interpreter)
        .map_err(io_err("create venv layout"))?;
    for wheel in wheels {
        install_wheel(&wheel.path, &staging, &layout)?;
    }
    set_tree_readable(tmp.path()).map_err(io_err("set permissions"))?;
    let tmp_path = tmp.keep();
    match fs::rename(&tmp_path, &root) {
        Ok(()) => {}
        // Someone else finished first: theirs is identical by construction.
        Err(_) if root.join("pyvenv.cfg").is_file() => {
            let _ = fs::remove_dir_all(&tmp_path);
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp_path);
            return Err(io_err("rename into place")(e));
        }
    }
    Ok(layout.env(installed))
}

/// What `wheels` put into an environment: the key covers exactly these hashes, so a cached
/// environment holds the same files.
fn installed(wheels: &[EnvWheel]) -> Vec<InstalledWheel> {
    let mut out: Vec<InstalledWheel> = wheels
        .iter()
        .map(|w| InstalledWheel {
            filename: w
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256: w.sha256.clone(),
        })
        .collect();
    out.sort_by(|a, b| a.filename.cmp(&b.filename).then(a.sha256.cmp(&b.sha256)));
    out.dedup();
    out
}

/// Where things go in an environment rooted at `root`.
struct Layout {
    root: PathBuf,
    bin: PathBuf,
    site_packages: PathBuf,
    include: PathBuf,
}

impl Layout {
    fn new(root: &Path, interpreter: &Interpreter) -> Self {
        let (major, minor) = interpreter.python_version;
        Self {
            root: root.to_path_buf(),
            bin: root.join("bin"),
            site_packages: root.join(format!("lib/python{major}.{minor}/site-packages")),
            include: root.join(format!("include/site/python{major}.{minor}")),
        }
    }

    fn env(&self, installed: Vec<InstalledWheel>) -> BuildEnv {
        BuildEnv {
            root: self.root.clone(),
            python: self.bin.join("python"),
            site_packages: self.site_packages.clone(),
            bin: self.bin.clone(),
            installed,
        }
    }

    fn create(&self, interpreter: &Interpreter) -> io::Result<()> {
        fs::create_dir_all(&self.bin)?;
        fs::create_dir_all(&self.site_packages)?;
        let (major, minor) = interpreter.python_version;
        let base_bin = interpreter.base_prefix.join("bin");
        let versioned = base_bin.join(format!("python{major}.{minor}"));
        let target = if versioned.is_file() {
            versioned
        } else {
            fs::canonicalize(&interpreter.executable)?
        };
        for name in ["python", "python3", &format!("python{major}.{minor}")] {
            std::os::unix::fs::symlink(&target, self.bin.join(name))?;
        }
        fs::write(
            self.root.join("pyvenv.cfg"),
            format!(
                "home = {}\ninclude-system-site-packages = false\nversion = {}\n",
                base_bin.display(),
                interpreter.markers.python_full_version()
            ),
        )
    }
}

/// Unpack one wheel (PEP 427 "Installing a wheel"): root into site-packages (purelib and platlib
/// are the same directory here), `.data/<scheme>/` to the scheme's directory, console scripts
/// generated, `INSTALLER` written.
fn install_wheel(path: &Path, staging: &Layout, final_layout: &Layout) -> Result<(), EnvError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bad = |message: String| EnvError::Wheel {
        wheel: name.clone(),
        message,
    };
    let file = File::open(path).map_err(|e| bad(e.to_string()))?;
    let mut archive =
        zip::ZipArchive::new(io::BufReader::new(file)).map_err(|e| bad(e.to_string()))?;
    let mut dist_info: Option<String> = None;
    let mut entry_points: Option<String> = None;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| bad(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        let member = entry.name().map_err(|e| bad(e.to_string()))?.into_owned();
        let rel =
            safe_path(&member).ok_or_else(|| bad(format!("unsafe member path `{member}`")))?;
        let mut parts = rel.iter();
        let first = parts
            .next()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dest = if first.ends_with(".data") {
            let scheme = parts
                .next()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let rest: PathBuf = parts.collect();
            match scheme.as_str() {
                "purelib" | "platlib" => staging.site_packages.join(rest),
                "scripts" => staging.bin.join(rest),
                "headers" => staging
                    .include
                    .join(first.trim_end_matches(".data"))
                    .join(rest),
                "data" => staging.root.join(rest),
                other => return Err(bad(format!("unknown .data scheme `{other}` in `{member}`"))),
            }
        } else {
            if first.ends_with(".dist-info") {
                dist_info = Some(first.clone());
            }
            staging.site_packages.join(&rel)
        };
        let mut content = Vec::new();
        entry
            .read_to_end(&mut content)
            .map_err(|e| bad(format!("{member}: {e}")))?;
        if first.ends_with(".dist-info") && rel.file_name().is_some_and(|n| n == "entry_points.txt")
        {
            entry_points = Some(String::from_utf8_lossy(&content).into_owned());
        }
        let is_script = dest.starts_with(&staging.bin);
        if is_script && content.starts_with(b"#!python") {
            // PEP 427: `#!python` becomes the environment's interpreter.
            let rest = content
                .splitn(2, |b| *b == b'\n')
                .nth(1)
                .unwrap_or_default()
                .to_vec();
            content = format!("#!{}\n", final_layout.bin.join("python").display()).into_bytes();
            content.extend(rest);
        }
        let io = |e: io::Error| bad(format!("{member}: {e}"));
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io)?;
        }
        let mut out = File::create(&dest).map_err(io)?;
        out.write_all(&content).map_err(io)?;
        let executable = is_script || entry.unix_mode().is_some_and(|m| m & 0o111 != 0);
        set_mode(&dest, if executable { 0o755 } else { 0o644 }).map_err(io)?;
    }
    let dist_info = dist_info.ok_or_else(|| bad("no .dist-info directory".into()))?;
    let io = |e: io::Error| bad(e.to_string());
    fs::write(
        staging.site_packages.join(&dist_info).join("INSTALLER"),
        "wheelwright\n",
    )
    .map_err(io)?;
    if let Some(text) = entry_points {
        for (script, target) in console_scripts(&text) {
            let Some((module, func)) = target.split_once(':') else {
                continue;
            };
            let path = staging.bin.join(&script);
            let func = func.trim();
            let attr_root = func.split('.').next().unwrap_or(func);
            let body = format!(
                "#!{python}\nimport sys\nfrom {module} import {attr_root}\nif __name__ == \"__main__\":\n    sys.exit({func}())\n",
                python = final_layout.bin.join("python").display(),
                module = module.trim(),
            );
            fs::write(&path, body).map_err(io)?;
            set_mode(&path, 0o755).map_err(io)?;
        }
    }
    Ok(())
}

/// `[console_scripts]` entries of an entry_points.txt (extras in brackets are ignored).
fn console_scripts(text: &str) -> Vec<(String, String)> {
    let mut in_section = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[console_scripts]";
        } else if in_section && let Some((name, target)) = line.split_once('=') {
            let target = target.split('[').next().unwrap_or("").trim();
            let name = name.trim();
            if !name.is_empty() && !name.contains('/') {
                out.push((name.to_string(), target.to_string()));
            }
        }
    }
    out
}

fn safe_path(member: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(member).components() {
        match c {
            Component::Normal(c) => out.push(c),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty() && !member.contains('\\')).then_some(out)
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// Readable (and traversable) by everyone: the build runs as another uid and must not write.
fn set_tree_readable(root: &Path) -> io::Result<()> {
    set_mode(root, 0o755)?;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let ty = entry.file_type()?;
            if ty.is_dir() {
                set_mode(&entry.path(), 0o755)?;
                stack.push(entry.path());
            }
        }
    }
    Ok(())
}
