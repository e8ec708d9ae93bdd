//! The driver: reads files, follows `-r`/`-c`, and applies each logical line the way pip's
//! `parse_requirements` / `handle_line` does.

use std::path::{Path, PathBuf};

use super::entry::{self, Classified};
use super::error::{IncludeChain, Location, RequirementsError};
use super::lines::{self, LogicalLine};
use super::options::{self, LineOptions, Opt, Token};
use super::{
    Origin, ParsedRequirements, RequirementEntry, UnsupportedEntry, UnsupportedKind, Warning,
};

pub(crate) struct Parser<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    out: ParsedRequirements,
    /// Files being read: (canonical path for cycle detection, path for messages).
    stack: Vec<(PathBuf, PathBuf)>,
}

/// Options that only matter on a requirement line, or are applied while parsing.
fn is_requirement_option(opt: Opt) -> bool {
    matches!(
        opt,
        Opt::Hash | Opt::ConfigSettings | Opt::NoBinary | Opt::OnlyBinary
    )
}

impl<'a> Parser<'a> {
    pub(super) fn new(env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            env,
            out: ParsedRequirements::default(),
            stack: Vec::new(),
        }
    }

    pub(super) fn finish(self) -> ParsedRequirements {
        self.out
    }

    /// Reads and parses `path`; `from` is the `-r`/`-c` that named it.
    pub(super) fn parse_file(
        &mut self,
        path: &Path,
        constraint: bool,
        from: Option<Location>,
    ) -> Result<(), RequirementsError> {
        let io_error = |source| match &from {
            Some(at) => RequirementsError::ReadInclude {
                at: at.clone(),
                path: path.to_path_buf(),
                source,
            },
            None => RequirementsError::Read {
                path: path.to_path_buf(),
                source,
            },
        };
        let bytes = std::fs::read(path).map_err(io_error)?;
        let canonical = std::fs::canonicalize(path).map_err(io_error)?;
        let content = lines::decode(&bytes, path)?;
        self.stack.push((canonical, path.to_path_buf()));
        let result = self.parse_content(&content, path, constraint);
        self.stack.pop();
        result
    }

    pub(super) fn parse_root_str(
        &mut self,
        content: &str,
        path: &Path,
    ) -> Result<(), RequirementsError> {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| absolute(path));
        self.stack.push((canonical, path.to_path_buf()));
        let result = self.parse_content(content, path, false);
        self.stack.pop();
        result
    }

    fn parse_content(
        &mut self,
        content: &str,
        path: &Path,
        constraint: bool,
    ) -> Result<(), RequirementsError> {
        for line in lines::logical_lines(path, content, self.env) {
            self.handle_line(&line, constraint)?;
        }
        Ok(())
    }

    fn origin(line: &LogicalLine, byte: usize) -> Origin {
        Origin {
            file: line.file.clone(),
            line: line.line,
            column: line.pos(byte).column,
        }
    }

    fn warn(&mut self, line: &LogicalLine, byte: usize, message: String) {
        self.out.warnings.push(Warning {
            origin: Self::origin(line, byte),
            message,
        });
    }

    /// Warns about every option on the line that `keep` does not accept.
    fn warn_ignored(
        &mut self,
        line: &LogicalLine,
        opts: &LineOptions,
        keep: impl Fn(Opt) -> bool,
        why: &str,
    ) {
        for p in opts.parsed.iter().filter(|p| !keep(p.opt)) {
            let message = format!("`{}` is ignored {why} (pip ignores it too)", p.spelling);
            self.warn(line, p.start, message);
        }
    }

    fn handle_line(
        &mut self,
        line: &LogicalLine,
        constraint: bool,
    ) -> Result<(), RequirementsError> {
        let (args, opts_range) = options::break_args_options(&line.text);
        let args = trim_range(&line.text, args);
        let tokens = options::shlex_split(line, opts_range)?;
        let opts = options::parse_options(line, tokens, &mut self.out.options)?;
        for token in &opts.positional {
            let message = format!(
                "extra argument `{}` is ignored (pip ignores it too)",
                token.value
            );
            self.warn(line, token.start, message);
        }

        // pip's ParsedLine: a requirement part wins, then `-e`, then includes, then options.
        if !args.is_empty() {
            self.warn_ignored(line, &opts, is_requirement_option, "on a requirement line");
            let mut hashes = Vec::new();
            for value in opts.values(Opt::Hash) {
                hashes.push(options::parse_hash(line, value)?);
            }
            let mut config_settings = Vec::new();
            for value in opts.values(Opt::ConfigSettings) {
                config_settings.push(options::parse_config_setting(line, value)?);
            }
            let base_dir = line.file.parent().unwrap_or(Path::new("")).to_path_buf();
            let classified = entry::classify(line, args.clone(), &base_dir)?;
            let text = line.text[args.clone()].to_string();
            return self.push(
                line,
                args.start,
                text,
                classified,
                constraint,
                hashes,
                config_settings,
            );
        }
        if let Some(first) = opts.values(Opt::Editable).next().cloned() {
            self.warn_ignored(
                line,
                &opts,
                |o| {
                    matches!(
                        o,
                        Opt::Editable | Opt::ConfigSettings | Opt::NoBinary | Opt::OnlyBinary
                    )
                },
                "on an editable line",
            );
            for extra in opts.values(Opt::Editable).skip(1) {
                let message = format!(
                    "`-e {}` is ignored: pip reads only the first `-e` of a line",
                    extra.value
                );
                self.warn(line, extra.start, message);
            }
            let classified = Classified::Unsupported {
                kind: UnsupportedKind::Editable,
                name: None,
            };
            return self.push(
                line,
                first.start,
                first.value,
                classified,
                constraint,
                Vec::new(),
                Vec::new(),
            );
        }
        let include = opts
            .values(Opt::Requirement)
            .next()
            .map(|t| (t.clone(), false))
            .or_else(|| {
                opts.values(Opt::Constraint)
                    .next()
                    .map(|t| (t.clone(), true))
            });
        if let Some((token, nested_constraint)) = include {
            let chosen = opts
                .parsed
                .iter()
                .find(|p| p.value.as_ref() == Some(&token))
                .map(|p| p.start)
                .unwrap_or(token.start);
            for p in opts
                .parsed
                .iter()
                .filter(|p| p.start != chosen && !matches!(p.opt, Opt::NoBinary | Opt::OnlyBinary))
            {
                let message = format!(
                    "`{}` is ignored on a line that includes a file (pip reads only the first `-r`/`-c` of a line and nothing else)",
                    p.spelling
                );
                self.warn(line, p.start, message);
            }
            return self.include(line, chosen, &token, nested_constraint);
        }
        self.option_line(line, &opts);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        line: &LogicalLine,
        start: usize,
        text: String,
        classified: Classified,
        constraint: bool,
        hashes: Vec<super::HashDigest>,
        config_settings: Vec<(String, String)>,
    ) -> Result<(), RequirementsError> {
        if constraint && let Some(reason) = entry::constraint_problem(&classified) {
            return Err(RequirementsError::InvalidConstraint {
                at: super::location(line, start),
                text,
                reason: reason.to_string(),
            });
        }
        let origin = Self::origin(line, start);
        match classified {
            Classified::Requirement(requirement) => {
                let entry = RequirementEntry {
                    requirement: *requirement,
                    text,
                    origin,
                    hashes,
                    config_settings,
                };
                if constraint {
                    self.out.constraints.push(entry);
                } else {
                    self.out.requirements.push(entry);
                }
            }
            Classified::Unsupported { kind, name } => {
                self.out.unsupported.push(UnsupportedEntry {
                    origin,
                    text,
                    kind,
                    name,
                });
            }
        }
        Ok(())
    }

    /// pip's `_parse_and_recurse` for `-r`/`-c`: a path relative to the including file's directory.
    fn include(
        &mut self,
        line: &LogicalLine,
        option_start: usize,
        value: &Token,
        constraint: bool,
    ) -> Result<(), RequirementsError> {
        let at = super::location(line, option_start);
        let target = &value.value;
        let path = if let Some((scheme, _)) = target.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        {
            if !scheme.eq_ignore_ascii_case("file") {
                return Err(RequirementsError::RemoteInclude {
                    at,
                    url: redact(target),
                });
            }
            match url::Url::parse(target)
                .ok()
                .and_then(|u| u.to_file_path().ok())
            {
                Some(p) => p,
                None => {
                    return Err(RequirementsError::InvalidOptionValue {
                        at,
                        option: "-r".into(),
                        value: target.clone(),
                        reason: "not a valid `file:` URL; expected `file:///absolute/path`".into(),
                    });
                }
            }
        } else {
            line.file.parent().unwrap_or(Path::new("")).join(target)
        };
        if let Ok(canonical) = std::fs::canonicalize(&path)
            && let Some(i) = self.stack.iter().position(|(c, _)| *c == canonical)
        {
            let mut chain: Vec<PathBuf> = self.stack[i..].iter().map(|(_, p)| p.clone()).collect();
            chain.push(path);
            return Err(RequirementsError::IncludeCycle {
                at,
                chain: IncludeChain(chain),
            });
        }
        self.parse_file(&path, constraint, Some(at))
    }

    /// pip's `handle_option_line`, in pip's order (not the order written on the line).
    fn option_line(&mut self, line: &LogicalLine, opts: &LineOptions) {
        for p in opts
            .parsed
            .iter()
            .filter(|p| matches!(p.opt, Opt::Hash | Opt::ConfigSettings))
        {
            let message = format!(
                "`{}` on a line without a requirement is ignored",
                p.spelling
            );
            self.warn(line, p.start, message);
        }
        let o = &mut self.out.options;
        if opts.has(Opt::RequireHashes) {
            o.require_hashes = true;
        }
        for f in opts.values(Opt::UseFeature) {
            if !o.use_features.contains(&f.value) {
                o.use_features.push(f.value.clone());
            }
        }
        if opts.has(Opt::NoIndex) {
            o.no_index = true;
            o.index_url = None;
            o.extra_index_urls.clear();
        }
        let mut ignored = Vec::new();
        // optparse `store`: the last `-i` of the line wins.
        if let Some(url) = opts.values(Opt::IndexUrl).last() {
            if o.no_index {
                ignored.push((
                    url.start,
                    format!("`{}` is ignored because of `--no-index`", url.value),
                ));
            } else {
                // pip: `index_urls = [opts.index_url]` drops extra indexes of earlier lines.
                o.index_url = Some(url.value.clone());
                o.extra_index_urls.clear();
            }
        }
        for url in opts.values(Opt::ExtraIndexUrl) {
            if o.no_index {
                ignored.push((
                    url.start,
                    format!("`{}` is ignored because of `--no-index`", url.value),
                ));
            } else {
                o.extra_index_urls.push(url.value.clone());
            }
        }
        let mut find_links = opts.values(Opt::FindLinks);
        if let Some(first) = find_links.next() {
            o.find_links
                .push(resolve_find_links(&line.file, &first.value));
        }
        for extra in find_links {
            ignored.push((
                extra.start,
                format!(
                    "`{}` is ignored: pip uses only the first `-f` of a line",
                    extra.value
                ),
            ));
        }
        o.pre |= opts.has(Opt::Pre);
        o.prefer_binary |= opts.has(Opt::PreferBinary);
        o.trusted_hosts
            .extend(opts.values(Opt::TrustedHost).map(|t| t.value.clone()));
        for (start, message) in ignored {
            self.warn(line, start, message);
        }
    }
}

/// pip: `join(dirname(abspath(reqfile)), value)` if that exists, else the value unchanged.
fn resolve_find_links(file: &Path, value: &str) -> String {
    let dir = absolute(file)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let joined = dir.join(value);
    if joined.exists() {
        joined.to_string_lossy().into_owned()
    } else {
        value.to_string()
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Removes `user:password@` from a URL for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Shrinks `range` of `text` to exclude surrounding whitespace.
fn trim_range(text: &str, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let s = &text[range.clone()];
    let start = range.start + (s.len() - s.trim_start_matches(lines::is_space).len());
    let end = range.end - (s.len() - s.trim_end_matches(lines::is_space).len());
    if start >= end {
        start..start
    } else {
        start..end
    }
}
